-- Near-duplicates kept incrementally. Migration 16 probed the vector index once per image on every
-- call of gallery.near_duplicates (about 100 s at 10^5 images). Here each image's neighbours are
-- found once, when its embedding is written, and stored; near_duplicates becomes an indexed read.
--
-- What is stored, per image with an embedding (gallery.image_neighbours):
--   * its nearest neighbour, whatever the distance, and
--   * every other image among its 10 nearest that lies within the radius (setting
--     near_duplicates.radius, default 0.05), so a group of copies yields all its pairs.
--   Every stored row is a true pair with its exact distance.
--
-- When it is refreshed (statement-level triggers on gallery.image_gallery, so every writer gets it):
--   * an embedding is written (INSERT, or UPDATE that changes it): the image's neighbours are found
--     through the vector index, and each of them learns of the image when it is within the radius or
--     closer than anything it knew;
--   * an embedding changes or is cleared, or an image is deleted: the pairs that pointed at it are
--     dropped and the images that held them are looked up again.
--   A statement touching more than 256 images, or a table without a valid vector index, queues the
--   images in gallery.neighbour_pending instead of probing inline; gallery.fill_neighbours(batch)
--   works through that queue (the maintain-index job, `dbfirst duplicates --refresh`).

CREATE TABLE gallery.image_neighbours (
  image_id     bigint NOT NULL REFERENCES gallery.image_gallery (id) ON DELETE CASCADE,
  -- No foreign key: the delete trigger must still see the rows pointing at a deleted image, to
  -- look their owners up again; it removes those rows itself.
  neighbour_id bigint NOT NULL,
  distance     real   NOT NULL,                   -- cosine distance between the two embeddings
  PRIMARY KEY (image_id, neighbour_id)
);

-- near_duplicates reads the pairs under a distance; the INCLUDE makes that an index-only scan.
CREATE INDEX image_neighbours_distance_idx ON gallery.image_neighbours (distance) INCLUDE (image_id, neighbour_id);
CREATE INDEX image_neighbours_neighbour_idx ON gallery.image_neighbours (neighbour_id);
-- An image's closest stored pair, asked on every write of one of its neighbours; without this index
-- the planner reads min(distance) off the distance index and filters by image (seconds per batch).
CREATE INDEX image_neighbours_image_distance_idx ON gallery.image_neighbours (image_id, distance);

COMMENT ON TABLE gallery.image_neighbours IS
  'Stored nearest neighbours per image (nearest, plus any of the 10 nearest within near_duplicates.radius), kept by triggers; read by gallery.near_duplicates.';

CREATE TABLE gallery.neighbour_pending (
  image_id  bigint      PRIMARY KEY REFERENCES gallery.image_gallery (id) ON DELETE CASCADE,
  queued_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE gallery.neighbour_pending IS
  'Images whose stored neighbours are missing or stale; gallery.fill_neighbours works through them.';

INSERT INTO gallery.settings (key, value, note) VALUES
  ('near_duplicates.radius', '0.05', 'cosine distance within which all of an image''s 10 nearest are stored as pairs (beyond it, only the nearest)')
ON CONFLICT (key) DO NOTHING;

-- The storage radius, readable by analysts who cannot read gallery.settings.
CREATE FUNCTION gallery.neighbour_radius()
RETURNS real
LANGUAGE plpgsql  -- not sql: PL/pgSQL keeps its plan, and this runs on every embedding write
STABLE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  RETURN coalesce((SELECT s.value::real FROM gallery.settings s WHERE s.key = 'near_duplicates.radius'), 0.05);
END;
$fn$;

COMMENT ON FUNCTION gallery.neighbour_radius() IS
  'Cosine distance within which gallery.image_neighbours holds all of an image''s 10 nearest (setting near_duplicates.radius).';

-- True when the table has a valid vector index: without one a neighbour probe is a full scan.
CREATE FUNCTION gallery.has_vector_index()
RETURNS boolean
LANGUAGE plpgsql  -- not sql: PL/pgSQL keeps its plan, and this runs on every embedding write
STABLE
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  RETURN EXISTS (
    SELECT 1
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
    WHERE i.indrelid = 'gallery.image_gallery'::regclass
      AND i.indisvalid
      AND am.amname IN ('hnsw', 'ivfflat'));
END;
$fn$;

COMMENT ON FUNCTION gallery.has_vector_index() IS
  'Whether gallery.image_gallery has a valid HNSW or IVFFlat index (neighbour probes need one).';

-- Finds and stores the neighbours of the given images (one index probe each) and tells each
-- neighbour about the image; removes the images from the pending queue.
CREATE FUNCTION gallery.refresh_neighbours(ids bigint[])
RETURNS int
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
SET hnsw.iterative_scan = off
SET ivfflat.iterative_scan = off
SET hnsw.ef_search = 40
SET ivfflat.probes = 1
AS $fn$
DECLARE
  radius real := gallery.neighbour_radius();
  probed int;
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN 0;
  END IF;

  PERFORM set_config(t.name, t.value, true) FROM gallery.search_tuning() t;

  DELETE FROM gallery.image_neighbours n WHERE n.image_id = ANY (ids);

  -- Forward pairs (image -> neighbour) and reverse ones (neighbour -> image) go in with one INSERT:
  -- two would each see the other's rows as conflicts of the same command.
  WITH found AS (
    SELECT a.id AS image_id, b.id AS neighbour_id, b.distance,
           min(b.distance) OVER (PARTITION BY a.id) AS nearest
    FROM gallery.image_gallery a
    CROSS JOIN LATERAL (
      SELECT c.id, (c.embedding <=> a.embedding)::real AS distance
      FROM gallery.image_gallery c
      WHERE c.embedding IS NOT NULL
        AND c.id <> a.id
      ORDER BY c.embedding <=> a.embedding
      LIMIT 10
    ) b
    WHERE a.id = ANY (ids)
      AND a.embedding IS NOT NULL
  ), kept AS (
    SELECT f.image_id, f.neighbour_id, f.distance
    FROM found f
    WHERE f.distance <= radius OR f.distance = f.nearest
  ), reverse AS (
    SELECT k.neighbour_id AS image_id, k.image_id AS neighbour_id, k.distance
    FROM kept k
    WHERE k.distance <= radius
       OR k.distance < coalesce((SELECT min(m.distance) FROM gallery.image_neighbours m WHERE m.image_id = k.neighbour_id), 'infinity')
  ), pairs AS (
    SELECT DISTINCT ON (p.image_id, p.neighbour_id) p.image_id, p.neighbour_id, p.distance
    FROM (SELECT * FROM kept UNION ALL SELECT * FROM reverse) p
    ORDER BY p.image_id, p.neighbour_id
  )
  INSERT INTO gallery.image_neighbours (image_id, neighbour_id, distance)
  SELECT p.image_id, p.neighbour_id, p.distance
  FROM pairs p
  ORDER BY p.image_id, p.neighbour_id  -- a steady lock order between concurrent writers
  ON CONFLICT (image_id, neighbour_id) DO UPDATE SET distance = EXCLUDED.distance;

  DELETE FROM gallery.neighbour_pending p WHERE p.image_id = ANY (ids);

  SELECT count(*) INTO probed FROM gallery.image_gallery g WHERE g.id = ANY (ids) AND g.embedding IS NOT NULL;
  RETURN probed;
END;
$fn$;

COMMENT ON FUNCTION gallery.refresh_neighbours(bigint[]) IS
  'Looks up and stores the neighbours of the given images through the vector index (one probe each); returns how many had an embedding.';

-- Queues images for gallery.fill_neighbours, or refreshes them now when they are few and an index exists.
CREATE FUNCTION gallery.refresh_or_queue_neighbours(ids bigint[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  -- 256 probes cost about half a second: more than that would slow a bulk load statement by
  -- minutes, and without an index every probe would read the whole table.
  IF cardinality(ids) <= 256 AND gallery.has_vector_index() THEN
    PERFORM gallery.refresh_neighbours(ids);
  ELSE
    INSERT INTO gallery.neighbour_pending (image_id)
    SELECT g.id FROM gallery.image_gallery g WHERE g.id = ANY (ids) AND g.embedding IS NOT NULL
    ORDER BY g.id
    ON CONFLICT (image_id) DO NOTHING;
  END IF;
END;
$fn$;

COMMENT ON FUNCTION gallery.refresh_or_queue_neighbours(bigint[]) IS
  'Refreshes the stored neighbours of up to 256 images inline (when a vector index exists), else queues them in gallery.neighbour_pending.';

CREATE FUNCTION gallery.track_neighbours()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  changed bigint[];   -- images whose embedding was written, changed or removed
  owners  bigint[];   -- other images that held a pair pointing at one of them
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(n.id) INTO changed FROM new_rows n WHERE n.embedding IS NOT NULL;
  ELSIF TG_OP = 'UPDATE' THEN
    SELECT array_agg(n.id) INTO changed
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.embedding IS DISTINCT FROM o.embedding;
  ELSE
    SELECT array_agg(o.id) INTO changed FROM old_rows o;
  END IF;
  IF changed IS NULL THEN
    RETURN NULL;
  END IF;

  IF TG_OP = 'INSERT' THEN
    -- New images: nothing points at them yet (and a bulk load must not probe per id here).
    PERFORM gallery.refresh_or_queue_neighbours(changed);
    RETURN NULL;
  END IF;

  -- Pairs measured against an embedding that is no longer there are wrong now.
  DELETE FROM gallery.image_neighbours n WHERE n.image_id = ANY (changed);
  WITH gone AS (
    DELETE FROM gallery.image_neighbours n
    WHERE n.neighbour_id = ANY (changed)
    RETURNING n.image_id
  )
  SELECT array_agg(DISTINCT g.image_id) INTO owners
  FROM gone g
  WHERE NOT g.image_id = ANY (changed);

  IF TG_OP = 'DELETE' THEN
    PERFORM gallery.refresh_or_queue_neighbours(owners);
  ELSE
    PERFORM gallery.refresh_or_queue_neighbours(changed || coalesce(owners, '{}'));
  END IF;
  RETURN NULL;
END;
$fn$;

COMMENT ON FUNCTION gallery.track_neighbours() IS
  'Statement trigger on gallery.image_gallery: keeps gallery.image_neighbours true when embeddings are written, changed or deleted.';

CREATE TRIGGER image_gallery_neighbours_insert
  AFTER INSERT ON gallery.image_gallery
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gallery.track_neighbours();

CREATE TRIGGER image_gallery_neighbours_update
  AFTER UPDATE ON gallery.image_gallery
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gallery.track_neighbours();

CREATE TRIGGER image_gallery_neighbours_delete
  AFTER DELETE ON gallery.image_gallery
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gallery.track_neighbours();

-- Works through up to `batch` queued images; returns how many it took off the queue.
CREATE FUNCTION gallery.fill_neighbours(batch int DEFAULT 500)
RETURNS int
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  ids bigint[];
BEGIN
  IF batch IS NULL OR batch < 1 OR batch > 10000 THEN
    RAISE EXCEPTION 'gallery.fill_neighbours: batch must be between 1 and 10000, not %', batch USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT gallery.has_vector_index() THEN
    RAISE EXCEPTION 'gallery.fill_neighbours: gallery.image_gallery has no valid vector index, so each lookup would read the whole table'
      USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Build it first: dbfirst index rebuild.';
  END IF;

  -- SKIP LOCKED: two fillers (the job and a --refresh) share the queue instead of waiting on each other.
  SELECT array_agg(p.image_id) INTO ids
  FROM (
    SELECT q.image_id FROM gallery.neighbour_pending q
    ORDER BY q.image_id
    LIMIT batch
    FOR UPDATE SKIP LOCKED
  ) p;
  IF ids IS NULL THEN
    RETURN 0;
  END IF;

  PERFORM gallery.refresh_neighbours(ids);
  RETURN cardinality(ids);
END;
$fn$;

COMMENT ON FUNCTION gallery.fill_neighbours(int) IS
  'Looks up the stored neighbours of up to `batch` images queued in gallery.neighbour_pending; returns how many it took off the queue.';

-- Same signature and columns as migration 16; now a read of the stored pairs.
CREATE OR REPLACE FUNCTION gallery.near_duplicates(
  max_distance real DEFAULT 0.01,
  neighbours   int  DEFAULT 10,
  folder       text DEFAULT NULL)
RETURNS TABLE (id_a bigint, id_b bigint, distance real)
LANGUAGE plpgsql
STABLE
SET search_path = gallery, public, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  prefix    text := CASE WHEN folder IS NULL OR right(folder, 1) = '/' THEN folder ELSE folder || '/' END;
  uncovered bigint;
  radius    real := gallery.neighbour_radius();
BEGIN
  IF max_distance IS NULL OR max_distance < 0 OR max_distance > 2 THEN
    RAISE EXCEPTION 'gallery.near_duplicates: max_distance must be between 0 and 2, not %', max_distance USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF neighbours IS NULL OR neighbours < 1 OR neighbours > 100 THEN
    RAISE EXCEPTION 'gallery.near_duplicates: neighbours must be between 1 and 100, not %', neighbours USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Say what the answer cannot contain rather than miss pairs silently.
  SELECT count(*) INTO uncovered
  FROM gallery.neighbour_pending p
  JOIN gallery.image_gallery g ON g.id = p.image_id
  WHERE g.embedding IS NOT NULL
    AND (prefix IS NULL OR starts_with(g.path, prefix));
  IF uncovered > 0 THEN
    RAISE NOTICE 'gallery.near_duplicates: % image(s) have no stored neighbours yet, so pairs between them may be missing', uncovered
      USING HINT = 'dbfirst duplicates --refresh (or SELECT gallery.fill_neighbours() until it returns 0) looks them up.';
  END IF;
  IF max_distance > radius THEN
    RAISE NOTICE 'gallery.near_duplicates: beyond the stored radius % only each image''s nearest neighbour is known', radius
      USING HINT = 'Raise near_duplicates.radius in gallery.settings, then queue the images again to store more pairs.';
  END IF;

  RETURN QUERY
  SELECT least(n.image_id, n.neighbour_id), greatest(n.image_id, n.neighbour_id), min(n.distance)::real AS distance
  FROM (
    SELECT s.image_id, s.neighbour_id, s.distance,
           row_number() OVER (PARTITION BY s.image_id ORDER BY s.distance, s.neighbour_id) AS r
    FROM gallery.image_neighbours s
    WHERE s.distance <= max_distance
  ) n
  JOIN gallery.image_gallery a ON a.id = n.image_id
  JOIN gallery.image_gallery b ON b.id = n.neighbour_id
  WHERE n.r <= neighbours
    AND (prefix IS NULL OR (starts_with(a.path, prefix) AND starts_with(b.path, prefix)))
  GROUP BY 1, 2
  ORDER BY 3, 1, 2;
END;
$fn$;

COMMENT ON FUNCTION gallery.near_duplicates(real, int, text) IS
  'Pairs (id_a < id_b) of images within max_distance (cosine) of each other, read from the stored neighbours (gallery.image_neighbours; at most `neighbours` per image); NOTICEs say what is not covered yet.';

REVOKE EXECUTE ON FUNCTION gallery.neighbour_radius() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.has_vector_index() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.refresh_neighbours(bigint[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.refresh_or_queue_neighbours(bigint[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.track_neighbours() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.fill_neighbours(int) FROM PUBLIC;

GRANT SELECT ON gallery.image_neighbours, gallery.neighbour_pending TO gallery_analyst;
GRANT EXECUTE ON FUNCTION gallery.neighbour_radius() TO gallery_analyst;
GRANT EXECUTE ON FUNCTION gallery.fill_neighbours(int) TO gallery_operator;

-- Existing galleries: queue every embedded image (seconds even at 10^6 rows); the maintain-index
-- job and `dbfirst duplicates --refresh` look them up in bounded batches.
INSERT INTO gallery.neighbour_pending (image_id)
SELECT g.id FROM gallery.image_gallery g WHERE g.embedding IS NOT NULL;
