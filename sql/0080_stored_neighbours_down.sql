-- Back to migration 16: near_duplicates probes the vector index per image again (CREATE OR REPLACE
-- keeps its grants); the stored pairs are derived data, rebuilt by migrating up.
DROP TRIGGER IF EXISTS image_gallery_neighbours_insert ON gallery.image_gallery;
DROP TRIGGER IF EXISTS image_gallery_neighbours_update ON gallery.image_gallery;
DROP TRIGGER IF EXISTS image_gallery_neighbours_delete ON gallery.image_gallery;
DROP FUNCTION IF EXISTS gallery.track_neighbours();
DROP FUNCTION IF EXISTS gallery.fill_neighbours(int);
DROP FUNCTION IF EXISTS gallery.refresh_or_queue_neighbours(bigint[]);
DROP FUNCTION IF EXISTS gallery.refresh_neighbours(bigint[]);
DROP FUNCTION IF EXISTS gallery.has_vector_index();
DROP TABLE IF EXISTS gallery.neighbour_pending;
DROP TABLE IF EXISTS gallery.image_neighbours;
DELETE FROM gallery.settings WHERE key = 'near_duplicates.radius';

CREATE OR REPLACE FUNCTION gallery.near_duplicates(
  max_distance real DEFAULT 0.01,
  neighbours   int  DEFAULT 10,
  folder       text DEFAULT NULL)
RETURNS TABLE (id_a bigint, id_b bigint, distance real)
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
  prefix text := CASE WHEN folder IS NULL OR right(folder, 1) = '/' THEN folder ELSE folder || '/' END;
BEGIN
  IF max_distance IS NULL OR max_distance < 0 OR max_distance > 2 THEN
    RAISE EXCEPTION 'gallery.near_duplicates: max_distance must be between 0 and 2, not %', max_distance USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF neighbours IS NULL OR neighbours < 1 OR neighbours > 100 THEN
    RAISE EXCEPTION 'gallery.near_duplicates: neighbours must be between 1 and 100, not %', neighbours USING ERRCODE = 'invalid_parameter_value';
  END IF;

  PERFORM set_config(t.name, t.value, true) FROM gallery.search_tuning() t;

  RETURN QUERY
  SELECT least(a.id, b.id), greatest(a.id, b.id), min(b.distance)::real AS distance
  FROM gallery.image_gallery a
  CROSS JOIN LATERAL (
    SELECT c.id, c.embedding <=> a.embedding AS distance
    FROM gallery.image_gallery c
    WHERE c.embedding IS NOT NULL
      AND c.id <> a.id
      AND (prefix IS NULL OR starts_with(c.path, prefix))
    ORDER BY c.embedding <=> a.embedding
    LIMIT neighbours
  ) b
  WHERE a.embedding IS NOT NULL
    AND (prefix IS NULL OR starts_with(a.path, prefix))
    AND b.distance <= max_distance
  GROUP BY 1, 2
  ORDER BY 3, 1, 2;
END;
$fn$;

COMMENT ON FUNCTION gallery.near_duplicates(real, int, text) IS
  'Pairs (id_a < id_b) of images within max_distance (cosine) of each other, found by a k-NN of `neighbours` per image through the vector index.';

DROP FUNCTION IF EXISTS gallery.neighbour_radius();
