-- The runtime login dbfirst_app: what serve, worker, ingest, embed, describe and ask need, and nothing more.
-- No DDL: index management (`dbfirst index`, the maintain-index job) runs as the owner, the only role that
-- may build and swap indexes (PostgreSQL 15 has no narrower privilege for REINDEX or CREATE INDEX CONCURRENTLY).
-- The login itself is created by the superuser step of scripts/db.sh (sql/superuser/cluster.sql).
DO $role$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbfirst_app') THEN
    RAISE EXCEPTION 'role dbfirst_app does not exist: run the superuser step first (scripts/db.sh start, or sql/superuser/cluster.sql as a superuser)'
      USING ERRCODE = 'undefined_object';
  END IF;
END;
$role$;

GRANT USAGE ON SCHEMA gallery TO dbfirst_app;

-- ingest registers, updates and prunes images; embed and describe write their columns.
GRANT SELECT, INSERT, UPDATE, DELETE ON gallery.image_gallery TO dbfirst_app;
-- ask caches answers; describe --batch / --collect keep their bookkeeping.
GRANT SELECT, INSERT, UPDATE, DELETE ON gallery.ask_cache, gallery.describe_batches, gallery.describe_batch_items TO dbfirst_app;
-- status and the search functions read the tuned settings and the index history.
GRANT SELECT ON gallery.settings, gallery.index_builds TO dbfirst_app;
-- serve, worker and embed refuse to start on a schema that lacks migrations.
GRANT SELECT ON gallery.schema_version TO dbfirst_app;
-- identity columns of the tables it inserts into
GRANT USAGE ON ALL SEQUENCES IN SCHEMA gallery TO dbfirst_app;
