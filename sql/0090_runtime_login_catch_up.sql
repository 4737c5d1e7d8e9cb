-- What the runtime login dbfirst_app needs from the objects added after its grants (version 40):
--   ingest records each root's filesystem and prunes into a log (version 50);
--   the gallery page in serve queues descriptions and re-embeds (versions 56 and 70);
--   the fill-neighbours job and `dbfirst duplicates --refresh` fill the stored neighbours (version 80).
-- Still no DDL, and no right the README's role table does not list.
GRANT SELECT, INSERT, UPDATE, DELETE ON gallery.ingest_roots, gallery.prune_log TO dbfirst_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA gallery TO dbfirst_app;
GRANT EXECUTE ON FUNCTION gallery.request_description(bigint), gallery.request_reembed(bigint), gallery.fill_neighbours(int) TO dbfirst_app;

-- A re-embed request also clears the back-off of version 51, so embed-pending takes the row on its next run.
CREATE OR REPLACE FUNCTION gallery.request_reembed(image_id bigint)
RETURNS boolean
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  UPDATE gallery.image_gallery
     SET embedding             = NULL,
         embedding_model       = NULL,
         embedded_at           = NULL,
         embed_attempts        = 0,
         embed_error           = NULL,
         embed_error_permanent = false,
         embed_failed_at       = NULL,
         embed_next_attempt_at = NULL
   WHERE id = image_id
  RETURNING true;
$$;
