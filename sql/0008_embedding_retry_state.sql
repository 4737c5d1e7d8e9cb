-- What the embedding pipeline needs to retry failures sensibly.
--
-- A row is pending while embedding IS NULL, it has failed fewer than Embedding:MaxAttempts times,
-- its last failure was not permanent, and its last failure is older than the retry delay.
-- Workers claim pending rows with SELECT ... FOR UPDATE SKIP LOCKED inside a transaction that stays
-- open until the batch's embeddings are written, so no lease column is needed: a dead worker's
-- connection closes, PostgreSQL rolls its transaction back, and its rows are pending again at once.
ALTER TABLE gallery.image_gallery
  ADD COLUMN embed_error_permanent boolean NOT NULL DEFAULT false,
  ADD COLUMN embed_failed_at       timestamptz;

COMMENT ON COLUMN gallery.image_gallery.embed_attempts IS
  'Failed embedding attempts since the last success; the pipeline stops retrying at Embedding:MaxAttempts.';
COMMENT ON COLUMN gallery.image_gallery.embed_error_permanent IS
  'The last failure cannot be cured by retrying (undecodable file, decompression bomb).';
COMMENT ON COLUMN gallery.image_gallery.embed_failed_at IS
  'When the last attempt failed; a transient failure is retried after Embedding:RetryDelay.';

-- New content means a new picture: whatever was learnt about the old bytes no longer applies.
-- Enforced here so every writer (ingest, a DBA's UPDATE) gets it, including the retry state above.
CREATE FUNCTION gallery.reset_embedding_on_content_change() RETURNS trigger
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
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER image_gallery_content_changed
  BEFORE UPDATE OF content_sha256 ON gallery.image_gallery
  FOR EACH ROW EXECUTE FUNCTION gallery.reset_embedding_on_content_change();
