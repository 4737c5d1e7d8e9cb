-- Filtered search by a bounded exact scan whenever the filter passes few enough rows (issue 13).
--
-- Migration 81 chose between the two paths of a filtered search by the iterative index scan's expected length:
-- the exact path (every passing row ranked by distance) only when k x rows / passing rows would exceed half of
-- hnsw.max_scan_tuples. That expectation assumes the passing rows are spread evenly through the vector space. A
-- folder is not: it holds one trip, one camera, one subject, so its rows sit together in a few regions and a query
-- from elsewhere walks through thousands of nearer rows outside the folder before k pass. At 10^5 rows the 1%
-- folder of `dbfirst bench search` (200 of its 2,000 clusters) took 41 ms at p50 and 110 ms at p95 by the index
-- path, many of them ending in the exact fallback after a scan that hit its bound.
--
-- Now a filter that passes at most exact_limit rows (counted with a LIMIT, as before) always takes the exact path:
-- its cost is bounded by that many distance computations whatever the filter's shape (22-68 ms at p50 for the
-- 10,000 rows of a 1% filter at 10^6 rows, serially: see the SET below), and it returns exactly min(k, passing) rows. Broader filters keep the iterative index scan, whose expected length
-- k x rows / passing is then at most k x rows / exact_limit, with the exact fallback when it comes back short.

-- Loads pgvector's library in this session: until then its settings (hnsw.*, ivfflat.*) are unknown
-- placeholders, and a function's SET of one is refused to a non-superuser.
SELECT vector_dims('[1]'::vector);

CREATE OR REPLACE FUNCTION gallery.search_model(
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
-- Serial plans: the exact path's nested loop over 10,000 rows took 130-205 ms at p50 as a parallel plan against
-- 22-68 ms serial (10^6 rows, 2 cores, beside an embedding writer): worker start-up, and three processes on two cores.
SET max_parallel_workers_per_gather = 0
AS $fn$
#variable_conflict use_column
DECLARE
  -- The most rows the exact path ranks up front: 10,000 inline 512-d embeddings are 20-70 ms of heap reads
  -- and distance computations, and 1% of a million-image gallery.
  exact_limit constant int := 10000;
  dimension   int;
  -- How the index scan orders candidates: by the expression of the model's index (full or half precision).
  index_order text;
  -- "photos/2020" must not match "photos/2020-old/...": compare whole folder names (migration 91).
  prefix     text := gallery.folder_prefix(folder);
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
  -- Index: the model's index returns candidates nearest first, ordered by its own expression (%4$s), so a
  -- half-precision index serves the scan while the distances returned stay full-precision. Each candidate is joined
  -- to its image for the filter, and the iterative scan goes on until k pass. relaxed_order may return them
  -- slightly out of order: they are collected in a materialized CTE (the index scan stays inside it) and sorted
  -- exactly outside.
  index_sql  constant text := $q$
    WITH nearest AS MATERIALIZED (
      SELECT e.image_id AS id, g.path, e.embedding::vector(%2$s) <=> $1 AS distance
      FROM gallery.image_embeddings e
      JOIN gallery.image_gallery g ON g.id = e.image_id
      WHERE e.model_id = %1$s %3$s
      ORDER BY %4$s
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
  index_order := gallery.index_order_expression(search_model.model_id, dimension, 'e.embedding', '$1');

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

  -- Few enough rows pass to rank them all: a bounded cost, whatever the filter's shape (see the top of this file).
  IF filtered AND matching <= exact_limit THEN
    RETURN QUERY EXECUTE format(exact_sql, model_id, dimension, 'AND ' || conditions)
      USING q, prefix, prefix_end, taken_from, taken_to, k;
    RETURN;
  END IF;

  EXECUTE format(index_sql, model_id, dimension, CASE WHEN filtered THEN 'AND ' || conditions ELSE '' END, index_order)
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
