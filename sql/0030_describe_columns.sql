-- What Claude's descriptions cost and why one failed, per image, plus the analyst's way to ask for one.
ALTER TABLE gallery.image_gallery
  ADD COLUMN describe_input_tokens  bigint,                      -- input tokens spent describing this image, all calls added up
  ADD COLUMN describe_output_tokens bigint,                      -- output tokens likewise
  ADD COLUMN describe_attempts      int     NOT NULL DEFAULT 0,  -- failed describe runs since the last success or request
  ADD COLUMN describe_error         text,                        -- why the last describe run failed; NULL after a success
  ADD COLUMN describe_requested_at  timestamptz;                 -- set by gallery.request_description, cleared when described

COMMENT ON COLUMN gallery.image_gallery.describe_input_tokens IS 'Input tokens Claude billed for describing this image, summed over every call.';
COMMENT ON COLUMN gallery.image_gallery.describe_output_tokens IS 'Output tokens Claude billed for describing this image, summed over every call.';
COMMENT ON COLUMN gallery.image_gallery.describe_attempts IS 'Describe runs that failed since the last success or request; the describe-pending job skips images over its limit.';
COMMENT ON COLUMN gallery.image_gallery.describe_error IS 'Why the last describe run failed (no API key is ever stored); the previous description, if any, is kept.';
COMMENT ON COLUMN gallery.image_gallery.describe_requested_at IS 'When gallery.request_description asked for a (new) description; the describe-pending job takes these first.';

-- The job looks for requested images first; few rows carry a request at any time.
CREATE INDEX image_gallery_describe_requested_idx
  ON gallery.image_gallery (describe_requested_at)
  WHERE describe_requested_at IS NOT NULL;

CREATE FUNCTION gallery.request_description(image_id bigint)
RETURNS boolean
LANGUAGE sql
VOLATILE
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

REVOKE ALL ON FUNCTION gallery.request_description(bigint) FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gallery_operator') THEN
    GRANT EXECUTE ON FUNCTION gallery.request_description(bigint) TO gallery_operator;
  END IF;
END $$;
