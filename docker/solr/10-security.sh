#!/usr/bin/env bash
# Run by the Solr image before Solr starts (/docker-entrypoint-initdb.d, sourced by its
# run-initdb, as user solr) on every start: writes $SOLR_HOME/security.json from the Docker
# secrets, with the local stack's rules (scripts/solr/security-json.sh, mounted beside it):
# `ckan` searches and indexes, `admin` manages cores and configuration, anonymous clients
# may only ping. In a subshell, because run-initdb sources this file.
(
  set -euo pipefail
  umask 077
  "${VIERSTAEDTE_SECURITY_JSON:-/opt/vierstaedte/security-json.sh}" \
    "${SOLR_PASSWORD_FILE:-/run/secrets/solr_password}" "${SOLR_ADMIN_PASSWORD_FILE:-/run/secrets/solr_admin_password}" \
    >"${SOLR_HOME:-/var/solr/data}/security.json.new"
  mv "${SOLR_HOME:-/var/solr/data}/security.json.new" "${SOLR_HOME:-/var/solr/data}/security.json"
)
