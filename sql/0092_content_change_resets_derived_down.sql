-- Undoes migration 92: the trigger clears the embedding and its retry state only, as migration 51
-- left it (ingest's upsert clears the description again once its code is rolled back with it).
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

COMMENT ON FUNCTION gallery.reset_embedding_on_content_change() IS NULL;
