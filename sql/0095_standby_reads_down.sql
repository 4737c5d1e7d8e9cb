-- Undoes migration 95: gallery.text_embedding as migration 42 left it (it writes its cache, so it fails on a standby).

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
