-- gallery.request_description for operators.
--
-- Operators may read the gallery but not UPDATE it, so the function runs with its owner's rights (SECURITY
-- DEFINER). It can only set the request mark of one existing image: its argument is checked, every name in it is
-- schema-qualified and its search_path is pinned, so a caller cannot slip in objects of their own.
CREATE OR REPLACE FUNCTION gallery.request_description(image_id bigint)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- An id that matches no image is answered with NULL below; a missing one is a caller's mistake worth an error.
  IF image_id IS NULL THEN
    RAISE EXCEPTION 'gallery.request_description: image_id must be a gallery image id, not NULL'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  UPDATE gallery.image_gallery
     SET describe_requested_at = now(),
         describe_attempts     = 0
   WHERE id = image_id;

  -- NULL, not false, for an unknown id: the contract of the function this one replaces.
  RETURN CASE WHEN FOUND THEN true END;
END;
$$;

COMMENT ON FUNCTION gallery.request_description(bigint) IS
  'Marks an image for the describe-pending job (which is off by default because it costs money): it is described, '
  'or described again, on the job''s next run. Returns true when the image exists, NULL when it does not. '
  'Callable by gallery_operator.';

REVOKE ALL ON FUNCTION gallery.request_description(bigint) FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gallery_operator') THEN
    GRANT EXECUTE ON FUNCTION gallery.request_description(bigint) TO gallery_operator;
  END IF;
END $$;
