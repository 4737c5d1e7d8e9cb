-- Back to one embedding column: the active model's vectors return to gallery.image_gallery (other models'
-- embeddings are lost: `migrate down` refuses without --force while there are any).
ALTER TABLE gallery.image_gallery
  ADD COLUMN embedding       vector(512),
  ADD COLUMN embedding_model text,
  ADD COLUMN embedded_at     timestamptz;
ALTER TABLE gallery.image_gallery ALTER COLUMN embedding SET STORAGE PLAIN;

DO $restore$
DECLARE
  active     gallery.clip_models;
  old_index  record;
BEGIN
  SELECT m.* INTO active FROM gallery.clip_models m WHERE m.state = 'active';
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF active.dimension <> 512 THEN
    EXECUTE format('ALTER TABLE gallery.image_gallery ALTER COLUMN embedding TYPE vector(%s)', active.dimension);
  END IF;

  UPDATE gallery.image_gallery g
  SET embedding = e.embedding, embedding_model = active.name, embedded_at = e.embedded_at
  FROM gallery.image_embeddings e
  WHERE e.model_id = active.id AND e.image_id = g.id;

  SELECT am.amname, c.reloptions INTO old_index
  FROM pg_class c
  JOIN pg_index i ON i.indexrelid = c.oid
  JOIN pg_am am ON am.oid = c.relam
  WHERE c.oid = to_regclass(format('gallery.image_embeddings_m%s_embedding_idx', active.id)) AND i.indisvalid;
  IF FOUND THEN
    EXECUTE format('CREATE INDEX image_gallery_embedding_idx ON gallery.image_gallery USING %s (embedding vector_cosine_ops)%s',
                   old_index.amname,
                   CASE WHEN old_index.reloptions IS NULL THEN ''
                        ELSE ' WITH (' || array_to_string(old_index.reloptions, ', ') || ')' END);
  END IF;

  UPDATE gallery.index_builds
  SET index_name = 'image_gallery_embedding_idx'
  WHERE index_name = format('image_embeddings_m%s_embedding_idx', active.id);
END;
$restore$;

CREATE INDEX image_gallery_pending_idx ON gallery.image_gallery (id) WHERE embedding IS NULL;

DROP TRIGGER image_gallery_content_forgets_embeddings ON gallery.image_gallery;
DROP TRIGGER image_gallery_queue_new ON gallery.image_gallery;

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

CREATE OR REPLACE FUNCTION gallery.reset_embedding_on_content_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.content_sha256 IS DISTINCT FROM OLD.content_sha256 THEN
    NEW.embedding             := NULL;
    NEW.embedding_model       := NULL;
    NEW.embedded_at           := NULL;
    NEW.embed_attempts        := 0;
    NEW.embed_error           := NULL;
    NEW.embed_error_permanent := false;
    NEW.embed_failed_at       := NULL;
    NEW.embed_next_attempt_at := NULL;
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION gallery.request_reembed(image_id bigint)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  UPDATE gallery.image_gallery
     SET embedding = NULL, embedding_model = NULL, embedded_at = NULL, embed_attempts = 0,
         embed_error = NULL, embed_error_permanent = false, embed_failed_at = NULL, embed_next_attempt_at = NULL
   WHERE id = image_id
  RETURNING true;
$$;

DROP TABLE gallery.embedding_pending;
DROP TABLE gallery.image_embeddings;   -- and every partition
DROP FUNCTION gallery.track_pending_embeddings();
DROP FUNCTION gallery.queue_new_images();
DROP FUNCTION gallery.forget_embeddings_on_content_change();
DROP FUNCTION gallery.model_coverage();
DROP FUNCTION gallery.ensure_active_model(text, integer);
DROP FUNCTION gallery.create_model_storage(integer);
DROP FUNCTION gallery.staged_model();
DROP FUNCTION gallery.active_model();
DROP TABLE gallery.clip_models;
