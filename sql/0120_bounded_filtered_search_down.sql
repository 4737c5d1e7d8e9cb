-- Undoes migration 120: gallery.search_model chooses its path by migration 115's rule again.

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
AS $fn$
#variable_conflict use_column
DECLARE
  exact_limit constant int := 10000;  -- about 20 ms of distance computations
  scan_bound  bigint := coalesce(nullif(current_setting('hnsw.max_scan_tuples', true), '')::bigint, 20000);
  dimension   int;
  -- How the index scan orders candidates: by the expression of the model's index (full or half precision).
  index_order text;
  total       real;
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
  -- half-precision index serves the scan; their distances are still the full-precision ones. each is joined to its image for the filter, and
  -- the iterative scan goes on until k pass. relaxed_order may return them slightly out of order: they are
  -- collected in a materialized CTE (the index scan stays inside it) and sorted exactly outside.
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

  IF filtered AND matching <= exact_limit THEN
    SELECT c.reltuples INTO total FROM pg_class c WHERE c.oid = to_regclass('gallery.image_embeddings_m' || model_id);
    -- reltuples is -1 before the first ANALYZE: then the index plan runs, with its exact fallback.
    IF total > 0 AND k * total / greatest(matching, 1) > scan_bound / 2 THEN
      RETURN QUERY EXECUTE format(exact_sql, model_id, dimension, 'AND ' || conditions)
        USING q, prefix, prefix_end, taken_from, taken_to, k;
      RETURN;
    END IF;
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
