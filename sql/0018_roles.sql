-- Roles for people who query the gallery but do not own it.
--   gallery_analyst  reads images and calls the search functions; changes nothing.
--   gallery_operator an analyst who also adjusts settings (e.g. embed_url, tuned search breadth),
--                    reads the index build history and may clear the text-embedding cache.
-- Both are NOLOGIN group roles: grant them to login roles (GRANT gallery_analyst TO alice).
-- Roles belong to the whole cluster, so creation tolerates another database having made them first.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gallery_analyst') THEN
    BEGIN
      CREATE ROLE gallery_analyst NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- created meanwhile by a migration of another database
    END;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gallery_operator') THEN
    BEGIN
      CREATE ROLE gallery_operator NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
  IF NOT pg_has_role('gallery_operator', 'gallery_analyst', 'MEMBER') THEN
    BEGIN
      GRANT gallery_analyst TO gallery_operator;
    EXCEPTION WHEN unique_violation THEN
      NULL;
    END;
  END IF;
END;
$roles$;

GRANT USAGE ON SCHEMA gallery TO gallery_analyst;
GRANT SELECT ON gallery.image_gallery TO gallery_analyst;
GRANT EXECUTE ON FUNCTION
  gallery.search_by_embedding(vector, int, text, timestamptz, timestamptz),
  gallery.similar_images(bigint, int, text, timestamptz, timestamptz),
  gallery.search(text, int, text, timestamptz, timestamptz),
  gallery.search_descriptions(text, int, text, timestamptz, timestamptz),
  gallery.hybrid_search(text, int, text, timestamptz, timestamptz),
  gallery.near_duplicates(real, int, text),
  -- called by the functions above, which run with the caller's rights
  gallery.search_tuning(),
  gallery.text_embedding(text)
TO gallery_analyst;

GRANT SELECT, INSERT, UPDATE, DELETE ON gallery.settings TO gallery_operator;
GRANT SELECT, DELETE ON gallery.text_embeddings TO gallery_operator;
GRANT SELECT ON gallery.index_builds TO gallery_operator;
