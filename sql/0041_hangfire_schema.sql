-- Hangfire's tables belong to the runtime login, which creates and upgrades them at start
-- (Hangfire.PostgreSql's PrepareSchemaIfNecessary). The owner creates the schema for it, or, in a database
-- where the owner (once the superuser "dbfirst") created them, hands the schema and its objects over.
-- The owner may do this because it is a member of dbfirst_app (sql/superuser/cluster.sql).
DO $hangfire$
DECLARE
  object record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'hangfire') THEN
    CREATE SCHEMA hangfire AUTHORIZATION dbfirst_app;
    RETURN;
  END IF;
  IF (SELECT nspowner FROM pg_namespace WHERE nspname = 'hangfire') <> (SELECT oid FROM pg_roles WHERE rolname = current_user) THEN
    RETURN;  -- someone else's already (dbfirst_app's, from an earlier run): nothing to hand over
  END IF;
  FOR object IN
    SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'hangfire' AND c.relkind IN ('r', 'p', 'v', 'm')
  LOOP
    EXECUTE format('ALTER TABLE hangfire.%I OWNER TO dbfirst_app', object.relname);  -- takes its sequences and indexes along
  END LOOP;
  FOR object IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'hangfire' AND c.relkind = 'S'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE format('ALTER SEQUENCE hangfire.%I OWNER TO dbfirst_app', object.relname);
  END LOOP;
  FOR object IN
    SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'hangfire'
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO dbfirst_app', object.signature);
  END LOOP;
  ALTER SCHEMA hangfire OWNER TO dbfirst_app;
END;
$hangfire$;
