-- Back to migration 11's search_by_embedding (iterative index scan only); CREATE OR REPLACE keeps its grants.
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
  -- "photos/2020" must not match "photos/2020-old/...": compare whole folder names.
  prefix text := CASE WHEN folder IS NULL OR right(folder, 1) = '/' THEN folder ELSE folder || '/' END;
BEGIN
  IF q IS NULL THEN
    RAISE EXCEPTION 'gallery.search_by_embedding: the query vector is NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF k IS NULL OR k < 1 OR k > 1000 THEN
    RAISE EXCEPTION 'gallery.search_by_embedding: k must be between 1 and 1000, not %', k USING ERRCODE = 'invalid_parameter_value';
  END IF;

  PERFORM set_config(t.name, t.value, true) FROM gallery.search_tuning() t;

  -- relaxed_order may return the candidates slightly out of order: collect them in a materialized
  -- CTE (the index scan stays inside it) and sort them exactly outside.
  RETURN QUERY
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
  SELECT n.id, n.path, n.distance::real
  FROM nearest n
  ORDER BY n.distance, n.id;
END;
$fn$;

COMMENT ON FUNCTION gallery.search_by_embedding(vector, int, text, timestamptz, timestamptz) IS
  'The k images nearest to embedding q by cosine distance, nearest first; optional filters: folder prefix, taken_at in [taken_from, taken_to).';
