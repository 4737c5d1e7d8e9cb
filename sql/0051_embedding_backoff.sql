-- Transient embedding failures (a file missing because a mount is offline, an I/O error, a timeout) are
-- retried with exponential back-off for as long as they last, instead of giving up after a lifetime count:
-- a row is pending again once embed_next_attempt_at has passed. Only a permanent reason
-- (embed_error_permanent) stops the retries.
ALTER TABLE gallery.image_gallery
  ADD COLUMN embed_next_attempt_at timestamptz;

COMMENT ON COLUMN gallery.image_gallery.embed_next_attempt_at IS
  'After a transient failure: when the row may be claimed again (Embedding:RetryDelay doubling per failure, capped at Embedding:MaxRetryDelay).';

COMMENT ON COLUMN gallery.image_gallery.embed_attempts IS
  'Failed embedding attempts since the last success; sets the back-off, never stops the retries.';

-- Same as version 8, and the new column is reset too: new content is retried at once.
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
