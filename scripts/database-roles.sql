-- PostgreSQL roles for OneStory (ADR 0022, docs/deploy.md). Run once per server as a
-- superuser: psql -U postgres -f scripts/database-roles.sql
--
-- onestory_app: what the application may do. No login, neither superuser nor BYPASSRLS, so
--   row-level security binds it; the migration grants it the tables but no UPDATE, DELETE or
--   TRUNCATE on the audit trail. A deployment's web and worker log in as a member of it.
-- onestory_ci: the test suite's login (creates its test databases, and owns what it
--   migrates; FORCE makes the policies bind the owner too).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'onestory_app') THEN
    CREATE ROLE onestory_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'onestory_ci') THEN
    CREATE ROLE onestory_ci LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB;
  END IF;
  -- Re-running the script puts a changed role right.
  ALTER ROLE onestory_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  ALTER ROLE onestory_ci NOSUPERUSER NOBYPASSRLS;
END
$$;
GRANT onestory_app TO onestory_ci;
