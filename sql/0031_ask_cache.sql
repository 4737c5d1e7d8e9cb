-- Answers Claude gave to `dbfirst ask`, so the same question over the same images and model costs nothing twice.
CREATE TABLE gallery.ask_cache (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  question        text        NOT NULL,
  question_sha256 bytea       NOT NULL,   -- the lookup key: questions can be longer than a btree entry allows
  model           text        NOT NULL,
  image_ids       bigint[]    NOT NULL,   -- the images sent, in rank order
  answer          text        NOT NULL,
  input_tokens    bigint      NOT NULL,
  output_tokens   bigint      NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  hits            int         NOT NULL DEFAULT 0,
  last_hit_at     timestamptz,
  CONSTRAINT ask_cache_key UNIQUE (question_sha256, model, image_ids)
);

COMMENT ON TABLE gallery.ask_cache IS 'Claude answers to dbfirst ask, keyed by question, model and the images sent.';
