-- Undoes 0056_request_description.sql: the function runs with the caller's rights again, as migration 30 made it.
CREATE OR REPLACE FUNCTION gallery.request_description(image_id bigint)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
  UPDATE gallery.image_gallery
     SET describe_requested_at = now(),
         describe_attempts     = 0
   WHERE id = image_id
  RETURNING true;
$$;

COMMENT ON FUNCTION gallery.request_description(bigint) IS
  'Marks an image for the describe-pending job (which is off by default because it costs money): it is described, '
  'or described again, on the job''s next run. Returns true when the image exists, NULL when it does not.';
