-- Back to migration 80's stored neighbours, one set for the whole table: the active model's pairs stay, other
-- models' pairs and queue entries go (migration 100's down step puts the triggers back on gallery.image_gallery).
-- Loads pgvector's library in this session: a function's SET of its settings is refused to a non-superuser until then.
SELECT vector_dims('[1]'::vector);

DROP TRIGGER image_embeddings_neighbours_insert ON gallery.image_embeddings;
DROP TRIGGER image_embeddings_neighbours_update ON gallery.image_embeddings;
DROP TRIGGER image_embeddings_neighbours_delete ON gallery.image_embeddings;
DROP FUNCTION gallery.track_deleted_neighbours();
DROP FUNCTION gallery.forget_neighbours(integer, bigint[]);
DROP FUNCTION gallery.refresh_or_queue_neighbours(integer, bigint[]);
DROP FUNCTION gallery.refresh_neighbours(integer, bigint[]);
DROP FUNCTION gallery.has_vector_index(integer);

DELETE FROM gallery.image_neighbours n
WHERE n.model_id IS DISTINCT FROM (SELECT m.id FROM gallery.clip_models m WHERE m.state = 'active');
DELETE FROM gallery.neighbour_pending n
WHERE n.model_id IS DISTINCT FROM (SELECT m.id FROM gallery.clip_models m WHERE m.state = 'active');

DROP INDEX gallery.image_neighbours_distance_idx;
DROP INDEX gallery.image_neighbours_neighbour_idx;
DROP INDEX gallery.image_neighbours_image_distance_idx;
DROP INDEX gallery.image_neighbours_image_idx;
DROP INDEX gallery.neighbour_pending_image_idx;
ALTER TABLE gallery.image_neighbours DROP CONSTRAINT image_neighbours_pkey;
ALTER TABLE gallery.neighbour_pending DROP CONSTRAINT neighbour_pending_pkey;
ALTER TABLE gallery.image_neighbours DROP COLUMN model_id;
ALTER TABLE gallery.neighbour_pending DROP COLUMN model_id;
ALTER TABLE gallery.image_neighbours ADD PRIMARY KEY (image_id, neighbour_id);
ALTER TABLE gallery.neighbour_pending ADD PRIMARY KEY (image_id);
CREATE INDEX image_neighbours_distance_idx ON gallery.image_neighbours (distance) INCLUDE (image_id, neighbour_id);
CREATE INDEX image_neighbours_neighbour_idx ON gallery.image_neighbours (neighbour_id);
CREATE INDEX image_neighbours_image_distance_idx ON gallery.image_neighbours (image_id, distance);

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

CREATE OR REPLACE FUNCTION gallery.track_neighbours()
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

CREATE OR REPLACE FUNCTION gallery.fill_neighbours(batch int DEFAULT 500)
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

REVOKE EXECUTE ON FUNCTION gallery.has_vector_index() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.refresh_neighbours(bigint[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.refresh_or_queue_neighbours(bigint[]) FROM PUBLIC;
