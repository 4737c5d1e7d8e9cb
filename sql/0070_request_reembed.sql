-- The operator's way to have one image embedded again (from the gallery page's "re-embed" button or psql):
-- the row becomes pending with a clean retry state, and the next embed-pending run embeds it with the
-- configured model. The old embedding is dropped at once, so searches stop returning a vector the operator
-- distrusts. SECURITY DEFINER so gallery_operator may do exactly this without UPDATE on the table.
CREATE FUNCTION gallery.request_reembed(image_id bigint)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  UPDATE gallery.image_gallery
     SET embedding             = NULL,
         embedding_model       = NULL,
         embedded_at           = NULL,
         embed_attempts        = 0,
         embed_error           = NULL,
         embed_error_permanent = false,
         embed_failed_at       = NULL
   WHERE id = image_id
  RETURNING true;
$$;

COMMENT ON FUNCTION gallery.request_reembed(bigint) IS
  'Clears an image''s embedding and retry state so the next embed-pending run embeds it again (after a model '
  'change, a fixed file, or a failure worth retrying). Returns true when the image exists, NULL when it does not.';

REVOKE ALL ON FUNCTION gallery.request_reembed(bigint) FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gallery_operator') THEN
    GRANT EXECUTE ON FUNCTION gallery.request_reembed(bigint) TO gallery_operator;
  END IF;
END $$;
