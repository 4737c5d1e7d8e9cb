-- One row per vector index build or reindex by `dbfirst index rebuild` and the maintain-index job,
-- so `index status` can show build time and the job can tell how far the table drifted since.
CREATE TABLE gallery.index_builds (
  id             bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  index_name     text             NOT NULL,
  method         text             NOT NULL CHECK (method IN ('hnsw', 'ivfflat')),
  parameters     text             NOT NULL,          -- as in the index's WITH (...), e.g. m=16, ef_construction=64
  operation      text             NOT NULL CHECK (operation IN ('create', 'reindex')),
  row_count      bigint           NOT NULL,          -- embedded rows when the build started
  tuples_changed bigint,                             -- n_tup_upd + n_tup_del of image_gallery when it finished
  build_seconds  double precision NOT NULL,
  size_bytes     bigint           NOT NULL,
  built_at       timestamptz      NOT NULL DEFAULT now()
);

COMMENT ON TABLE gallery.index_builds IS 'History of vector index builds (dbfirst index rebuild, maintain-index job).';
