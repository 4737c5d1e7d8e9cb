-- Stored neighbours (migration 80) per model: pairs are measured between one model's embeddings, so
-- gallery.image_neighbours and gallery.neighbour_pending gain model_id, and the triggers that keep them move from
-- gallery.image_gallery to gallery.image_embeddings.
--
-- What is stored, when it is refreshed and what it costs are as in migration 80, per model:
--   * an embedding written (INSERT, or an UPDATE that changes it): the image's neighbours among that model's
--     embeddings are found through that model's index, and each learns of the image;
--   * an embedding changed or deleted (new content, request_reembed, image deleted): pairs pointing at it are
--     dropped and their owners looked up again;
--   * more than 256 images in one statement, or a model without a valid vector index on its partition: queued in
--     gallery.neighbour_pending instead. gallery.fill_neighbours works through the active model's queue, then the
--     staged model's (when it has an index), so a staged model's pairs are ready when it is promoted.
-- Every probe is dynamic SQL with the model id and dimension as literals: the planner prunes to the model's
-- partition and orders by embedding::vector(N) <=> q, its index expression.

-- Loads pgvector's library in this session: until then its settings (hnsw.*, ivfflat.*) are unknown
-- placeholders, and a function's SET of one is refused to a non-superuser.
SELECT vector_dims('[1]'::vector);

ALTER TABLE gallery.image_neighbours ADD COLUMN model_id integer REFERENCES gallery.clip_models (id) ON DELETE CASCADE;
ALTER TABLE gallery.neighbour_pending ADD COLUMN model_id integer REFERENCES gallery.clip_models (id) ON DELETE CASCADE;

-- Migration 100 kept only pairs between the active model's embeddings.
UPDATE gallery.image_neighbours SET model_id = (SELECT m.id FROM gallery.clip_models m WHERE m.state = 'active');
UPDATE gallery.neighbour_pending SET model_id = (SELECT m.id FROM gallery.clip_models m WHERE m.state = 'active');

ALTER TABLE gallery.image_neighbours ALTER COLUMN model_id SET NOT NULL;
ALTER TABLE gallery.neighbour_pending ALTER COLUMN model_id SET NOT NULL;

ALTER TABLE gallery.image_neighbours DROP CONSTRAINT image_neighbours_pkey;
ALTER TABLE gallery.image_neighbours ADD PRIMARY KEY (model_id, image_id, neighbour_id);
ALTER TABLE gallery.neighbour_pending DROP CONSTRAINT neighbour_pending_pkey;
ALTER TABLE gallery.neighbour_pending ADD PRIMARY KEY (model_id, image_id);

DROP INDEX gallery.image_neighbours_distance_idx;
DROP INDEX gallery.image_neighbours_neighbour_idx;
DROP INDEX gallery.image_neighbours_image_distance_idx;
-- near_duplicates reads one model's pairs under a distance; the INCLUDE makes that an index-only scan.
CREATE INDEX image_neighbours_distance_idx ON gallery.image_neighbours (model_id, distance) INCLUDE (image_id, neighbour_id);
CREATE INDEX image_neighbours_neighbour_idx ON gallery.image_neighbours (model_id, neighbour_id);
-- An image's closest stored pair, asked on every write of one of its neighbours.
CREATE INDEX image_neighbours_image_distance_idx ON gallery.image_neighbours (model_id, image_id, distance);
-- The image foreign keys' cascades look rows up by image.
CREATE INDEX image_neighbours_image_idx ON gallery.image_neighbours (image_id);
CREATE INDEX neighbour_pending_image_idx ON gallery.neighbour_pending (image_id);

COMMENT ON TABLE gallery.image_neighbours IS
  'Stored nearest neighbours per (model, image) (nearest, plus any of the 10 nearest within near_duplicates.radius), kept by triggers on gallery.image_embeddings; read by gallery.near_duplicates for the active model.';
COMMENT ON TABLE gallery.neighbour_pending IS
  'Images whose stored neighbours for a model are missing or stale; gallery.fill_neighbours works through them.';

DROP FUNCTION gallery.refresh_or_queue_neighbours(bigint[]);
DROP FUNCTION gallery.refresh_neighbours(bigint[]);
DROP FUNCTION gallery.has_vector_index();

-- True when the model's partition has a valid vector index: without one a neighbour probe is a full scan.
CREATE FUNCTION gallery.has_vector_index(model_id integer)
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
    WHERE i.indrelid = to_regclass('gallery.image_embeddings_m' || has_vector_index.model_id)
      AND i.indisvalid
      AND am.amname IN ('hnsw', 'ivfflat'));
END;
$fn$;

COMMENT ON FUNCTION gallery.has_vector_index(integer) IS
  'Whether the model''s partition gallery.image_embeddings_m<id> has a valid HNSW or IVFFlat index (neighbour probes need one).';

-- Finds and stores the neighbours of the given images among the model's embeddings (one index probe each) and
-- tells each neighbour about the image; removes the images from the model's pending queue.
CREATE FUNCTION gallery.refresh_neighbours(model_id integer, ids bigint[])
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
  radius    real := gallery.neighbour_radius();
  dimension int;
  probed    int;
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN 0;
  END IF;
  SELECT m.dimension INTO dimension FROM gallery.clip_models m WHERE m.id = refresh_neighbours.model_id;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;

  PERFORM set_config(t.name, t.value, true) FROM gallery.search_tuning() t;

  DELETE FROM gallery.image_neighbours n WHERE n.model_id = refresh_neighbours.model_id AND n.image_id = ANY (ids);

  -- Forward pairs (image -> neighbour) and reverse ones (neighbour -> image) go in with one INSERT:
  -- two would each see the other's rows as conflicts of the same command.
  EXECUTE format($q$
    WITH found AS (
      SELECT a.image_id, b.image_id AS neighbour_id, b.distance,
             min(b.distance) OVER (PARTITION BY a.image_id) AS nearest
      FROM gallery.image_embeddings a
      CROSS JOIN LATERAL (
        SELECT c.image_id, (c.embedding::vector(%2$s) <=> a.embedding::vector(%2$s))::real AS distance
        FROM gallery.image_embeddings c
        WHERE c.model_id = %1$s
          AND c.image_id <> a.image_id
        ORDER BY c.embedding::vector(%2$s) <=> a.embedding::vector(%2$s)
        LIMIT 10
      ) b
      WHERE a.model_id = %1$s
        AND a.image_id = ANY ($1)
    ), kept AS (
      SELECT f.image_id, f.neighbour_id, f.distance
      FROM found f
      WHERE f.distance <= $2 OR f.distance = f.nearest
    ), reverse AS (
      SELECT k.neighbour_id AS image_id, k.image_id AS neighbour_id, k.distance
      FROM kept k
      WHERE k.distance <= $2
         OR k.distance < coalesce((SELECT min(m.distance) FROM gallery.image_neighbours m
                                   WHERE m.model_id = %1$s AND m.image_id = k.neighbour_id), 'infinity')
    ), pairs AS (
      SELECT DISTINCT ON (p.image_id, p.neighbour_id) p.image_id, p.neighbour_id, p.distance
      FROM (SELECT * FROM kept UNION ALL SELECT * FROM reverse) p
      ORDER BY p.image_id, p.neighbour_id
    )
    INSERT INTO gallery.image_neighbours (model_id, image_id, neighbour_id, distance)
    SELECT %1$s, p.image_id, p.neighbour_id, p.distance
    FROM pairs p
    ORDER BY p.image_id, p.neighbour_id  -- a steady lock order between concurrent writers
    ON CONFLICT (model_id, image_id, neighbour_id) DO UPDATE SET distance = EXCLUDED.distance
    $q$, refresh_neighbours.model_id, dimension)
    USING ids, radius;

  DELETE FROM gallery.neighbour_pending p WHERE p.model_id = refresh_neighbours.model_id AND p.image_id = ANY (ids);

  SELECT count(*) INTO probed
  FROM gallery.image_embeddings e
  WHERE e.model_id = refresh_neighbours.model_id AND e.image_id = ANY (ids);
  RETURN probed;
END;
$fn$;

COMMENT ON FUNCTION gallery.refresh_neighbours(integer, bigint[]) IS
  'Looks up and stores the neighbours of the given images among the model''s embeddings through its vector index (one probe each); returns how many had an embedding.';

-- Queues images for gallery.fill_neighbours, or refreshes them now when they are few and the model has an index.
CREATE FUNCTION gallery.refresh_or_queue_neighbours(model_id integer, ids bigint[])
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
  -- minutes, and without an index every probe would read the whole partition.
  IF cardinality(ids) <= 256 AND gallery.has_vector_index(model_id) THEN
    PERFORM gallery.refresh_neighbours(model_id, ids);
  ELSE
    INSERT INTO gallery.neighbour_pending (model_id, image_id)
    SELECT e.model_id, e.image_id
    FROM gallery.image_embeddings e
    WHERE e.model_id = refresh_or_queue_neighbours.model_id AND e.image_id = ANY (ids)
    ORDER BY e.image_id
    ON CONFLICT DO NOTHING;  -- no conflict target: model_id here would name the parameter
  END IF;
END;
$fn$;

COMMENT ON FUNCTION gallery.refresh_or_queue_neighbours(integer, bigint[]) IS
  'Refreshes the stored neighbours of up to 256 images of a model inline (when its partition has a vector index), else queues them in gallery.neighbour_pending.';

CREATE OR REPLACE FUNCTION gallery.track_neighbours()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  touched record;   -- per model: images whose embedding was written or changed
  owners  bigint[]; -- other images that held a pair pointing at one of them
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- New embeddings: nothing points at them yet (and a bulk load must not probe per id here).
    FOR touched IN
      SELECT n.model_id, array_agg(n.image_id ORDER BY n.image_id) AS changed
      FROM new_rows n
      GROUP BY n.model_id
    LOOP
      PERFORM gallery.refresh_or_queue_neighbours(touched.model_id, touched.changed);
    END LOOP;
    RETURN NULL;
  END IF;

  FOR touched IN
    SELECT n.model_id, array_agg(n.image_id ORDER BY n.image_id) AS changed
    FROM new_rows n
    JOIN old_rows o ON o.model_id = n.model_id AND o.image_id = n.image_id
    WHERE n.embedding IS DISTINCT FROM o.embedding
    GROUP BY n.model_id
  LOOP
    owners := gallery.forget_neighbours(touched.model_id, touched.changed);
    PERFORM gallery.refresh_or_queue_neighbours(touched.model_id, touched.changed || coalesce(owners, '{}'));
  END LOOP;
  RETURN NULL;
END;
$fn$;

-- A separate function for deletes: an AFTER DELETE trigger has no new_rows to name.
CREATE FUNCTION gallery.track_deleted_neighbours()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  touched record;
BEGIN
  FOR touched IN
    SELECT o.model_id, array_agg(o.image_id ORDER BY o.image_id) AS changed
    FROM old_rows o
    GROUP BY o.model_id
  LOOP
    PERFORM gallery.refresh_or_queue_neighbours(touched.model_id, gallery.forget_neighbours(touched.model_id, touched.changed));
  END LOOP;
  RETURN NULL;
END;
$fn$;

-- Drops the model's pairs measured against embeddings that are no longer there; returns the other images that
-- held such a pair (they need a new lookup).
CREATE FUNCTION gallery.forget_neighbours(model_id integer, changed bigint[])
RETURNS bigint[]
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  owners bigint[];
BEGIN
  DELETE FROM gallery.image_neighbours n WHERE n.model_id = forget_neighbours.model_id AND n.image_id = ANY (changed);
  WITH gone AS (
    DELETE FROM gallery.image_neighbours n
    WHERE n.model_id = forget_neighbours.model_id AND n.neighbour_id = ANY (changed)
    RETURNING n.image_id
  )
  SELECT array_agg(DISTINCT g.image_id) INTO owners
  FROM gone g
  WHERE NOT g.image_id = ANY (changed);
  RETURN owners;
END;
$fn$;

COMMENT ON FUNCTION gallery.track_neighbours() IS
  'Statement trigger on gallery.image_embeddings (insert, update): keeps gallery.image_neighbours true, per model, when embeddings are written or changed.';
COMMENT ON FUNCTION gallery.track_deleted_neighbours() IS
  'Statement trigger on gallery.image_embeddings (delete): drops pairs pointing at deleted embeddings and looks their owners up again.';
COMMENT ON FUNCTION gallery.forget_neighbours(integer, bigint[]) IS
  'Deletes a model''s stored pairs of or pointing at the given images; returns the other images that held such a pair.';

CREATE TRIGGER image_embeddings_neighbours_insert
  AFTER INSERT ON gallery.image_embeddings
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gallery.track_neighbours();

CREATE TRIGGER image_embeddings_neighbours_update
  AFTER UPDATE ON gallery.image_embeddings
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gallery.track_neighbours();

CREATE TRIGGER image_embeddings_neighbours_delete
  AFTER DELETE ON gallery.image_embeddings
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gallery.track_deleted_neighbours();

-- Works through up to `batch` queued images: the active model's first, then the staged model's (when it has an
-- index, so that its pairs are ready at promote). Returns how many it took off the queue.
CREATE OR REPLACE FUNCTION gallery.fill_neighbours(batch int DEFAULT 500)
RETURNS int
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  model gallery.clip_models;
  ids   bigint[];
BEGIN
  IF batch IS NULL OR batch < 1 OR batch > 10000 THEN
    RAISE EXCEPTION 'gallery.fill_neighbours: batch must be between 1 and 10000, not %', batch USING ERRCODE = 'invalid_parameter_value';
  END IF;

  FOR model IN
    SELECT m.* FROM gallery.clip_models m WHERE m.state IN ('active', 'staged') ORDER BY m.state = 'staged', m.id
  LOOP
    IF NOT gallery.has_vector_index(model.id) THEN
      IF model.state = 'staged' THEN
        CONTINUE;
      END IF;
      IF NOT EXISTS (SELECT 1 FROM gallery.neighbour_pending q WHERE q.model_id = model.id) THEN
        CONTINUE;
      END IF;
      RAISE EXCEPTION 'gallery.fill_neighbours: the active model''s embeddings (gallery.image_embeddings_m%) have no valid vector index, so each lookup would read them all', model.id
        USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Build it first: dbfirst index rebuild.';
    END IF;

    -- SKIP LOCKED: two fillers (the job and a --refresh) share the queue instead of waiting on each other.
    SELECT array_agg(p.image_id) INTO ids
    FROM (
      SELECT q.image_id FROM gallery.neighbour_pending q
      WHERE q.model_id = model.id
      ORDER BY q.image_id
      LIMIT batch
      FOR UPDATE SKIP LOCKED
    ) p;
    IF ids IS NOT NULL THEN
      PERFORM gallery.refresh_neighbours(model.id, ids);
      RETURN cardinality(ids);
    END IF;
  END LOOP;
  RETURN 0;
END;
$fn$;

COMMENT ON FUNCTION gallery.fill_neighbours(int) IS
  'Looks up the stored neighbours of up to `batch` queued images (gallery.neighbour_pending), the active model''s first, then the staged model''s; returns how many it took off the queue.';

REVOKE EXECUTE ON FUNCTION gallery.has_vector_index(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.refresh_neighbours(integer, bigint[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.refresh_or_queue_neighbours(integer, bigint[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.track_deleted_neighbours() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.forget_neighbours(integer, bigint[]) FROM PUBLIC;
