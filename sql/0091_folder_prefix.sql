-- One home for the folder filter's rule: gallery.folder_prefix(folder) turns a folder into the path
-- prefix the search functions compare with, and search_by_embedding, search_descriptions and
-- near_duplicates (as migrations 81, 14 and 80 left them) now call it instead of each spelling the
-- expression out. Signatures, results and plans are unchanged: each function still computes the
-- prefix once, into a variable, and search_by_embedding still compares it with the byte-order path
-- index of migration 82.

-- CREATE OR REPLACE of search_by_embedding repeats its SET hnsw.* / ivfflat.* clauses, which a non-superuser may
-- set only once pgvector has registered them in this session: reading a vector loads the library (a migrate
-- that runs only this script starts without it).
SELECT '[1]'::vector;

-- "photos/2020" must not match "photos/2020-old/...": a folder is compared as a whole name, so it
-- gets a trailing slash unless it has one; NULL (no folder filter) stays NULL.
-- A SQL-standard body is parsed here, once, so the caller's search_path cannot change what it calls.
CREATE FUNCTION gallery.folder_prefix(folder text)
RETURNS text
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
RETURN CASE WHEN right(folder, 1) = '/' THEN folder ELSE folder || '/' END;

COMMENT ON FUNCTION gallery.folder_prefix(text) IS
  'The path prefix a folder filter matches: the folder with a trailing slash ("photos/2020" -> "photos/2020/"); NULL for no filter.';

-- Called by the search functions, which run with the caller's rights (as search_tuning is).
REVOKE EXECUTE ON FUNCTION gallery.folder_prefix(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gallery.folder_prefix(text) TO gallery_analyst;

CREATE OR REPLACE FUNCTION gallery.search_descriptions(
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
  prefix text := gallery.folder_prefix(folder);
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
  prefix    text := gallery.folder_prefix(folder);
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
  prefix     text := gallery.folder_prefix(folder);
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
