-- Migration 100's gallery.request_reembed, join and all.
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
