-- Every search considers the active model only.
--
-- Each entry point (search_by_embedding, similar_images, search, hybrid_search through search, near_duplicates,
-- text_embedding) reads the active model once per call and hands its id on; the vector queries are dynamic SQL
-- with the model id and dimension as literals (WHERE e.model_id = <id> ... ORDER BY e.embedding::vector(<N>) <=> q),
-- so the planner prunes gallery.image_embeddings to that model's partition and uses its expression index. A search
-- running while `dbfirst model promote` commits finishes on the model it started with; the next one uses the new one.
-- A gallery with no active model yet (nothing embedded) finds nothing, as an empty gallery did before.
--
-- The filtered-search promise of migrations 81-82 is unchanged: exact k whenever k rows pass the filter.
--   * it counts the rows that pass the filter through the path and taken_at indexes, stopping at 10,001, and takes
--     the model's embedded rows from the planner's statistics of its partition (pg_class.reltuples);
--   * exact: when at most 10,000 rows pass and the iterative scan would need to visit more than half of
--     hnsw.max_scan_tuples candidates to meet k of them (k / selectivity), it ranks exactly the rows that pass;
--   * index: otherwise the iterative index scan of the model's partition, joined to image_gallery for the
--     filter; should it come back short, the exact plan runs over the rows that pass.

-- Loads pgvector's library in this session: until then its settings (hnsw.*, ivfflat.*) are unknown
-- placeholders, and a function's SET of one is refused to a non-superuser.
SELECT vector_dims('[1]'::vector);

-- The search itself, for a given model: internal to the functions below, which pass the active model's id.
CREATE FUNCTION gallery.search_model(
  model_id   integer,
  q          vector,
  k          int,
  folder     text,
  taken_from timestamptz,
  taken_to   timestamptz)
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
  dimension   int;
  total       real;
  -- "photos/2020" must not match "photos/2020-old/...": compare whole folder names.
  prefix     text := CASE WHEN folder IS NULL OR right(folder, 1) = '/' THEN folder ELSE folder || '/' END;
  -- In byte order the paths under "a/b/" are exactly those in ["a/b/", "a/b0"): '0' follows '/'.
  prefix_end text := left(prefix, -1) || '0';
  filtered   boolean := folder IS NOT NULL OR taken_from IS NOT NULL OR taken_to IS NOT NULL;
  conditions text;
  matching   int;
  -- Exact: every embedded row that passes the filter, ranked by distance. The ::real keeps the vector index out
  -- of this plan: it can only order by the bare <=> expression.
  exact_sql  constant text := $q$
    SELECT e.image_id, g.path, (e.embedding::vector(%2$s) <=> $1)::real AS distance
    FROM gallery.image_embeddings e
    JOIN gallery.image_gallery g ON g.id = e.image_id
    WHERE e.model_id = %1$s %3$s
    ORDER BY 3, 1
    LIMIT $6
    $q$;
  -- Index: the model's index returns candidates nearest first; each is joined to its image for the filter, and
  -- the iterative scan goes on until k pass. relaxed_order may return them slightly out of order: they are
  -- collected in a materialized CTE (the index scan stays inside it) and sorted exactly outside.
  index_sql  constant text := $q$
    WITH nearest AS MATERIALIZED (
      SELECT e.image_id AS id, g.path, e.embedding::vector(%2$s) <=> $1 AS distance
      FROM gallery.image_embeddings e
      JOIN gallery.image_gallery g ON g.id = e.image_id
      WHERE e.model_id = %1$s %3$s
      ORDER BY e.embedding::vector(%2$s) <=> $1
      LIMIT $6
    )
    SELECT array_agg(n.id ORDER BY n.distance, n.id),
           array_agg(n.path ORDER BY n.distance, n.id),
           array_agg(n.distance::real ORDER BY n.distance, n.id)
    FROM nearest n
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
  SELECT m.dimension INTO dimension FROM gallery.clip_models m WHERE m.id = search_model.model_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'gallery.search_by_embedding: no model with id %', model_id USING ERRCODE = 'no_data_found';
  END IF;
  IF vector_dims(q) <> dimension THEN
    RAISE EXCEPTION 'gallery.search_by_embedding: the query vector has % dimensions, but the active model''s embeddings have %',
        vector_dims(q), dimension
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Embed the query with the active model (SELECT * FROM gallery.active_model()).';
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
    SELECT c.reltuples INTO total FROM pg_class c WHERE c.oid = to_regclass('gallery.image_embeddings_m' || model_id);
    -- reltuples is -1 before the first ANALYZE: then the index plan runs, with its exact fallback.
    IF total > 0 AND k * total / greatest(matching, 1) > scan_bound / 2 THEN
      RETURN QUERY EXECUTE format(exact_sql, model_id, dimension, 'AND ' || conditions)
        USING q, prefix, prefix_end, taken_from, taken_to, k;
      RETURN;
    END IF;
  END IF;

  EXECUTE format(index_sql, model_id, dimension, CASE WHEN filtered THEN 'AND ' || conditions ELSE '' END)
    INTO ids, paths, distances
    USING q, prefix, prefix_end, taken_from, taken_to, k;

  IF coalesce(cardinality(ids), 0) >= k THEN
    RETURN QUERY SELECT h.id, h.path, h.distance FROM unnest(ids, paths, distances) AS h (id, path, distance);
    RETURN;
  END IF;

  -- Short: the scan hit its bound before k rows passed the filter, or fewer than k exist.
  RETURN QUERY EXECUTE format(exact_sql, model_id, dimension, CASE WHEN filtered THEN 'AND ' || conditions ELSE '' END)
    USING q, prefix, prefix_end, taken_from, taken_to, k;
END;
$fn$;

COMMENT ON FUNCTION gallery.search_model(integer, vector, int, text, timestamptz, timestamptz) IS
  'Internal to the search functions: the k images nearest to q among the embeddings of model model_id, with the filters of search_by_embedding.';

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
AS $fn$
#variable_conflict use_column
DECLARE
  active_id integer;
BEGIN
  SELECT m.id INTO active_id FROM gallery.clip_models m WHERE m.state = 'active';
  IF NOT FOUND THEN
    IF k IS NULL OR k < 1 OR k > 1000 THEN
      RAISE EXCEPTION 'gallery.search_by_embedding: k must be between 1 and 1000, not %', k USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN;  -- nothing embedded yet
  END IF;
  RETURN QUERY SELECT s.id, s.path, s.distance FROM gallery.search_model(active_id, q, k, folder, taken_from, taken_to) s;
END;
$fn$;

COMMENT ON FUNCTION gallery.search_by_embedding(vector, int, text, timestamptz, timestamptz) IS
  'The k images nearest to embedding q by cosine distance among the active model''s embeddings, nearest first; optional filters: folder prefix, taken_at in [taken_from, taken_to). Returns k rows whenever k pass the filter.';

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
  active_id integer;
  source    vector;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM gallery.image_gallery g WHERE g.id = image_id) THEN
    RAISE EXCEPTION 'gallery.similar_images: no image with id %', image_id USING ERRCODE = 'no_data_found';
  END IF;
  SELECT m.id INTO active_id FROM gallery.clip_models m WHERE m.state = 'active';
  SELECT e.embedding INTO source FROM gallery.image_embeddings e WHERE e.model_id = active_id AND e.image_id = similar_images.image_id;
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
  FROM gallery.search_model(active_id, source, k + 1, folder, taken_from, taken_to) s
  WHERE s.id <> similar_images.image_id
  ORDER BY s.distance, s.id
  LIMIT k;
END;
$fn$;

-- The text embedding of query for one model: from the cache (keyed by the model's name), else from `dbfirst serve`,
-- which must be serving that model. Internal to text_embedding and search.
CREATE FUNCTION gallery.model_text_embedding(model_id integer, query text)
RETURNS vector
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
DECLARE
  model   gallery.clip_models;
  url     text;
  cached  vector;
  fetched record;
BEGIN
  IF query IS NULL OR btrim(query) = '' THEN
    RAISE EXCEPTION 'gallery.search: the search text is empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF octet_length(query) > 2000 THEN
    RAISE EXCEPTION 'gallery.search: the search text is longer than 2000 bytes' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT m.* INTO model FROM gallery.clip_models m WHERE m.id = model_text_embedding.model_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'gallery.search: no model with id %', model_id USING ERRCODE = 'no_data_found';
  END IF;

  SELECT t.embedding INTO cached
  FROM gallery.text_embeddings t
  WHERE t.model = model.name AND t.query = model_text_embedding.query;
  IF FOUND THEN
    RETURN cached;
  END IF;

  SELECT s.value INTO url FROM gallery.settings s WHERE s.key = 'embed_url';
  SELECT f.model, f.embedding, f.failure INTO fetched
  FROM gallery_encoder.fetch(
         url,
         model_text_embedding.query,
         coalesce((SELECT s.value::int FROM gallery.settings s WHERE s.key = 'embed_timeout_ms'), 5000),
         (SELECT k.key FROM gallery.encoder_key k)) f;
  IF fetched.failure IS NOT NULL THEN
    -- SQLSTATE DF001 (DbFirst: text encoder unavailable) lets callers tell this from other errors.
    RAISE EXCEPTION 'gallery.search needs the text encoder of `dbfirst serve`: start it with `dbfirst serve` (embed_url %: %)',
        url, translate(fetched.failure, E'\r\n', '  ')
      USING ERRCODE = 'DF001', HINT = 'The URL is the embed_url row of gallery.settings.';
  END IF;
  -- Another model's text vector cannot be compared with this model's image vectors, even at the same dimension.
  IF fetched.model IS DISTINCT FROM model.name THEN
    RAISE EXCEPTION 'gallery.search: `dbfirst serve` encodes text with model %, but the active model is %: serve follows the active model within seconds, or restart it with that model',
        fetched.model, model.name
      USING ERRCODE = 'DF001';
  END IF;
  IF cardinality(fetched.embedding) <> model.dimension THEN
    RAISE EXCEPTION 'gallery.search: `dbfirst serve` encodes text with model % into % dimensions, but the model''s embeddings have %',
        fetched.model, cardinality(fetched.embedding), model.dimension
      USING ERRCODE = 'DF001';
  END IF;
  -- A hot standby answers searches read-only: it encodes every time rather than cache.
  IF NOT pg_is_in_recovery() THEN
    INSERT INTO gallery.text_embeddings (model, query, embedding)
    VALUES (model.name, model_text_embedding.query, fetched.embedding::vector)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN fetched.embedding::vector;
END;
$fn$;

COMMENT ON FUNCTION gallery.model_text_embedding(integer, text) IS
  'Internal to gallery.search: the CLIP text embedding of query for model model_id, cached per (model name, query) in gallery.text_embeddings.';

-- Same signature as before: the active model's text embedding.
CREATE OR REPLACE FUNCTION gallery.text_embedding(query text)
RETURNS vector
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  RETURN gallery.model_text_embedding((gallery.active_model()).id, query);
END;
$fn$;

COMMENT ON FUNCTION gallery.text_embedding(text) IS
  'The active model''s CLIP text embedding of query: from gallery.text_embeddings when cached, else from `dbfirst serve` (then cached).';

-- The active model is read once, so the text vector and the images it is compared with are one model's even
-- when a promote commits in between (this function is VOLATILE: each statement takes a new snapshot).
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
#variable_conflict use_column
DECLARE
  active_id integer;
BEGIN
  SELECT m.id INTO active_id FROM gallery.clip_models m WHERE m.state = 'active';
  IF NOT FOUND THEN
    RETURN;  -- nothing embedded yet
  END IF;
  RETURN QUERY
  SELECT s.id, s.path, s.distance
  FROM gallery.search_model(active_id, gallery.model_text_embedding(active_id, query), k, folder, taken_from, taken_to) s;
END;
$fn$;

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
  active_id integer;
BEGIN
  IF max_distance IS NULL OR max_distance < 0 OR max_distance > 2 THEN
    RAISE EXCEPTION 'gallery.near_duplicates: max_distance must be between 0 and 2, not %', max_distance USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF neighbours IS NULL OR neighbours < 1 OR neighbours > 100 THEN
    RAISE EXCEPTION 'gallery.near_duplicates: neighbours must be between 1 and 100, not %', neighbours USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT m.id INTO active_id FROM gallery.clip_models m WHERE m.state = 'active';
  IF NOT FOUND THEN
    RETURN;  -- nothing embedded yet
  END IF;

  -- Say what the answer cannot contain rather than miss pairs silently.
  SELECT count(*) INTO uncovered
  FROM gallery.neighbour_pending p
  JOIN gallery.image_gallery g ON g.id = p.image_id
  WHERE p.model_id = active_id
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
    WHERE s.model_id = active_id
      AND s.distance <= max_distance
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
  'Pairs (id_a < id_b) of images within max_distance (cosine) of each other under the active model, read from the stored neighbours (gallery.image_neighbours; at most `neighbours` per image); NOTICEs say what is not covered yet.';

REVOKE EXECUTE ON FUNCTION gallery.search_model(integer, vector, int, text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.model_text_embedding(integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gallery.search_model(integer, vector, int, text, timestamptz, timestamptz) TO gallery_analyst;
GRANT EXECUTE ON FUNCTION gallery.model_text_embedding(integer, text) TO gallery_analyst;
