-- New content means a new picture: everything learnt from the old bytes no longer applies. Since
-- migration 8 the trigger cleared the embedding and its retry state, and ingest cleared the Claude
-- description in its own upsert. The rule now lives here alone, so every writer (ingest, a DBA's
-- UPDATE of content_sha256) gets all of it. The describe bookkeeping (tokens spent, attempts, a
-- pending request) is history, not a result, and stays.
CREATE OR REPLACE FUNCTION gallery.reset_embedding_on_content_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.content_sha256 IS DISTINCT FROM OLD.content_sha256 THEN
    -- the CLIP embedding and its retry state
    NEW.embedding             := NULL;
    NEW.embedding_model       := NULL;
    NEW.embedded_at           := NULL;
    NEW.embed_attempts        := 0;
    NEW.embed_error           := NULL;
    NEW.embed_error_permanent := false;
    NEW.embed_failed_at       := NULL;
    NEW.embed_next_attempt_at := NULL;
    -- Claude's description of the old picture
    NEW.description           := NULL;
    NEW.description_model     := NULL;
    NEW.described_at          := NULL;
  END IF;
  RETURN NEW;
END $$;

COMMENT ON FUNCTION gallery.reset_embedding_on_content_change() IS
  'Trigger: when content_sha256 changes, clears what was derived from the old bytes (embedding and its retry state, description).';
