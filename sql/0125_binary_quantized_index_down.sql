-- Undoes migration 125: the search functions lose the binary path (migration 120's search_model, migration 115's
-- refresh_neighbours, index_precision and index_order_expression, restored with CREATE OR REPLACE so their grants
-- stay), and a binary managed index, which they could no longer use, is rebuilt at full precision with the same
-- method and parameters first (a one-off build inside this migration, as in migration 115's down step).

SELECT vector_dims('[1]'::vector);

DO $rebuild$
DECLARE
  quantized record;
BEGIN
  FOR quantized IN
    SELECT m.id, m.dimension, am.amname, c.reloptions
    FROM gallery.clip_models m
    JOIN pg_class c ON c.oid = to_regclass('gallery.image_embeddings_m' || m.id || '_embedding_idx')
    JOIN pg_am am ON am.oid = c.relam
    WHERE gallery.index_precision(m.id) = 'binary'
  LOOP
    EXECUTE format('DROP INDEX gallery.%I', 'image_embeddings_m' || quantized.id || '_embedding_idx');
    EXECUTE format('CREATE INDEX %I ON gallery.%I USING %s ((embedding::vector(%s)) vector_cosine_ops)%s',
                   'image_embeddings_m' || quantized.id || '_embedding_idx', 'image_embeddings_m' || quantized.id,
                   quantized.amname, quantized.dimension,
                   CASE WHEN quantized.reloptions IS NULL THEN '' ELSE ' WITH (' || array_to_string(quantized.reloptions, ', ') || ')' END);
  END LOOP;
END;
$rebuild$;

-- The binary builds in the history now describe indexes rebuilt at full precision, which is what maintain-index
-- must recreate if one is lost; the CHECK then allows only what migration 115 knew.
UPDATE gallery.index_builds SET precision = 'full' WHERE precision = 'binary';

ALTER TABLE gallery.index_builds
  DROP CONSTRAINT index_builds_precision_check,
  ADD CONSTRAINT index_builds_precision_check CHECK (precision IN ('full', 'half'));

COMMENT ON COLUMN gallery.index_builds.precision IS
  'full: the index is on embedding::vector(N); half: on embedding::halfvec(N) (dbfirst index rebuild --precision half).';

-- 'half' when the model's managed index is on embedding::halfvec(N), else 'full' (also when it has none).
CREATE OR REPLACE FUNCTION gallery.index_precision(model_id integer)
RETURNS text
LANGUAGE plpgsql  -- not sql: PL/pgSQL keeps its plan, and this runs on every search and embedding write
STABLE
SET search_path = gallery, public, pg_temp
AS $fn$
BEGIN
  RETURN CASE WHEN EXISTS (
    SELECT 1
    FROM pg_index i
    JOIN pg_opclass o ON o.oid = i.indclass[0]
    WHERE i.indexrelid = to_regclass('gallery.image_embeddings_m' || index_precision.model_id || '_embedding_idx')
      AND o.opcname LIKE 'halfvec%') THEN 'half' ELSE 'full' END;
END;
$fn$;

COMMENT ON FUNCTION gallery.index_precision(integer) IS
  'half when the model''s managed vector index (image_embeddings_m<id>_embedding_idx) is on embedding::halfvec(N), else full.';

-- The ORDER BY expression that the model's managed index serves: the cosine distance between column and query,
-- both cast to halfvec(N) for a half-precision index, else to vector(N) (the query, already a vector, as given).
CREATE OR REPLACE FUNCTION gallery.index_order_expression(model_id integer, dimension int, column_sql text, query_sql text)
RETURNS text
LANGUAGE sql
STABLE
SET search_path = gallery, public, pg_temp
AS $fn$
  SELECT CASE gallery.index_precision(model_id)
           WHEN 'half' THEN format('%1$s::halfvec(%3$s) <=> %2$s::halfvec(%3$s)', column_sql, query_sql, dimension)
           ELSE format('%1$s::vector(%3$s) <=> %2$s', column_sql, query_sql, dimension)
         END;
$fn$;

COMMENT ON FUNCTION gallery.index_order_expression(integer, int, text, text) IS
  'Internal to the search functions: the distance expression (column <=> query) that the model''s managed index can order by.';

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

CREATE OR REPLACE FUNCTION gallery.refresh_neighbours(model_id integer, ids bigint[])
RETURNS int
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = gallery, public, pg_temp
SET hnsw.iterative_scan = off
SET ivfflat.iterative_scan = off
SET hnsw.ef_search = 40
SET ivfflat.probes = 1
AS $fn$
DECLARE
  radius    real := gallery.neighbour_radius();
  dimension int;
  probed    int;
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN 0;
  END IF;
  SELECT m.dimension INTO dimension FROM gallery.clip_models m WHERE m.id = refresh_neighbours.model_id;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;

  PERFORM set_config(t.name, t.value, true) FROM gallery.search_tuning() t;

  DELETE FROM gallery.image_neighbours n WHERE n.model_id = refresh_neighbours.model_id AND n.image_id = ANY (ids);

  -- Forward pairs (image -> neighbour) and reverse ones (neighbour -> image) go in with one INSERT:
  -- two would each see the other's rows as conflicts of the same command.
  EXECUTE format($q$
    WITH found AS (
      SELECT a.image_id, b.image_id AS neighbour_id, b.distance,
             min(b.distance) OVER (PARTITION BY a.image_id) AS nearest
      FROM gallery.image_embeddings a
      CROSS JOIN LATERAL (
        SELECT c.image_id, (c.embedding::vector(%2$s) <=> a.embedding::vector(%2$s))::real AS distance
        FROM gallery.image_embeddings c
        WHERE c.model_id = %1$s
          AND c.image_id <> a.image_id
        ORDER BY %3$s
        LIMIT 10
      ) b
      WHERE a.model_id = %1$s
        AND a.image_id = ANY ($1)
    ), kept AS (
      SELECT f.image_id, f.neighbour_id, f.distance
      FROM found f
      WHERE f.distance <= $2 OR f.distance = f.nearest
    ), reverse AS (
      SELECT k.neighbour_id AS image_id, k.image_id AS neighbour_id, k.distance
      FROM kept k
      WHERE k.distance <= $2
         OR k.distance < coalesce((SELECT min(m.distance) FROM gallery.image_neighbours m
                                   WHERE m.model_id = %1$s AND m.image_id = k.neighbour_id), 'infinity')
    ), pairs AS (
      SELECT DISTINCT ON (p.image_id, p.neighbour_id) p.image_id, p.neighbour_id, p.distance
      FROM (SELECT * FROM kept UNION ALL SELECT * FROM reverse) p
      ORDER BY p.image_id, p.neighbour_id
    )
    INSERT INTO gallery.image_neighbours (model_id, image_id, neighbour_id, distance)
    SELECT %1$s, p.image_id, p.neighbour_id, p.distance
    FROM pairs p
    ORDER BY p.image_id, p.neighbour_id  -- a steady lock order between concurrent writers
    ON CONFLICT (model_id, image_id, neighbour_id) DO UPDATE SET distance = EXCLUDED.distance
    $q$, refresh_neighbours.model_id, dimension,
    gallery.index_order_expression(refresh_neighbours.model_id, dimension, 'c.embedding', 'a.embedding::vector(' || dimension || ')'))
    USING ids, radius;

  DELETE FROM gallery.neighbour_pending p WHERE p.model_id = refresh_neighbours.model_id AND p.image_id = ANY (ids);

  SELECT count(*) INTO probed
  FROM gallery.image_embeddings e
  WHERE e.model_id = refresh_neighbours.model_id AND e.image_id = ANY (ids);
  RETURN probed;
END;
$fn$;

DROP FUNCTION gallery.binary_rerank_factor();

ALTER TABLE gallery.settings DROP CONSTRAINT settings_binary_rerank_factor_range;

DELETE FROM gallery.settings WHERE key = 'binary.rerank_factor';
