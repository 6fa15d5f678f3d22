#!/bin/sh
# docker-compose's `roles` service: roles.sql for the application's role, then its password
# from the environment (so changing DB_APP_PASSWORD and starting again changes it).
# Connects with the PG* variables, as the owner of the database.
set -eu
psql -v ON_ERROR_STOP=1 -v roles_sql="$(dirname "$0")/roles.sql" \
    -v app="$APP_ROLE" -v app_password="$APP_PASSWORD" <<'SQL'
SET custapproval.app_role = :'app';
\i :roles_sql
ALTER ROLE :"app" PASSWORD :'app_password';
SQL
