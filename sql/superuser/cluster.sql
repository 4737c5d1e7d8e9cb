-- The cluster-wide part of DbFirst's superuser step, run by `scripts/db.sh start` as the postgres OS user
-- (peer authentication; no password involved). Everything here needs CREATEROLE or more, so no DbFirst
-- login could do it itself. psql variables: owner_password, app_password, replicator_password.
--
--   dbfirst_owner  owns the database, schema gallery and its SECURITY DEFINER functions; runs migrations and
--                  index management. CREATEDB so the tests can create and drop their own databases.
--   dbfirst_app    what serve, worker, ingest, embed, describe and ask log in as: DML on the gallery tables,
--                  the search functions, and its own Hangfire schema (migrations 40 and 41 grant the rest).
--   gallery_analyst, gallery_operator  NOLOGIN group roles for people (migration 18 grants their rights).
--   dbfirst_replicator  REPLICATION login of a streaming standby (`scripts/db.sh replica`): it may stream WAL and
--                  take base backups, and has no rights in any database.

SET client_min_messages = warning;
-- Passwords must never reach the server log, whatever the cluster's logging settings.
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
SET password_encryption = 'scram-sha-256';

-- A cluster made by an older db.sh has the published SUPERUSER login "dbfirst" that owns everything:
-- renaming it keeps every ownership and grant, and the new password below replaces the published one.
SELECT 'ALTER ROLE dbfirst RENAME TO dbfirst_owner'
WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbfirst')
  AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbfirst_owner')
\gexec
SELECT 'ALTER ROLE dbfirst NOLOGIN NOSUPERUSER PASSWORD NULL'
WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbfirst')
\gexec

SELECT 'CREATE ROLE dbfirst_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbfirst_owner')
\gexec
SELECT 'CREATE ROLE dbfirst_app' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbfirst_app')
\gexec
SELECT 'CREATE ROLE gallery_analyst' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gallery_analyst')
\gexec
SELECT 'CREATE ROLE dbfirst_replicator' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbfirst_replicator')
\gexec
SELECT 'CREATE ROLE gallery_operator' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gallery_operator')
\gexec

-- Attributes are set on every start, so a role changed by hand returns to what the README's table says.
ALTER ROLE dbfirst_owner LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'owner_password';
ALTER ROLE dbfirst_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'app_password';
ALTER ROLE dbfirst_replicator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION NOBYPASSRLS NOINHERIT PASSWORD :'replicator_password';
ALTER ROLE gallery_analyst NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE gallery_operator NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

-- The operator is an analyst who may also tune settings; the runtime login searches like an analyst.
GRANT gallery_analyst TO gallery_operator;
GRANT gallery_analyst TO dbfirst_app;
-- The owner may act as each of them (SET ROLE): it hands the Hangfire schema to dbfirst_app and the tests
-- check every role's rights from the owner's connection.
GRANT dbfirst_app TO dbfirst_owner;
GRANT gallery_operator TO dbfirst_owner;

-- New databases (the tests' and benchmarks' too) are copies of template1, where sql/superuser/database.sql
-- installs what only a superuser can: this cluster is DbFirst's own.
SELECT 'CREATE DATABASE dbfirst OWNER dbfirst_owner'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'dbfirst')
\gexec
