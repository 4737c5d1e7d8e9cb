-- Undoes 0055_fresh_claude_output.sql. The old ask cache key (question, model, image ids) is narrower, so of the
-- answers that share one only the newest is kept.
DELETE FROM gallery.ask_cache AS older
 USING gallery.ask_cache AS newer
 WHERE older.question_sha256 = newer.question_sha256
   AND older.model = newer.model
   AND older.image_ids = newer.image_ids
   AND older.id < newer.id;

ALTER TABLE gallery.ask_cache
  DROP CONSTRAINT IF EXISTS ask_cache_lookup,
  DROP COLUMN IF EXISTS cache_key,
  DROP COLUMN IF EXISTS k,
  ADD CONSTRAINT ask_cache_key UNIQUE (question_sha256, model, image_ids);

ALTER TABLE gallery.describe_batch_items
  DROP COLUMN IF EXISTS content_sha256;
