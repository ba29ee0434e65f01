#!/usr/bin/env bash
# The compose database's roles, made once when its volume is first initialised (mounted into
# the postgres image's /docker-entrypoint-initdb.d; docs/deploy.md, ADR 0022):
#   onestory_owner  owns the schema and runs migrations (the `migrate` service);
#   onestory_web    the web server's and worker's login, a member of onestory_app;
#   onestory_app    what the application may do; row-level security binds it (neither
#                   superuser nor BYPASSRLS) and it may not change the audit trail.
# The superuser (POSTGRES_USER) is kept for backups and restores only.
set -euo pipefail
: "${ONESTORY_DB_OWNER_PASSWORD:?set ONESTORY_DB_OWNER_PASSWORD}"
: "${ONESTORY_DB_WEB_PASSWORD:?set ONESTORY_DB_WEB_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" \
  -v owner_password="$ONESTORY_DB_OWNER_PASSWORD" \
  -v web_password="$ONESTORY_DB_WEB_PASSWORD" <<'SQL'
CREATE ROLE onestory_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
CREATE ROLE onestory_owner LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'owner_password';
CREATE ROLE onestory_web LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'web_password'
  IN ROLE onestory_app;
ALTER DATABASE :"db" OWNER TO onestory_owner;
ALTER SCHEMA public OWNER TO onestory_owner;
SQL
