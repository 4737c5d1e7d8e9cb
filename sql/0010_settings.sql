-- Settings that SQL functions read at run time, so an operator changes behaviour with an UPDATE
-- instead of a redeploy. Keys in use:
--   embed_url         where gallery.search asks `dbfirst serve` for text embeddings
--   embed_timeout_ms  how long gallery.search waits for that answer
--   embed_model       the text model the cached embeddings belong to (written by gallery.text_embedding)
--   hnsw.ef_search    tuned HNSW search breadth (written by `dbfirst index tune`)
--   ivfflat.probes    tuned IVFFlat lists probed per query (written by `dbfirst index tune`)
CREATE TABLE gallery.settings (
  key        text        PRIMARY KEY,
  value      text        NOT NULL,
  note       text,                              -- why the value is what it is, e.g. the recall it reached
  updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE gallery.settings IS 'Run-time settings read by the gallery SQL functions (embed_url, tuned index search settings, ...).';

INSERT INTO gallery.settings (key, value, note) VALUES
  ('embed_url', 'http://127.0.0.1:5000/embed/text', 'POST endpoint of `dbfirst serve` that turns text into a CLIP embedding'),
  ('embed_timeout_ms', '5000', 'how long gallery.search waits for the text encoder');
