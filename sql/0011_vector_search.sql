-- Nearest-neighbour search over CLIP image embeddings by cosine distance.
--
-- Every search function:
--   * accepts optional filters: a folder prefix and a capture-time range [taken_from, taken_to);
--   * turns on pgvector 0.8 iterative index scans, so a filter that rejects most candidates still
--     yields k rows when k exist, instead of the k-minus-rejected rows a post-filter would return;
--   * applies the tuned search breadth from gallery.settings (`dbfirst index tune` writes it). The
--     SET clauses pin pgvector's defaults, which also confines the tuned value to the function call:
--     PostgreSQL restores a variable named in a SET clause when the function returns.

-- The tuned index settings, readable by callers who cannot read gallery.settings itself.
CREATE FUNCTION gallery.search_tuning()
RETURNS TABLE (name text, value text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
AS $fn$
  SELECT s.key, s.value
  FROM gallery.settings s
  WHERE s.key IN ('hnsw.ef_search', 'ivfflat.probes');
$fn$;

COMMENT ON FUNCTION gallery.search_tuning() IS
  'Tuned pgvector search settings (hnsw.ef_search, ivfflat.probes) that the search functions apply; written by `dbfirst index tune`.';

CREATE FUNCTION gallery.search_by_embedding(
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

CREATE FUNCTION gallery.similar_images(
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

REVOKE EXECUTE ON FUNCTION gallery.search_tuning() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.search_by_embedding(vector, int, text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.similar_images(bigint, int, text, timestamptz, timestamptz) FROM PUBLIC;
