-- What makes `dbfirst ingest --prune` safe to run against a mount that may be missing.
--
-- ingest_roots remembers, per folder named to ingest, the filesystem it was on. A prune under a root that is
-- now on another filesystem (an empty mount point shows its parent's) is refused unless --force.
CREATE TABLE gallery.ingest_roots (
  path         text        PRIMARY KEY,          -- absolute folder (or file) as named to ingest
  device       bigint      NOT NULL,             -- st_dev of the root when it was last ingested with files in it
  recorded_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE gallery.ingest_roots IS
  'Folders ingested, with the filesystem (st_dev) each was on; prune refuses a root found on another one.';

-- Every row prune deleted, so an operator can see what went and restore it by re-ingesting.
CREATE TABLE gallery.prune_log (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pruned_at        timestamptz NOT NULL DEFAULT now(),   -- one value per ingest run (transaction time)
  root             text        NOT NULL,                 -- the ingest root the row was under
  image_id         bigint      NOT NULL,                 -- gallery.image_gallery.id it had
  path             text        NOT NULL,
  content_sha256   bytea,
  had_embedding    boolean     NOT NULL,
  had_description  boolean     NOT NULL,                 -- a paid Claude description went with it
  forced           boolean     NOT NULL,                 -- deleted with --force, past the safety checks
  pruned_by        text        NOT NULL DEFAULT current_user
);

CREATE INDEX prune_log_pruned_at_idx ON gallery.prune_log (pruned_at);

COMMENT ON TABLE gallery.prune_log IS 'Rows deleted by `dbfirst ingest --prune`, one per image.';

-- A path ingest met as a symbolic link (--follow-symlinks): a link there later is expected, not a swap.
ALTER TABLE gallery.image_gallery
  ADD COLUMN ingested_via_symlink boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN gallery.image_gallery.ingested_via_symlink IS
  'Ingest reached the file through a symbolic link; readers refuse a link at any other row''s path.';

GRANT SELECT ON gallery.ingest_roots, gallery.prune_log TO gallery_operator;
