-- One row per image file. The embedding pipeline fills the embedding columns,
-- the describe job fills the description columns; ingest owns the rest.
CREATE TABLE gallery.image_gallery (
  id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  path              text        NOT NULL UNIQUE,   -- absolute path as seen by the workers
  content_sha256    bytea,                         -- finds changed files and duplicates
  byte_size         bigint,
  width             int,
  height            int,
  media_type        text,                          -- from the file's bytes, e.g. image/jpeg
  taken_at          timestamptz,                   -- EXIF capture time, when the file has one
  ingested_at       timestamptz NOT NULL DEFAULT now(),
  embedding         vector(512),                   -- CLIP ViT-B/32, L2-normalised
  embedding_model   text,
  embedded_at       timestamptz,
  embed_attempts    int         NOT NULL DEFAULT 0,
  embed_error       text,                          -- last reason the image could not be embedded
  description       text,                          -- written by Claude
  description_model text,
  described_at      timestamptz
);

COMMENT ON TABLE gallery.image_gallery IS 'Images known to DbFirst, with their CLIP embeddings and Claude descriptions.';

-- Workers claim rows that still need an embedding; the partial index keeps that lookup
-- cheap however large the embedded part of the gallery grows.
CREATE INDEX image_gallery_pending_idx
  ON gallery.image_gallery (id)
  WHERE embedding IS NULL;
