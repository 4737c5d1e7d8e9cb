-- The path from gallery.search to the text encoder trusts only answers it can verify.
--
--   gallery.encoder_key    a random 256-bit key known to the owner and to `dbfirst serve` (it reads it through
--                          dbfirst_app); gallery_encoder.fetch (installed by the superuser step) sends no query
--                          text to a process that cannot prove it holds the key, and accepts only embeddings
--                          signed with it. A process squatting serve's port learns nothing and can poison nothing.
--   gallery.settings       row-level security: embed_url and embed_model are the owner's. gallery_operator keeps
--                          every other row; serve moves embed_url only through gallery.publish_embed_url, which
--                          accepts nothing but http://<loopback address>:<port>/embed/text.
--   gallery.text_embedding checks the embedding's dimension against the gallery's column before caching it.

DO $check$
BEGIN
  IF to_regprocedure('gallery_encoder.fetch(text, text, int, bytea)') IS NULL THEN
    RAISE EXCEPTION 'gallery_encoder.fetch is missing: run the superuser step first (scripts/db.sh start, or sql/superuser/database.sql as a superuser in this database)'
      USING ERRCODE = 'undefined_function';
  END IF;
END;
$check$;

CREATE TABLE gallery.encoder_key (
  id         boolean     PRIMARY KEY DEFAULT true CHECK (id),   -- exactly one row
  key        bytea       NOT NULL CHECK (octet_length(key) >= 32),
  created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE gallery.encoder_key IS
  'HMAC key shared by gallery.text_embedding and `dbfirst serve`; readable by the owner and dbfirst_app only. Rotate: UPDATE ... SET key = <32 random bytes>, then restart serve.';

-- gen_random_uuid draws from the server's strong random source: two of them give 244 random bits.
INSERT INTO gallery.encoder_key (key)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

REVOKE ALL ON gallery.encoder_key FROM PUBLIC;
GRANT SELECT ON gallery.encoder_key TO dbfirst_app;

-- Whatever reached the cache before came from an unauthenticated path: it is encoded again on first use.
DELETE FROM gallery.text_embeddings;

ALTER TABLE gallery.settings ENABLE ROW LEVEL SECURITY;
-- The owner is not subject to these policies (no FORCE); the privileges granted still decide who may read at all.
CREATE POLICY settings_read ON gallery.settings FOR SELECT USING (true);
CREATE POLICY operator_insert ON gallery.settings FOR INSERT TO gallery_operator
  WITH CHECK (key NOT IN ('embed_url', 'embed_model'));
CREATE POLICY operator_update ON gallery.settings FOR UPDATE TO gallery_operator
  USING (key NOT IN ('embed_url', 'embed_model'))
  WITH CHECK (key NOT IN ('embed_url', 'embed_model'));
CREATE POLICY operator_delete ON gallery.settings FOR DELETE TO gallery_operator
  USING (key NOT IN ('embed_url', 'embed_model'));

-- How `dbfirst serve` (dbfirst_app) publishes its address: a loopback http URL with an explicit port, nothing else.
CREATE FUNCTION gallery.publish_embed_url(url text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, pg_temp
AS $fn$
BEGIN
  IF url IS NULL OR url !~ '^http://(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|\[::1\]):[0-9]{1,5}/embed/text$' THEN
    RAISE EXCEPTION 'gallery.publish_embed_url: the URL must be http://<loopback address>:<port>/embed/text'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  UPDATE gallery.settings SET value = url, updated_at = now() WHERE key = 'embed_url';
END;
$fn$;

COMMENT ON FUNCTION gallery.publish_embed_url(text) IS
  'Sets embed_url to the loopback address of the running `dbfirst serve`; the only way dbfirst_app changes a setting.';

REVOKE ALL ON FUNCTION gallery.publish_embed_url(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gallery.publish_embed_url(text) TO dbfirst_app;

-- SECURITY DEFINER as before: analysts read the cache only through here, and only the owner may call
-- gallery_encoder.fetch or read the key. The search path is fixed, pg_temp last.
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
  dimensions    int;
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
  FROM gallery_encoder.fetch(
         url,
         text_embedding.query,
         coalesce((SELECT s.value::int FROM gallery.settings s WHERE s.key = 'embed_timeout_ms'), 5000),
         (SELECT k.key FROM gallery.encoder_key k)) f;
  IF fetched.failure IS NOT NULL THEN
    -- SQLSTATE DF001 (DbFirst: text encoder unavailable) lets callers tell this from other errors.
    RAISE EXCEPTION 'gallery.search needs the text encoder of `dbfirst serve`: start it with `dbfirst serve` (embed_url %: %)',
        url, translate(fetched.failure, E'\r\n', '  ')
      USING ERRCODE = 'DF001', HINT = 'The URL is the embed_url row of gallery.settings.';
  END IF;

  -- The gallery's column fixes the dimension (vector(512) for ViT-B/32): another one cannot be compared.
  SELECT a.atttypmod INTO dimensions
  FROM pg_attribute a
  WHERE a.attrelid = 'gallery.image_gallery'::regclass AND a.attname = 'embedding';
  IF dimensions > 0 AND cardinality(fetched.embedding) <> dimensions THEN
    RAISE EXCEPTION 'gallery.search: `dbfirst serve` encodes text with model % into % dimensions, but the gallery stores %: serve the model the images were embedded with',
        fetched.model, cardinality(fetched.embedding), dimensions
      USING ERRCODE = 'DF001';
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

-- The superuser-era plpython function POSTed to any URL; nothing calls it any more.
DROP FUNCTION IF EXISTS gallery.fetch_text_embedding(text, text, int);
