#!/usr/bin/env bash
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d),
# as its superuser: CKAN's roles and databases, as scripts/lib.sh sets them up locally.
# 20-datastore-permissions.sql then applies the DataStore's grants.
#
#   ckan_default   owns both databases (CKAN and the DataStore writer)
#   datastore_ro   read-only DataStore user (DataStore SQL search); no access to CKAN's database;
#                  statements time out after 5 s
#
# Passwords are read from the files named by VIERSTAEDTE_PG_PASSWORD_FILE and
# VIERSTAEDTE_PG_READONLY_PASSWORD_FILE inside psql, never put on a command line.
set -euo pipefail

for var in VIERSTAEDTE_PG_PASSWORD_FILE VIERSTAEDTE_PG_READONLY_PASSWORD_FILE; do
  [[ -s ${!var:-} ]] || { echo "10-vierstaedte.sh: $var must name a non-empty file" >&2; exit 1; }
done

psql -v ON_ERROR_STOP=1 -qX --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" <<'SQL'
\set rw `cat "$VIERSTAEDTE_PG_PASSWORD_FILE"`
\set ro `cat "$VIERSTAEDTE_PG_READONLY_PASSWORD_FILE"`
SELECT format('CREATE ROLE ckan_default LOGIN PASSWORD %L', :'rw') \gexec
SELECT format('CREATE ROLE datastore_ro LOGIN PASSWORD %L', :'ro') \gexec
-- the DataStore SQL search runs as datastore_ro: a statement timeout of 5 s here too, as in
-- scripts/lib.sh (CKAN sets the search's own, ckanext.vierstaedte.datastore.sql_timeout)
ALTER ROLE datastore_ro SET statement_timeout = '5s';
CREATE DATABASE ckan_default OWNER ckan_default ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE datastore_default OWNER ckan_default ENCODING 'UTF8' TEMPLATE template0;
-- only the owner connects to CKAN's own database (the DataStore script revokes it from datastore_ro alone)
REVOKE CONNECT, TEMPORARY ON DATABASE ckan_default FROM PUBLIC;
SQL
