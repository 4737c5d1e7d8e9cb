-- Undoes 0018_roles.sql in this database, then drops the roles unless another database of the
-- cluster still grants them something: that database's own rollback will drop them.
DO $roles$
DECLARE
  role_name text;
BEGIN
  FOREACH role_name IN ARRAY ARRAY['gallery_operator', 'gallery_analyst'] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
      EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA gallery FROM %I', role_name);
      EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA gallery FROM %I', role_name);
      EXECUTE format('REVOKE ALL ON SCHEMA gallery FROM %I', role_name);
      BEGIN
        EXECUTE format('DROP ROLE %I', role_name);
      EXCEPTION WHEN dependent_objects_still_exist THEN
        RAISE NOTICE 'role % is kept: another database still grants it privileges (%)', role_name, SQLERRM;
      END;
    END IF;
  END LOOP;
END;
$roles$;
