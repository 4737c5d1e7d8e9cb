-- Claude's output is kept only for the picture it was made from.
--
-- A describe request remembers the content hash of the image it sent: the result is stored only while the row's
-- content_sha256 still equals it, so a file that changed (and was re-ingested) during a call or a 24-hour batch
-- never gets the old picture's description.
ALTER TABLE gallery.describe_batch_items
  ADD COLUMN content_sha256 bytea;   -- the image's content hash when it was sent; NULL if it had none

-- Batches submitted before this migration: the best knowledge of what was sent is the content hash now.
UPDATE gallery.describe_batch_items AS item
   SET content_sha256 = image.content_sha256
  FROM gallery.image_gallery AS image
 WHERE image.id = item.image_id;

COMMENT ON COLUMN gallery.describe_batch_items.content_sha256 IS
  'Content hash of the image when the request was sent; its result is dropped if the image changed since.';

-- The ask cache key covers everything the answer was built from: the model, the question, k, and each image sent
-- with its content hash and the description sent with it. Answers cached under the old key (question, model and
-- image ids only) are kept for reference but never served again: their key is NULL.
ALTER TABLE gallery.ask_cache
  DROP CONSTRAINT ask_cache_key,
  ADD COLUMN k         int,      -- how many images the question asked for
  ADD COLUMN cache_key bytea,    -- SHA-256 over model, question, k and (id, content_sha256, description) of each image sent
  ADD CONSTRAINT ask_cache_lookup UNIQUE (cache_key);

COMMENT ON COLUMN gallery.ask_cache.cache_key IS
  'SHA-256 over the model, question, k and every image sent (id, content hash, description); NULL for answers cached before migration 55, which are never served.';
