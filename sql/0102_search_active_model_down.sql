-- Back to the search functions of migrations 80-95, which read gallery.image_gallery.embedding (migration 100's down step
-- restores that column).
-- Loads pgvector's library in this session: a function's SET of its settings is refused to a non-superuser until then.
SELECT vector_dims('[1]'::vector);

DROP FUNCTION gallery.search_model(integer, vector, int, text, timestamptz, timestamptz);
CREATE OR REPLACE FUNCTION gallery.search_by_embedding(
  q          vector,
  k          int         DEFAULT 10,
  folder     text        DEFAULT NULL,
  taken_from timestamptz DEFAULT NULL,
  taken_to   timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, path text, distance real)
LANGUAGE plpgsql
STABLE
SET search_path = gallery, public, pg_temp
SET hnsw.iterative_scan = relaxed_order
SET ivfflat.iterative_scan = relaxed_order
SET hnsw.ef_search = 40
SET ivfflat.probes = 1
AS $fn$
#variable_conflict use_column
DECLARE
  exact_limit constant int := 10000;  -- about 20 ms of distance computations
  scan_bound  bigint := coalesce(nullif(current_setting('hnsw.max_scan_tuples', true), '')::bigint, 20000);
  total       real;
  -- "photos/2020" must not match "photos/2020-old/...": compare whole folder names.
  prefix     text := CASE WHEN folder IS NULL OR right(folder, 1) = '/' THEN folder ELSE folder || '/' END;
  -- In byte order the paths under "a/b/" are exactly those in ["a/b/", "a/b0"): '0' follows '/'.
  prefix_end text := left(prefix, -1) || '0';
  filtered   boolean := folder IS NOT NULL OR taken_from IS NOT NULL OR taken_to IS NOT NULL;
  conditions text;
  matching   int;
  -- Exact: every row that passes the filter, ranked by distance. The ::real keeps the vector index
  -- out of this plan: it can only order by the bare <=> expression.
  exact_sql  constant text := $q$
    SELECT g.id, g.path, (g.embedding <=> $1)::real AS distance
    FROM gallery.image_gallery g
    WHERE g.embedding IS NOT NULL %s
    ORDER BY 3, 1
    LIMIT $6
    $q$;
  ids        bigint[];
  paths      text[];
  distances  real[];
BEGIN
  IF q IS NULL THEN
    RAISE EXCEPTION 'gallery.search_by_embedding: the query vector is NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF k IS NULL OR k < 1 OR k > 1000 THEN
    RAISE EXCEPTION 'gallery.search_by_embedding: k must be between 1 and 1000, not %', k USING ERRCODE = 'invalid_parameter_value';
  END IF;

  PERFORM set_config(t.name, t.value, true) FROM gallery.search_tuning() t;

  -- Only the filters given, so each EXECUTE is planned for them and can use their indexes.
  conditions := concat_ws(' AND ',
    CASE WHEN prefix IS NOT NULL THEN 'g.path COLLATE "C" >= $2 AND g.path COLLATE "C" < $3' END,
    CASE WHEN taken_from IS NOT NULL THEN 'g.taken_at >= $4' END,
    CASE WHEN taken_to IS NOT NULL THEN 'g.taken_at < $5' END);

  IF filtered THEN
    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM gallery.image_gallery g WHERE %s LIMIT $6) s', conditions)
      INTO matching
      USING q, prefix, prefix_end, taken_from, taken_to, exact_limit + 1;
  END IF;

  IF filtered AND matching <= exact_limit THEN
    SELECT c.reltuples INTO total FROM pg_class c WHERE c.oid = 'gallery.image_gallery'::regclass;
    -- reltuples is -1 before the first ANALYZE: then the index plan runs, with its exact fallback.
    IF total > 0 AND k * total / greatest(matching, 1) > scan_bound / 2 THEN
      RETURN QUERY EXECUTE format(exact_sql, 'AND ' || conditions)
        USING q, prefix, prefix_end, taken_from, taken_to, k;
      RETURN;
    END IF;
  END IF;

  -- relaxed_order may return the candidates slightly out of order: collect them in a materialized
  -- CTE (the index scan stays inside it) and sort them exactly outside.
  WITH nearest AS MATERIALIZED (
    SELECT g.id, g.path, g.embedding <=> q AS distance
    FROM gallery.image_gallery g
    WHERE g.embedding IS NOT NULL
      AND (prefix IS NULL OR starts_with(g.path, prefix))
      AND (taken_from IS NULL OR g.taken_at >= taken_from)
      AND (taken_to IS NULL OR g.taken_at < taken_to)
    ORDER BY g.embedding <=> q
    LIMIT k
  )
  SELECT array_agg(n.id ORDER BY n.distance, n.id),
         array_agg(n.path ORDER BY n.distance, n.id),
         array_agg(n.distance::real ORDER BY n.distance, n.id)
  INTO ids, paths, distances
  FROM nearest n;

  IF coalesce(cardinality(ids), 0) >= k THEN
    RETURN QUERY SELECT h.id, h.path, h.distance FROM unnest(ids, paths, distances) AS h (id, path, distance);
    RETURN;
  END IF;

  -- Short: the scan hit its bound before k rows passed the filter, or fewer than k exist.
  RETURN QUERY EXECUTE format(exact_sql, CASE WHEN filtered THEN 'AND ' || conditions ELSE '' END)
    USING q, prefix, prefix_end, taken_from, taken_to, k;
END;
$fn$;
COMMENT ON FUNCTION gallery.search_by_embedding(vector, int, text, timestamptz, timestamptz) IS
  'The k images nearest to embedding q by cosine distance, nearest first; optional filters: folder prefix, taken_at in [taken_from, taken_to). Returns k rows whenever k pass the filter (exact scan of selective filters).';

CREATE OR REPLACE FUNCTION gallery.similar_images(
  image_id   bigint,
  k          int         DEFAULT 10,
  folder     text        DEFAULT NULL,
  taken_from timestamptz DEFAULT NULL,
  taken_to   timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, path text, distance real)
LANGUAGE plpgsql
STABLE
SET search_path = gallery, public, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  source vector;
BEGIN
  SELECT g.embedding INTO source FROM gallery.image_gallery g WHERE g.id = image_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'gallery.similar_images: no image with id %', image_id USING ERRCODE = 'no_data_found';
  END IF;
  IF source IS NULL THEN
    RAISE EXCEPTION 'gallery.similar_images: image % has no embedding yet', image_id
      USING ERRCODE = 'no_data_found', HINT = 'The embed-pending job of `dbfirst serve` fills embeddings.';
  END IF;
  IF k IS NULL OR k < 1 OR k > 999 THEN
    RAISE EXCEPTION 'gallery.similar_images: k must be between 1 and 999, not %', k USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- One extra neighbour stands in for the image itself, which is (nearly always) its own nearest.
  RETURN QUERY
  SELECT s.id, s.path, s.distance
  FROM gallery.search_by_embedding(source, k + 1, folder, taken_from, taken_to) s
  WHERE s.id <> image_id
  ORDER BY s.distance, s.id
  LIMIT k;
END;
$fn$;
COMMENT ON FUNCTION gallery.similar_images(bigint, int, text, timestamptz, timestamptz) IS
  'The k images most similar to image image_id (itself left out), nearest first; same filters as search_by_embedding.';

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

  -- A hot standby is read-only: it uses the cache rows the primary wrote but adds none (each uncached search
  -- there asks the encoder again, within the same deadline).
  IF NOT pg_is_in_recovery() THEN
    INSERT INTO gallery.text_embeddings (model, query, embedding)
    VALUES (fetched.model, text_embedding.query, fetched.embedding::vector)
    ON CONFLICT DO NOTHING;

    -- The host now serves another model: later lookups use that model's cache rows.
    IF current_model IS DISTINCT FROM fetched.model THEN
      INSERT INTO gallery.settings (key, value, note)
      VALUES ('embed_model', fetched.model, 'model of the cached text embeddings, as reported by `dbfirst serve`')
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now();
    END IF;
  END IF;

  RETURN fetched.embedding::vector;
END;
$fn$;

CREATE OR REPLACE FUNCTION gallery.search(
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

CREATE OR REPLACE FUNCTION gallery.near_duplicates(
  max_distance real DEFAULT 0.01,
  neighbours   int  DEFAULT 10,
  folder       text DEFAULT NULL)
RETURNS TABLE (id_a bigint, id_b bigint, distance real)
LANGUAGE plpgsql
STABLE
SET search_path = gallery, public, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  prefix    text := CASE WHEN folder IS NULL OR right(folder, 1) = '/' THEN folder ELSE folder || '/' END;
  uncovered bigint;
  radius    real := gallery.neighbour_radius();
BEGIN
  IF max_distance IS NULL OR max_distance < 0 OR max_distance > 2 THEN
    RAISE EXCEPTION 'gallery.near_duplicates: max_distance must be between 0 and 2, not %', max_distance USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF neighbours IS NULL OR neighbours < 1 OR neighbours > 100 THEN
    RAISE EXCEPTION 'gallery.near_duplicates: neighbours must be between 1 and 100, not %', neighbours USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Say what the answer cannot contain rather than miss pairs silently.
  SELECT count(*) INTO uncovered
  FROM gallery.neighbour_pending p
  JOIN gallery.image_gallery g ON g.id = p.image_id
  WHERE g.embedding IS NOT NULL
    AND (prefix IS NULL OR starts_with(g.path, prefix));
  IF uncovered > 0 THEN
    RAISE NOTICE 'gallery.near_duplicates: % image(s) have no stored neighbours yet, so pairs between them may be missing', uncovered
      USING HINT = 'dbfirst duplicates --refresh (or SELECT gallery.fill_neighbours() until it returns 0) looks them up.';
  END IF;
  IF max_distance > radius THEN
    RAISE NOTICE 'gallery.near_duplicates: beyond the stored radius % only each image''s nearest neighbour is known', radius
      USING HINT = 'Raise near_duplicates.radius in gallery.settings, then queue the images again to store more pairs.';
  END IF;

  RETURN QUERY
  SELECT least(n.image_id, n.neighbour_id), greatest(n.image_id, n.neighbour_id), min(n.distance)::real AS distance
  FROM (
    SELECT s.image_id, s.neighbour_id, s.distance,
           row_number() OVER (PARTITION BY s.image_id ORDER BY s.distance, s.neighbour_id) AS r
    FROM gallery.image_neighbours s
    WHERE s.distance <= max_distance
  ) n
  JOIN gallery.image_gallery a ON a.id = n.image_id
  JOIN gallery.image_gallery b ON b.id = n.neighbour_id
  WHERE n.r <= neighbours
    AND (prefix IS NULL OR (starts_with(a.path, prefix) AND starts_with(b.path, prefix)))
  GROUP BY 1, 2
  ORDER BY 3, 1, 2;
END;
$fn$;
COMMENT ON FUNCTION gallery.near_duplicates(real, int, text) IS
  'Pairs (id_a < id_b) of images within max_distance (cosine) of each other, read from the stored neighbours (gallery.image_neighbours; at most `neighbours` per image); NOTICEs say what is not covered yet.';

DROP FUNCTION gallery.model_text_embedding(integer, text);
