-- gallery.request_reembed without migration 100's join: its DELETE joined gallery.clip_models only to match every
-- model, which the image_id condition alone already does (every embedding row has a model, by its foreign key).
-- Behaviour is unchanged: every model's embedding of the image goes (pending again) and its retry state is cleared.
-- CREATE OR REPLACE keeps the function's owner and grants (operators and the runtime login).
CREATE OR REPLACE FUNCTION gallery.request_reembed(image_id bigint)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  DELETE FROM gallery.image_embeddings e
  WHERE e.image_id = request_reembed.image_id;
  UPDATE gallery.image_gallery
     SET embed_attempts        = 0,
         embed_error           = NULL,
         embed_error_permanent = false,
         embed_failed_at       = NULL,
         embed_next_attempt_at = NULL
   WHERE id = request_reembed.image_id
  RETURNING true;
$$;
