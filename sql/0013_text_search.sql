-- Text-to-image search from plain SQL: SELECT * FROM gallery.search('a red car', 5);
--
-- The text embedding comes from the running `dbfirst serve` host (POST embed_url, loopback only) and is
-- cached here per (model, query), so a repeated query never reaches the text encoder again.

CREATE TABLE gallery.text_embeddings (
  model      text        NOT NULL,                 -- the text model that produced the embedding
  query      text        NOT NULL CHECK (octet_length(query) <= 2000),
  embedding  vector      NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, query)
);

COMMENT ON TABLE gallery.text_embeddings IS 'Cache of text embeddings used by gallery.search, one row per (model, query text).';

-- Asks the text encoder for one embedding. It reports failures in `failure` instead of raising,
-- so gallery.text_embedding can raise one plain message. plpython3u is untrusted: nobody but the
-- owner may call this directly (EXECUTE stays revoked), since it can POST to any URL it is given.
CREATE FUNCTION gallery.fetch_text_embedding(
  url        text,
  query      text,
  timeout_ms int,
  OUT model     text,
  OUT embedding real[],
  OUT failure   text)
LANGUAGE plpython3u
VOLATILE
AS $py$
import json
import math
import urllib.error
import urllib.request

# Ignore http_proxy and friends in the server's environment: the encoder is on loopback.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
request = urllib.request.Request(
    url,
    data=json.dumps({"text": query}).encode("utf-8"),
    headers={"Content-Type": "application/json", "Accept": "application/json"},
    method="POST")

try:
    with opener.open(request, timeout=max(timeout_ms, 1) / 1000.0) as response:
        answer = json.loads(response.read().decode("utf-8"))
except urllib.error.HTTPError as error:
    return (None, None, "answered HTTP %d: %s" % (error.code, error.read(300).decode("utf-8", "replace")))
except (urllib.error.URLError, OSError, ValueError) as error:
    return (None, None, "did not answer: %s" % (getattr(error, "reason", None) or error))

vector = answer.get("embedding") if isinstance(answer, dict) else None
name = answer.get("model") if isinstance(answer, dict) else None
if (not isinstance(name, str) or not name or not isinstance(vector, list) or not vector
        or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in vector)
        or answer.get("dim", len(vector)) != len(vector)):
    return (None, None, "sent an answer that is not {model, dim, embedding}")
return (name, vector, None)
$py$;

COMMENT ON FUNCTION gallery.fetch_text_embedding(text, text, int) IS
  'POSTs {"text": query} to url; returns (model, embedding, NULL), or (NULL, NULL, why) when the encoder fails. Internal to gallery.text_embedding.';

-- SECURITY DEFINER because analysts may read the cache only through this function and may not
-- call fetch_text_embedding (an arbitrary-URL POST) themselves. The search path is fixed, pg_temp last.
CREATE FUNCTION gallery.text_embedding(query text)
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

COMMENT ON FUNCTION gallery.text_embedding(text) IS
  'The CLIP text embedding of query: from gallery.text_embeddings when cached, else from `dbfirst serve` (then cached).';

CREATE FUNCTION gallery.search(
  query      text,
  k          int         DEFAULT 10,
  folder     text        DEFAULT NULL,
  taken_from timestamptz DEFAULT NULL,
  taken_to   timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, path text, distance real)
LANGUAGE plpgsql
VOLATILE  -- it may write the text-embedding cache
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  RETURN QUERY
  SELECT s.id, s.path, s.distance
  FROM gallery.search_by_embedding(gallery.text_embedding(query), k, folder, taken_from, taken_to) s;
END;
$fn$;

COMMENT ON FUNCTION gallery.search(text, int, text, timestamptz, timestamptz) IS
  'Text-to-image search: the k images nearest to the CLIP embedding of query (needs `dbfirst serve` for uncached text); same filters as search_by_embedding.';

REVOKE EXECUTE ON FUNCTION gallery.fetch_text_embedding(text, text, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.text_embedding(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.search(text, int, text, timestamptz, timestamptz) FROM PUBLIC;
