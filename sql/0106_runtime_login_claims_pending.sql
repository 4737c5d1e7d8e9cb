-- Embedding claims lock their queue rows (`FOR NO KEY UPDATE OF g, p SKIP LOCKED` on gallery.embedding_pending, see
-- src/Core/Embedding/EmbeddingStore.cs), and PostgreSQL lets only a role with UPDATE on a table lock its rows.
-- Migration 100 granted dbfirst_app SELECT and DELETE only, so `dbfirst embed`, `worker` and `serve` running as the
-- runtime login failed with "permission denied for table embedding_pending". The code never updates the queue:
-- rows enter and leave it through the triggers on image_gallery and image_embeddings.
GRANT UPDATE ON gallery.embedding_pending TO dbfirst_app;
