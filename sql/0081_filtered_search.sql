-- Filtered vector search that returns k rows whenever k rows pass the filter.
--
-- Migration 11 relied on pgvector's iterative index scan alone. That scan stops after
-- hnsw.max_scan_tuples candidates (20,000 by default) or ivfflat.max_probes lists, so a filter that
-- keeps 1% of a large table, or rows far from the query, came back with fewer than k rows.
-- Now search_by_embedding picks one of two plans per call, from the filter's selectivity:
--   * it counts the rows that pass the filter through the path and taken_at indexes of migration 82,
--     stopping at 10,001, and takes the table size from the planner's statistics (pg_class.reltuples);
--   * exact: when at most 10,000 rows pass and the iterative scan would need to visit more than half
--     of hnsw.max_scan_tuples candidates to meet k of them (k / selectivity), it ranks exactly the
--     rows that pass by distance;
--   * index: otherwise the iterative index scan, as before; should it still come back short (the
--     rows that pass lie far from the query), the exact plan runs over them.
-- Both plans are bounded: the iterative scan by max_scan_tuples/max_probes, the exact one by the
-- rows that pass the filter. No search function takes a distance threshold (such a threshold inside
-- an iterative scan would let it run to its bound on every call). similar_images, search and
-- hybrid_search all go through this function, so they keep the same promise.
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
