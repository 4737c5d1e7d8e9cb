-- Undoes 0042_encoder_path.sql. The superuser-era plpython fetch_text_embedding cannot be recreated by the owner,
-- so a plpgsql stand-in takes its place: gallery.search then reports the encoder unavailable until Up runs again.
DROP FUNCTION IF EXISTS gallery.publish_embed_url(text);
DROP POLICY IF EXISTS operator_delete ON gallery.settings;
DROP POLICY IF EXISTS operator_update ON gallery.settings;
DROP POLICY IF EXISTS operator_insert ON gallery.settings;
DROP POLICY IF EXISTS settings_read ON gallery.settings;
ALTER TABLE gallery.settings DISABLE ROW LEVEL SECURITY;
DROP TABLE IF EXISTS gallery.encoder_key;

CREATE FUNCTION gallery.fetch_text_embedding(
  url        text,
  query      text,
  timeout_ms int,
  OUT model     text,
  OUT embedding real[],
  OUT failure   text)
LANGUAGE plpgsql
VOLATILE
AS $fn$
BEGIN
  model := NULL;
  embedding := NULL;
  failure := 'is not reachable below migration 42 (apply it with dbfirst migrate up)';
END;
$fn$;

REVOKE EXECUTE ON FUNCTION gallery.fetch_text_embedding(text, text, int) FROM PUBLIC;

-- SECURITY DEFINER because analysts may read the cache only through this function and may not
-- call fetch_text_embedding (an arbitrary-URL POST) themselves. The search path is fixed, pg_temp last.
CREATE OR REPLACE FUNCTION gallery.text_embedding(query text)
RETURNS vector
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  current_model text;
  url           text;
  cached        vector;
  fetched       record;
BEGIN
  IF query IS NULL OR btrim(query) = '' THEN
    RAISE EXCEPTION 'gallery.search: the search text is empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF octet_length(query) > 2000 THEN
    RAISE EXCEPTION 'gallery.search: the search text is longer than 2000 bytes' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  SELECT s.value INTO current_model FROM gallery.settings s WHERE s.key = 'embed_model';
  IF current_model IS NOT NULL THEN
    SELECT t.embedding INTO cached
    FROM gallery.text_embeddings t
    WHERE t.model = current_model AND t.query = text_embedding.query;
    IF FOUND THEN
      RETURN cached;
    END IF;
  END IF;

  SELECT s.value INTO url FROM gallery.settings s WHERE s.key = 'embed_url';
  SELECT f.model, f.embedding, f.failure INTO fetched
  FROM gallery.fetch_text_embedding(
         url,
         text_embedding.query,
         coalesce((SELECT s.value::int FROM gallery.settings s WHERE s.key = 'embed_timeout_ms'), 5000)) f;
  IF fetched.failure IS NOT NULL THEN
    -- SQLSTATE DF001 (DbFirst: text encoder unavailable) lets callers tell this from other errors.
    RAISE EXCEPTION 'gallery.search needs the text encoder of `dbfirst serve`: start it with `dbfirst serve` (it % at %)',
        fetched.failure, url
      USING ERRCODE = 'DF001', HINT = 'The URL is the embed_url row of gallery.settings.';
  END IF;

  INSERT INTO gallery.text_embeddings (model, query, embedding)
  VALUES (fetched.model, text_embedding.query, fetched.embedding::vector)
  ON CONFLICT DO NOTHING;

  -- The host now serves another model: later lookups use that model's cache rows.
  IF current_model IS DISTINCT FROM fetched.model THEN
    INSERT INTO gallery.settings (key, value, note)
    VALUES ('embed_model', fetched.model, 'model of the cached text embeddings, as reported by `dbfirst serve`')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now();
  END IF;

  RETURN fetched.embedding::vector;
END;
$fn$;
