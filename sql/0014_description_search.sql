-- Full-text search over the Claude descriptions, and its fusion with text-to-image search.

-- Generated, so it can never disagree with description; the GIN index over it is built concurrently
-- by the next migration. Adding a stored column rewrites the table once.
ALTER TABLE gallery.image_gallery
  ADD COLUMN description_tsv tsvector
  GENERATED ALWAYS AS (to_tsvector('english', coalesce(description, ''))) STORED;

COMMENT ON COLUMN gallery.image_gallery.description_tsv IS 'English full-text vector of description (generated).';

CREATE FUNCTION gallery.search_descriptions(
  query      text,
  k          int         DEFAULT 10,
  folder     text        DEFAULT NULL,
  taken_from timestamptz DEFAULT NULL,
  taken_to   timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, path text, rank real)
LANGUAGE plpgsql
STABLE
SET search_path = gallery, public, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  -- websearch_to_tsquery accepts any text ("quotes", or, -minus) and never raises a syntax error.
  tsq    tsquery := websearch_to_tsquery('english', coalesce(query, ''));
  prefix text := CASE WHEN folder IS NULL OR right(folder, 1) = '/' THEN folder ELSE folder || '/' END;
BEGIN
  IF k IS NULL OR k < 1 OR k > 1000 THEN
    RAISE EXCEPTION 'gallery.search_descriptions: k must be between 1 and 1000, not %', k USING ERRCODE = 'invalid_parameter_value';
  END IF;

  RETURN QUERY
  SELECT g.id, g.path, ts_rank_cd(g.description_tsv, tsq)::real AS rank
  FROM gallery.image_gallery g
  WHERE g.description_tsv @@ tsq
    AND (prefix IS NULL OR starts_with(g.path, prefix))
    AND (taken_from IS NULL OR g.taken_at >= taken_from)
    AND (taken_to IS NULL OR g.taken_at < taken_to)
  ORDER BY 3 DESC, g.id
  LIMIT k;
END;
$fn$;

COMMENT ON FUNCTION gallery.search_descriptions(text, int, text, timestamptz, timestamptz) IS
  'Full-text search over Claude descriptions (web-search syntax), best match first; same filters as search_by_embedding.';

-- Reciprocal-rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009): score = sum of 1 / (60 + rank)
-- over the two rankings, so an image found by both outranks one found by either alone.
CREATE FUNCTION gallery.hybrid_search(
  query      text,
  k          int         DEFAULT 10,
  folder     text        DEFAULT NULL,
  taken_from timestamptz DEFAULT NULL,
  taken_to   timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, path text, score real, image_rank int, text_rank int)
LANGUAGE plpgsql
VOLATILE  -- it calls gallery.search, which may write the text-embedding cache
SET search_path = gallery, public, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  pool int := least(greatest(k * 4, 40), 1000);  -- candidates taken from each ranking
BEGIN
  IF k IS NULL OR k < 1 OR k > 1000 THEN
    RAISE EXCEPTION 'gallery.hybrid_search: k must be between 1 and 1000, not %', k USING ERRCODE = 'invalid_parameter_value';
  END IF;

  RETURN QUERY
  WITH by_image AS (
    SELECT s.id, s.path, row_number() OVER (ORDER BY s.distance, s.id)::int AS r
    FROM gallery.search(query, pool, folder, taken_from, taken_to) s
  ), by_text AS (
    SELECT d.id, d.path, row_number() OVER (ORDER BY d.rank DESC, d.id)::int AS r
    FROM gallery.search_descriptions(query, pool, folder, taken_from, taken_to) d
  )
  SELECT coalesce(i.id, t.id),
         coalesce(i.path, t.path),
         (coalesce(1.0 / (60 + i.r), 0) + coalesce(1.0 / (60 + t.r), 0))::real AS score,
         i.r,
         t.r
  FROM by_image i
  FULL JOIN by_text t ON t.id = i.id
  ORDER BY 3 DESC, 1
  LIMIT k;
END;
$fn$;

COMMENT ON FUNCTION gallery.hybrid_search(text, int, text, timestamptz, timestamptz) IS
  'Reciprocal-rank fusion of gallery.search (image) and gallery.search_descriptions (text); image_rank/text_rank are NULL where a ranking missed the image.';

REVOKE EXECUTE ON FUNCTION gallery.search_descriptions(text, int, text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.hybrid_search(text, int, text, timestamptz, timestamptz) FROM PUBLIC;
