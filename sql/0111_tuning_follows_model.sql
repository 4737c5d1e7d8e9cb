-- Each model's tuned search setting travels with it. The plain keys hnsw.ef_search and ivfflat.probes in
-- gallery.settings, which the search functions apply (gallery.search_tuning), are the active model's; any other
-- model's are kept under '<key>@<model name>' (`dbfirst index tune --model NAME` writes them, e.g. for the staged
-- model before promote). When a model stops being active its plain keys are kept under its name; when one becomes
-- active its own keys become the plain ones, or, never tuned, pgvector's defaults apply (the search functions' SET).
-- promote_model and rollback_model retire the active model before activating the next (one active at any moment),
-- so the row trigger sees the two changes in that order, inside their transaction.

CREATE FUNCTION gallery.move_search_tuning()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    -- A dropped model's kept setting goes with it.
    DELETE FROM gallery.settings s WHERE s.key IN ('hnsw.ef_search@' || OLD.name, 'ivfflat.probes@' || OLD.name);
    RETURN OLD;
  END IF;

  IF OLD.state = 'active' AND NEW.state <> 'active' THEN
    INSERT INTO gallery.settings (key, value, note)
    SELECT s.key || '@' || OLD.name, s.value, s.note
    FROM gallery.settings s
    WHERE s.key IN ('hnsw.ef_search', 'ivfflat.probes')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, note = excluded.note, updated_at = now();
    DELETE FROM gallery.settings s WHERE s.key IN ('hnsw.ef_search', 'ivfflat.probes');
  ELSIF NEW.state = 'active' AND OLD.state <> 'active' THEN
    INSERT INTO gallery.settings (key, value, note)
    SELECT split_part(s.key, '@', 1), s.value, s.note
    FROM gallery.settings s
    WHERE s.key IN ('hnsw.ef_search@' || NEW.name, 'ivfflat.probes@' || NEW.name)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, note = excluded.note, updated_at = now();
    DELETE FROM gallery.settings s WHERE s.key IN ('hnsw.ef_search@' || NEW.name, 'ivfflat.probes@' || NEW.name);
  END IF;
  RETURN NEW;
END;
$fn$;

COMMENT ON FUNCTION gallery.move_search_tuning() IS
  'Trigger: the plain hnsw.ef_search / ivfflat.probes settings are the active model''s; a model leaving the active state keeps its own under ''<key>@<name>'', one entering it gets its own back (or pgvector''s defaults); a dropped model''s go.';

CREATE TRIGGER clip_models_move_search_tuning
  AFTER UPDATE OF state ON gallery.clip_models
  FOR EACH ROW
  WHEN (OLD.state IS DISTINCT FROM NEW.state)
  EXECUTE FUNCTION gallery.move_search_tuning();

CREATE TRIGGER clip_models_drop_search_tuning
  AFTER DELETE ON gallery.clip_models
  FOR EACH ROW
  EXECUTE FUNCTION gallery.move_search_tuning();

REVOKE EXECUTE ON FUNCTION gallery.move_search_tuning() FROM PUBLIC;
