#!/usr/bin/env bash
# Run by the Solr image before a SolrCloud node starts (docker-compose.cluster.yml mounts it into
# /docker-entrypoint-initdb.d, sourced by run-initdb, as user solr) on every start: writes
# security.json into ZooKeeper from the Docker secrets, with the single Solr's users and rules
# (scripts/solr/security-json.sh, as 10-security.sh does for $SOLR_HOME). Before the node
# starts, so it never serves without authentication; the nodes reload it from ZooKeeper when it
# changes. In a subshell, because run-initdb sources this file.
(
  set -euo pipefail
  umask 077
  [[ -n ${ZK_HOST:-} ]] || { echo "cloud-security.sh: ZK_HOST is not set" >&2; exit 1; }
  file=$(mktemp)
  trap 'rm -f "$file"' EXIT
  "${VIERSTAEDTE_SECURITY_JSON:-/opt/vierstaedte/security-json.sh}" \
    "${SOLR_PASSWORD_FILE:-/run/secrets/solr_password}" \
    "${SOLR_ADMIN_PASSWORD_FILE:-/run/secrets/solr_admin_password}" >"$file"
  solr zk cp "file:$file" zk:/security.json -z "$ZK_HOST"
)
