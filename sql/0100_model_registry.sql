-- The model registry: embeddings leave gallery.image_gallery for a table keyed by (model, image).
--
-- Why: a gallery's `embedding vector(512)` column held one model's vectors (a model of another dimension could
-- not be stored at all), and every search ranked rows of whatever model had written them against one query.
-- Now:
--   gallery.clip_models       one row per CLIP model: name (the embedder's ModelName), dimension, source folder
--                             and layout, state active / staged / retired (at most one active, one staged).
--   gallery.image_embeddings  (model_id, image_id, embedding), LIST-partitioned by model: one partition per model,
--                             gallery.image_embeddings_m<id>, whose column is the untyped `vector` (any dimension)
--                             with a CHECK on the model's dimension. Each model's vector index is an expression
--                             index on its partition, USING hnsw ((embedding::vector(N)) vector_cosine_ops): the
--                             pattern pgvector's README gives for mixed dimensions. A query that names the model
--                             (a literal model_id, so the planner prunes to one partition) and orders by
--                             embedding::vector(N) <=> q uses that model's index and never sees another model's rows.
--   gallery.embedding_pending (model_id, image_id): what each registered model still has to embed, kept by
--                             triggers so a claim is an index range scan at any size (no anti-join per claim):
--                               * a new image is pending for every registered model;
--                               * an embedding written removes its pending row;
--                               * an embedding deleted (new content, request_reembed) makes it pending again.
--                             Invariant, per registered model: embedded + pending = every image.
--
-- Retry state (embed_attempts, embed_error, ...) stays on gallery.image_gallery: it describes the file, which every
-- model reads the same way.
--
-- Existing galleries: the model that embedded the most rows becomes the active model (source NULL: each worker's
-- configured --model), every other model found becomes a retired model with its embeddings kept (and pending for
-- the active one). The vectors are copied, not recomputed; the managed index is rebuilt on the active model's
-- partition with the same method and parameters (a one-off build inside this migration); retired models get none.
-- A model registered later gets migration 3's HNSW index on its new, empty partition.

CREATE TABLE gallery.clip_models (
  id            integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text        NOT NULL UNIQUE,     -- what the embedder reports as ModelName (config.json model_name)
  dimension     integer     NOT NULL CHECK (dimension BETWEEN 1 AND 16000),
  source        text,                            -- model folder as registered; NULL = each worker's configured --model
  layout        text        CHECK (layout IN ('immich', 'huggingface')),
  state         text        NOT NULL CHECK (state IN ('active', 'staged', 'retired')),
  registered_at timestamptz NOT NULL DEFAULT now(),
  activated_at  timestamptz,
  retired_at    timestamptz
);

-- At most one active and one staged model, enforced by the server rather than by every caller.
CREATE UNIQUE INDEX clip_models_one_active ON gallery.clip_models (state) WHERE state = 'active';
CREATE UNIQUE INDEX clip_models_one_staged ON gallery.clip_models (state) WHERE state = 'staged';

COMMENT ON TABLE gallery.clip_models IS
  'CLIP models known to the gallery: one active (searched), at most one staged (being backfilled), the rest retired (embeddings kept until dropped).';

CREATE TABLE gallery.image_embeddings (
  model_id    integer     NOT NULL REFERENCES gallery.clip_models (id),
  image_id    bigint      NOT NULL REFERENCES gallery.image_gallery (id) ON DELETE CASCADE,
  embedding   vector      NOT NULL,            -- untyped: each partition checks its model's dimension
  embedded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_id, image_id)
) PARTITION BY LIST (model_id);

-- Inline (as migration 19 did for the old column): a 512-d vector just exceeds the TOAST threshold, and out of line
-- the planner costs a sequential scan by the small main table and prefers it to the vector index.
ALTER TABLE gallery.image_embeddings ALTER COLUMN embedding SET STORAGE PLAIN;

COMMENT ON TABLE gallery.image_embeddings IS
  'CLIP image embeddings, one row per (model, image); one partition per model (image_embeddings_m<id>), each with its own vector index on embedding::vector(dimension).';

CREATE TABLE gallery.embedding_pending (
  model_id  integer     NOT NULL REFERENCES gallery.clip_models (id) ON DELETE CASCADE,
  image_id  bigint      NOT NULL REFERENCES gallery.image_gallery (id) ON DELETE CASCADE,
  queued_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_id, image_id)
);

-- The foreign key's cascade on image delete looks rows up by image.
CREATE INDEX embedding_pending_image_idx ON gallery.embedding_pending (image_id);

COMMENT ON TABLE gallery.embedding_pending IS
  'Images each registered model has not embedded yet, kept by triggers; embedding claims read it in (model_id, image_id) order.';

-- The active model; raises when there is none (nothing has been embedded yet).
CREATE FUNCTION gallery.active_model()
RETURNS gallery.clip_models
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  found_model gallery.clip_models;
BEGIN
  SELECT m.* INTO found_model FROM gallery.clip_models m WHERE m.state = 'active';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'gallery: no active CLIP model yet' USING ERRCODE = 'no_data_found',
      HINT = 'The first `dbfirst embed` (or worker) registers its model; or `dbfirst model stage DIR` then `dbfirst model promote`.';
  END IF;
  RETURN found_model;
END;
$fn$;

COMMENT ON FUNCTION gallery.active_model() IS 'The active CLIP model (the one searches use); raises no_data_found when none is registered.';

-- The staged model, or a row of NULLs when none is staged.
CREATE FUNCTION gallery.staged_model()
RETURNS gallery.clip_models
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
  SELECT m.* FROM gallery.clip_models m WHERE m.state = 'staged';
$fn$;

COMMENT ON FUNCTION gallery.staged_model() IS 'The staged CLIP model (being backfilled), or NULL when none is staged.';

-- Creates a model's partition and queues every image it has not embedded; safe to run again.
CREATE FUNCTION gallery.create_model_storage(model_id integer)
RETURNS regclass
LANGUAGE plpgsql
VOLATILE
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  model     gallery.clip_models;
  partition text;
BEGIN
  SELECT m.* INTO model FROM gallery.clip_models m WHERE m.id = create_model_storage.model_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'gallery.create_model_storage: no model with id %', model_id USING ERRCODE = 'no_data_found';
  END IF;
  partition := 'image_embeddings_m' || model.id;

  IF to_regclass('gallery.' || partition) IS NULL THEN
    EXECUTE format('CREATE TABLE gallery.%I PARTITION OF gallery.image_embeddings FOR VALUES IN (%s)', partition, model.id);
    EXECUTE format('ALTER TABLE gallery.%I ALTER COLUMN embedding SET STORAGE PLAIN', partition);
    EXECUTE format('ALTER TABLE gallery.%I ADD CONSTRAINT %I CHECK (vector_dims(embedding) = %s)',
                   partition, partition || '_dimension', model.dimension);
    EXECUTE format('COMMENT ON TABLE gallery.%I IS %L', partition,
                   format('Embeddings of CLIP model %s (id %s, %s dimensions).', model.name, model.id, model.dimension));
    -- The managed index, with migration 3's parameters: built on the empty partition it costs nothing now, and
    -- searches of the model are indexed from its first embedding. `dbfirst index rebuild` replaces it.
    EXECUTE format('CREATE INDEX %I ON gallery.%I USING hnsw ((embedding::vector(%s)) vector_cosine_ops) WITH (m = 16, ef_construction = 64)',
                   partition || '_embedding_idx', partition, model.dimension);
  END IF;

  INSERT INTO gallery.embedding_pending (model_id, image_id)
  SELECT model.id, g.id
  FROM gallery.image_gallery g
  WHERE NOT EXISTS (SELECT 1 FROM gallery.image_embeddings e WHERE e.model_id = model.id AND e.image_id = g.id)
  ORDER BY g.id
  ON CONFLICT DO NOTHING;

  RETURN ('gallery.' || partition)::regclass;
END;
$fn$;

COMMENT ON FUNCTION gallery.create_model_storage(integer) IS
  'Creates the model''s partition gallery.image_embeddings_m<id> (dimension CHECK, inline storage, HNSW index image_embeddings_m<id>_embedding_idx) and queues the images it has not embedded; idempotent. Owner only.';

-- The first embedder of a fresh gallery registers its model as the active one; later ones get the active model
-- back (the caller compares name and dimension). The advisory lock makes two first embedders agree on one model.
CREATE FUNCTION gallery.ensure_active_model(name text, dimension integer)
RETURNS gallery.clip_models
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  model gallery.clip_models;
BEGIN
  IF name IS NULL OR btrim(name) = '' THEN
    RAISE EXCEPTION 'gallery.ensure_active_model: the model name is empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF dimension IS NULL OR dimension < 1 OR dimension > 16000 THEN
    RAISE EXCEPTION 'gallery.ensure_active_model: dimension must be between 1 and 16000, not %', dimension
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  SELECT m.* INTO model FROM gallery.clip_models m WHERE m.state = 'active';
  IF FOUND THEN
    RETURN model;
  END IF;

  PERFORM pg_advisory_xact_lock(hashtext('gallery.clip_models'));
  SELECT m.* INTO model FROM gallery.clip_models m WHERE m.state = 'active';
  IF FOUND THEN
    RETURN model;
  END IF;
  IF EXISTS (SELECT 1 FROM gallery.clip_models m WHERE m.name = ensure_active_model.name) THEN
    RAISE EXCEPTION 'gallery.ensure_active_model: model % is registered but not active, and no model is active', name
      USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Make it active with `dbfirst model promote` or `dbfirst model rollback`.';
  END IF;

  INSERT INTO gallery.clip_models (name, dimension, state, activated_at)
  VALUES (ensure_active_model.name, ensure_active_model.dimension, 'active', now())
  RETURNING * INTO model;
  PERFORM gallery.create_model_storage(model.id);
  RETURN model;
END;
$fn$;

COMMENT ON FUNCTION gallery.ensure_active_model(text, integer) IS
  'The active model; when none is registered, registers (name, dimension) as active (source NULL) and creates its storage, under an advisory lock.';

-- Exact per-model counts for `dbfirst status`, `dbfirst model list` and promote.
CREATE FUNCTION gallery.model_coverage()
RETURNS TABLE (model_id integer, name text, state text, dimension integer, embedded bigint, total bigint, index_name text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  images bigint;
BEGIN
  SELECT count(*) INTO images FROM gallery.image_gallery;
  RETURN QUERY
  SELECT m.id,
         m.name,
         m.state,
         m.dimension,
         -- total minus pending: both exact (the invariant above), and the pending count reads one index range.
         images - (SELECT count(*) FROM gallery.embedding_pending p WHERE p.model_id = m.id),
         images,
         (SELECT c.relname::text
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am am ON am.oid = c.relam
          WHERE i.indrelid = to_regclass('gallery.image_embeddings_m' || m.id)
            AND am.amname IN ('hnsw', 'ivfflat')
          ORDER BY c.relname = 'image_embeddings_m' || m.id || '_embedding_idx' DESC, i.indisvalid DESC, c.relname
          LIMIT 1)
  FROM gallery.clip_models m
  ORDER BY CASE m.state WHEN 'active' THEN 0 WHEN 'staged' THEN 1 ELSE 2 END, m.id;
END;
$fn$;

COMMENT ON FUNCTION gallery.model_coverage() IS
  'Per model: state, dimension, images embedded, images in the gallery, and its vector index (NULL when none); exact counts.';

-- Pending rows follow the embeddings: written -> no longer pending; deleted -> pending again while the image exists.
CREATE FUNCTION gallery.track_pending_embeddings()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    DELETE FROM gallery.embedding_pending p
    USING new_rows n
    WHERE p.model_id = n.model_id AND p.image_id = n.image_id;
  ELSE
    INSERT INTO gallery.embedding_pending (model_id, image_id)
    SELECT o.model_id, o.image_id
    FROM old_rows o
    JOIN gallery.image_gallery g ON g.id = o.image_id   -- a deleted image is pending for nobody
    ORDER BY o.model_id, o.image_id
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END;
$fn$;

COMMENT ON FUNCTION gallery.track_pending_embeddings() IS
  'Statement trigger on gallery.image_embeddings: a written embedding leaves gallery.embedding_pending, a deleted one returns to it.';

-- New images are pending for every registered model.
CREATE FUNCTION gallery.queue_new_images()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  INSERT INTO gallery.embedding_pending (model_id, image_id)
  SELECT m.id, n.id
  FROM new_rows n
  CROSS JOIN gallery.clip_models m
  ORDER BY m.id, n.id
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END;
$fn$;

COMMENT ON FUNCTION gallery.queue_new_images() IS
  'Statement trigger on gallery.image_gallery: new images are pending for every registered model.';

-- New content is a new picture: every model's embedding of the old bytes is deleted (and so pending again).
CREATE FUNCTION gallery.forget_embeddings_on_content_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  -- Through clip_models so each model's primary key serves the lookup (model_id, image_id).
  DELETE FROM gallery.image_embeddings e
  USING gallery.clip_models m
  WHERE e.model_id = m.id AND e.image_id = NEW.id;
  RETURN NULL;
END;
$fn$;

COMMENT ON FUNCTION gallery.forget_embeddings_on_content_change() IS
  'Row trigger on gallery.image_gallery: new content deletes every model''s embedding of the image, which makes it pending again.';

-- Same as version 51, without the columns that moved: the retry state of the old bytes does not apply.
CREATE OR REPLACE FUNCTION gallery.reset_embedding_on_content_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.content_sha256 IS DISTINCT FROM OLD.content_sha256 THEN
    NEW.embed_attempts        := 0;
    NEW.embed_error           := NULL;
    NEW.embed_error_permanent := false;
    NEW.embed_failed_at       := NULL;
    NEW.embed_next_attempt_at := NULL;
  END IF;
  RETURN NEW;
END $$;

-- The operator's "embed this image again": every model's embedding of it is deleted (pending again) and its
-- retry state cleared, so searches stop returning a vector the operator distrusts.
CREATE OR REPLACE FUNCTION gallery.request_reembed(image_id bigint)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  DELETE FROM gallery.image_embeddings e
  USING gallery.clip_models m
  WHERE e.model_id = m.id AND e.image_id = request_reembed.image_id;
  UPDATE gallery.image_gallery
     SET embed_attempts        = 0,
         embed_error           = NULL,
         embed_error_permanent = false,
         embed_failed_at       = NULL,
         embed_next_attempt_at = NULL
   WHERE id = request_reembed.image_id
  RETURNING true;
$$;

-- The data move. The neighbour triggers of migration 80 read the old column; migration 101 puts them on
-- gallery.image_embeddings, per model.
DROP TRIGGER image_gallery_neighbours_insert ON gallery.image_gallery;
DROP TRIGGER image_gallery_neighbours_update ON gallery.image_gallery;
DROP TRIGGER image_gallery_neighbours_delete ON gallery.image_gallery;

DO $move$
DECLARE
  found_model record;
  new_id      integer;
  is_first    boolean := true;
  old_index   record;
BEGIN
  -- Most rows first: that model becomes active. A row with a vector but no model name was written by hand.
  FOR found_model IN
    SELECT coalesce(g.embedding_model, 'unknown') AS name, max(vector_dims(g.embedding)) AS dimension, count(*) AS n
    FROM gallery.image_gallery g
    WHERE g.embedding IS NOT NULL
    GROUP BY 1
    ORDER BY 3 DESC, 1
  LOOP
    INSERT INTO gallery.clip_models (name, dimension, state, activated_at, retired_at)
    VALUES (found_model.name, found_model.dimension,
            CASE WHEN is_first THEN 'active' ELSE 'retired' END,
            CASE WHEN is_first THEN now() END,
            CASE WHEN is_first THEN NULL ELSE now() END)
    RETURNING id INTO new_id;
    PERFORM gallery.create_model_storage(new_id);
    -- Bulk copy first, index after (below, for the active model only): an HNSW index fed row by row builds far slower.
    EXECUTE format('DROP INDEX gallery.%I', 'image_embeddings_m' || new_id || '_embedding_idx');

    INSERT INTO gallery.image_embeddings (model_id, image_id, embedding, embedded_at)
    SELECT new_id, g.id, g.embedding, coalesce(g.embedded_at, g.ingested_at)
    FROM gallery.image_gallery g
    WHERE g.embedding IS NOT NULL AND coalesce(g.embedding_model, 'unknown') = found_model.name
    ORDER BY g.id;

    DELETE FROM gallery.embedding_pending p
    USING gallery.image_embeddings e
    WHERE p.model_id = new_id AND e.model_id = new_id AND e.image_id = p.image_id;

    IF is_first THEN
      -- The managed index, rebuilt on the active model's partition with the same method and parameters.
      SELECT am.amname, c.reloptions INTO old_index
      FROM pg_class c
      JOIN pg_index i ON i.indexrelid = c.oid
      JOIN pg_am am ON am.oid = c.relam
      WHERE c.oid = to_regclass('gallery.image_gallery_embedding_idx') AND i.indisvalid;
      IF FOUND THEN
        EXECUTE format('CREATE INDEX %I ON gallery.%I USING %s ((embedding::vector(%s)) vector_cosine_ops)%s',
                       'image_embeddings_m' || new_id || '_embedding_idx', 'image_embeddings_m' || new_id,
                       old_index.amname, found_model.dimension,
                       CASE WHEN old_index.reloptions IS NULL THEN ''
                            ELSE ' WITH (' || array_to_string(old_index.reloptions, ', ') || ')' END);
      END IF;
    END IF;
    is_first := false;
  END LOOP;
END;
$move$;

-- Stored neighbours were measured between the old column's vectors; the active model's are the same values,
-- so they stay (migration 101 gives them the model id). Pairs involving a row of another model are dropped.
DELETE FROM gallery.image_neighbours n
WHERE NOT EXISTS (SELECT 1 FROM gallery.image_embeddings e JOIN gallery.clip_models m ON m.id = e.model_id
                  WHERE m.state = 'active' AND e.image_id = n.image_id)
   OR NOT EXISTS (SELECT 1 FROM gallery.image_embeddings e JOIN gallery.clip_models m ON m.id = e.model_id
                  WHERE m.state = 'active' AND e.image_id = n.neighbour_id);
DELETE FROM gallery.neighbour_pending n
WHERE NOT EXISTS (SELECT 1 FROM gallery.image_embeddings e JOIN gallery.clip_models m ON m.id = e.model_id
                  WHERE m.state = 'active' AND e.image_id = n.image_id);

-- The history keeps its rows; the managed index has a new name.
UPDATE gallery.index_builds b
SET index_name = 'image_embeddings_m' || m.id || '_embedding_idx'
FROM gallery.clip_models m
WHERE m.state = 'active' AND b.index_name = 'image_gallery_embedding_idx';

-- Drops the managed index and image_gallery_pending_idx with them.
ALTER TABLE gallery.image_gallery
  DROP COLUMN embedding,
  DROP COLUMN embedding_model,
  DROP COLUMN embedded_at;

-- From here on the triggers keep the pending queue.
CREATE TRIGGER image_embeddings_pending_insert
  AFTER INSERT ON gallery.image_embeddings
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gallery.track_pending_embeddings();

CREATE TRIGGER image_embeddings_pending_delete
  AFTER DELETE ON gallery.image_embeddings
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gallery.track_pending_embeddings();

CREATE TRIGGER image_gallery_queue_new
  AFTER INSERT ON gallery.image_gallery
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gallery.queue_new_images();

CREATE TRIGGER image_gallery_content_forgets_embeddings
  AFTER UPDATE OF content_sha256 ON gallery.image_gallery
  FOR EACH ROW
  WHEN (OLD.content_sha256 IS DISTINCT FROM NEW.content_sha256)
  EXECUTE FUNCTION gallery.forget_embeddings_on_content_change();

REVOKE EXECUTE ON FUNCTION gallery.create_model_storage(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.ensure_active_model(text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.model_coverage() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.track_pending_embeddings() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.queue_new_images() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.forget_embeddings_on_content_change() FROM PUBLIC;

GRANT SELECT ON gallery.clip_models, gallery.image_embeddings TO gallery_analyst;
GRANT EXECUTE ON FUNCTION gallery.model_coverage() TO gallery_analyst;
GRANT SELECT, INSERT, UPDATE, DELETE ON gallery.image_embeddings TO dbfirst_app;
GRANT SELECT, DELETE ON gallery.embedding_pending TO dbfirst_app;
GRANT EXECUTE ON FUNCTION gallery.ensure_active_model(text, integer) TO dbfirst_app;
