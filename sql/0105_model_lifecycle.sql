-- The model lifecycle a DBA drives: stage a new model, watch its backfill, promote it, roll back, drop a retired one.
-- `dbfirst model stage|promote|rollback|drop` call exactly these functions; a DBA may call them from psql as the owner
-- (nobody else may: EXECUTE is revoked from PUBLIC).
--
--   gallery.stage_model(name, dimension, source, layout)  registers the staged model and creates its partition; from
--                                                         then on embed jobs backfill it after the active model
--   gallery.promote_model(min_coverage)                   staged -> active, active -> retired (its embeddings kept)
--   gallery.rollback_model()                              the latest retired model with kept embeddings -> active
--   gallery.drop_model(name, force)                       a retired (or abandoned staged) model's partition, index
--                                                         and registration go
--
-- Each step is one transaction under the registry's advisory lock (the one gallery.ensure_active_model takes), so two
-- DBAs, or a DBA and the first embedder of a fresh gallery, cannot interleave. Every wait is bounded by lock_timeout:
-- a step that cannot get its locks within it fails with SQLSTATE 55P03 and changes nothing.
--
-- Searches read gallery.active_model() once per call: a search running while promote or rollback commits finishes
-- on the model it started with, whose partition and index stay (the old model is retired, not dropped). Only drop
-- takes a lock searches see (DROP TABLE of a partition locks gallery.image_embeddings), for at most lock_timeout.
--
-- Refusals use SQLSTATE 55000 (object_not_in_prerequisite_state) or 42704 (undefined_object) with one line written
-- for the operator; the runner prints that line as it is.

CREATE FUNCTION gallery.stage_model(name text, dimension integer, source text, layout text)
RETURNS gallery.clip_models
LANGUAGE plpgsql
VOLATILE
SET search_path = gallery, public, pg_temp
SET lock_timeout = '10s'
AS $fn$
DECLARE
  model  gallery.clip_models;
  staged gallery.clip_models;
BEGIN
  IF name IS NULL OR btrim(name) = '' THEN
    RAISE EXCEPTION 'gallery.stage_model: the model name is empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF dimension IS NULL OR dimension NOT BETWEEN 1 AND 16000 THEN
    RAISE EXCEPTION 'gallery.stage_model: dimension must be between 1 and 16000, not %', dimension
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  PERFORM pg_advisory_xact_lock(hashtext('gallery.clip_models'));

  SELECT m.* INTO staged FROM gallery.clip_models m WHERE m.state = 'staged';
  IF FOUND AND staged.name <> stage_model.name THEN
    RAISE EXCEPTION 'model stage refused: % is already staged; promote it, or drop it with dbfirst model drop % --force', staged.name, staged.name
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  SELECT m.* INTO model FROM gallery.clip_models m WHERE m.name = stage_model.name;
  IF FOUND THEN
    IF model.state = 'active' THEN
      RAISE EXCEPTION 'model stage refused: % is already the active model', model.name
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF model.dimension <> stage_model.dimension THEN
      RAISE EXCEPTION 'model stage refused: % is registered with % dimensions, the model in % has %; drop it first or give the new model another name',
        model.name, model.dimension, stage_model.source, stage_model.dimension
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- A retired model staged again keeps the embeddings it has: only what it missed meanwhile is backfilled.
    UPDATE gallery.clip_models m
    SET state = 'staged', source = stage_model.source, layout = stage_model.layout, retired_at = NULL
    WHERE m.id = model.id
    RETURNING m.* INTO model;
  ELSE
    INSERT INTO gallery.clip_models (name, dimension, source, layout, state)
    VALUES (stage_model.name, stage_model.dimension, stage_model.source, stage_model.layout, 'staged')
    RETURNING * INTO model;
  END IF;

  PERFORM gallery.create_model_storage(model.id);
  RETURN model;
END;
$fn$;

COMMENT ON FUNCTION gallery.stage_model(text, integer, text, text) IS
  'Registers a CLIP model as the staged one (a retired model of that name keeps its embeddings) and creates its storage; embed jobs then backfill it. Owner only.';

CREATE FUNCTION gallery.promote_model(min_coverage double precision DEFAULT 1.0)
RETURNS gallery.clip_models
LANGUAGE plpgsql
VOLATILE
SET search_path = gallery, public, pg_temp
SET lock_timeout = '10s'
AS $fn$
DECLARE
  staged   gallery.clip_models;
  images   bigint;
  pending  bigint;
  embedded bigint;
BEGIN
  IF min_coverage IS NULL OR min_coverage NOT BETWEEN 0 AND 1 THEN
    RAISE EXCEPTION 'gallery.promote_model: min_coverage must be between 0 and 1, not %', min_coverage
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  PERFORM pg_advisory_xact_lock(hashtext('gallery.clip_models'));

  SELECT m.* INTO staged FROM gallery.clip_models m WHERE m.state = 'staged';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model promote refused: no model is staged (dbfirst model stage DIR)'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  -- Exact, as gallery.model_coverage counts: every image is either embedded or pending for each registered model.
  SELECT count(*) INTO images FROM gallery.image_gallery;
  SELECT count(*) INTO pending FROM gallery.embedding_pending p WHERE p.model_id = staged.id;
  embedded := images - pending;
  IF images > 0 AND embedded < min_coverage * images THEN
    RAISE EXCEPTION 'model promote refused: % has embedded % of % images (%), below --min-coverage %',
      staged.name, embedded, images,
      to_char(100.0 * embedded / images, 'FM990.0') || '%', to_char(100.0 * min_coverage, 'FM990.0') || '%'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  -- Searches must find an index the moment they switch: without one every search would be an exact scan.
  IF NOT EXISTS (
    SELECT 1
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
    WHERE i.indrelid = to_regclass('gallery.image_embeddings_m' || staged.id)
      AND am.amname IN ('hnsw', 'ivfflat')
      AND i.indisvalid)
  THEN
    RAISE EXCEPTION 'model promote refused: % has no valid vector index yet (dbfirst index rebuild --model %)', staged.name, staged.name
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  -- Retire first: at most one model is active at any moment (clip_models_one_active).
  UPDATE gallery.clip_models m SET state = 'retired', retired_at = now() WHERE m.state = 'active';
  UPDATE gallery.clip_models m SET state = 'active', activated_at = now(), retired_at = NULL
  WHERE m.id = staged.id
  RETURNING m.* INTO staged;
  RETURN staged;
END;
$fn$;

COMMENT ON FUNCTION gallery.promote_model(double precision) IS
  'Makes the staged model active (the active one retired, embeddings kept) when it has embedded at least min_coverage of the images and has a valid vector index; refuses otherwise. Owner only.';

CREATE FUNCTION gallery.rollback_model()
RETURNS gallery.clip_models
LANGUAGE plpgsql
VOLATILE
SET search_path = gallery, public, pg_temp
SET lock_timeout = '10s'
AS $fn$
DECLARE
  previous gallery.clip_models;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('gallery.clip_models'));

  -- The model retired last whose partition still exists. Images it missed while retired are pending for it
  -- (every image is pending for every registered model until embedded), so embed jobs bring it current first.
  SELECT m.* INTO previous
  FROM gallery.clip_models m
  WHERE m.state = 'retired' AND to_regclass('gallery.image_embeddings_m' || m.id) IS NOT NULL
  ORDER BY m.retired_at DESC NULLS LAST, m.id DESC
  LIMIT 1;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model rollback refused: no retired model with kept embeddings to return to'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  UPDATE gallery.clip_models m SET state = 'retired', retired_at = now() WHERE m.state = 'active';
  UPDATE gallery.clip_models m SET state = 'active', activated_at = now(), retired_at = NULL
  WHERE m.id = previous.id
  RETURNING m.* INTO previous;
  RETURN previous;
END;
$fn$;

COMMENT ON FUNCTION gallery.rollback_model() IS
  'Makes the most recently retired model whose embeddings are kept active again; the active one is retired. Owner only.';

CREATE FUNCTION gallery.drop_model(name text, force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = gallery, public, pg_temp
SET lock_timeout = '5s'
AS $fn$
DECLARE
  model     gallery.clip_models;
  partition regclass;
  lost      bigint := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('gallery.clip_models'));

  SELECT m.* INTO model FROM gallery.clip_models m WHERE m.name = drop_model.name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model drop refused: no model named % (dbfirst model list)', drop_model.name
      USING ERRCODE = 'undefined_object';
  END IF;
  IF model.state = 'active' THEN
    RAISE EXCEPTION 'model drop refused: % is the active model; promote or roll back to another model first', model.name
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  partition := to_regclass('gallery.image_embeddings_m' || model.id);
  IF partition IS NOT NULL THEN
    EXECUTE format('SELECT count(*) FROM %s', partition) INTO lost;
  END IF;
  IF lost > 0 AND NOT coalesce(force, false) THEN
    RAISE EXCEPTION 'model drop refused: it would destroy % embeddings of the % model %; add --force', lost, model.state, model.name
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  -- The partition's index goes with it. Its pending rows go by the foreign key's cascade.
  IF partition IS NOT NULL THEN
    EXECUTE format('DROP TABLE %s', partition);
  END IF;
  DELETE FROM gallery.clip_models m WHERE m.id = model.id;
  RETURN lost;
END;
$fn$;

COMMENT ON FUNCTION gallery.drop_model(text, boolean) IS
  'Drops a retired or staged model: its partition (embeddings and index), pending rows and registration; refuses while it holds embeddings unless force. Owner only.';

REVOKE EXECUTE ON FUNCTION gallery.stage_model(text, integer, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.promote_model(double precision) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.rollback_model() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gallery.drop_model(text, boolean) FROM PUBLIC;
