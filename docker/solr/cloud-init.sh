#!/usr/bin/env bash
# solr-cloud-init (docker-compose.cluster.yml), one-off at every `up`, after both Solr nodes are
# healthy: uploads the image's configsets (`ckan`, `council`: CKAN's schema with the German
# analysis, docs/search.md) to ZooKeeper and creates a collection of each name,
# VIERSTAEDTE_SOLR_SHARDS shards x VIERSTAEDTE_SOLR_REPLICAS replicas (2 x 2: Solr's placement
# puts a shard's replicas on different nodes, so either node can die). An existing collection is
# reloaded with the uploaded configset, never recreated; after a configset change rebuild the
# index (docs/deploy.md). The admin's password goes to wget in a wgetrc file, never on a command
# line.
set -euo pipefail

: "${ZK_HOST:?set ZK_HOST (zookeeper:2181)}"
CONFIGSETS=/opt/solr/server/solr/configsets
SHARDS=${VIERSTAEDTE_SOLR_SHARDS:-2}
REPLICAS=${VIERSTAEDTE_SOLR_REPLICAS:-2}
read -r -a NODES <<<"${VIERSTAEDTE_SOLR_NODES:-solr1:8983 solr2:8983}"

log() { printf 'solr-cloud-init: %s\n' "$*" >&2; }

umask 077
WGETRC=$(mktemp)
export WGETRC
trap 'rm -f "$WGETRC"' EXIT
printf 'http_user = admin\nhttp_password = %s\nauth_no_challenge = on\n' \
  "$(tr -d '\n' <"${SOLR_ADMIN_PASSWORD_FILE:-/run/secrets/solr_admin_password}")" >"$WGETRC"

api() {  # api QUERY: the Collections API on the first node; its JSON on stdout, errors included
  wget -q --content-on-error -O - "http://${NODES[0]}/solr/admin/collections?$1&wt=json"
}

# CKAN 2.12's schema.xml declares _version_ a string. A standalone core never reads it back, but
# a SolrCloud replica does (a delete by id, a recovery): as a long with docValues, as Solr's own
# configsets and scripts/solr/cloud have it.
VERSION_STRING='<field name="_version_" type="string" indexed="true" stored="true"/>'
VERSION_LONG='<field name="_version_" type="plong" indexed="false" stored="false"'
VERSION_LONG+=' docValues="true"/>'
cloud_conf() {  # cloud_conf NAME DIR: the image's configset NAME for SolrCloud, in DIR
  cp -R "$CONFIGSETS/$1/conf" "$2"
  sed -i "s|$VERSION_STRING|$VERSION_LONG|" "$2/schema.xml"
  grep -q '<field name="_version_" type="plong"' "$2/schema.xml" \
    || { log "$1: _version_ is neither CKAN's string nor a plong"; exit 1; }
}

live=0
for _ in $(seq 60); do
  live=$(solr zk ls /live_nodes -z "$ZK_HOST" 2>/dev/null | grep -c '_solr$' || true)
  ((live >= ${#NODES[@]})) && break
  sleep 2
done
((live >= ${#NODES[@]})) || { log "$live of ${#NODES[@]} Solr nodes live after 120 s"; exit 1; }

existing=$(api "action=LIST")
for name in ckan council; do
  conf=$(mktemp -d)
  cloud_conf "$name" "$conf/conf"
  solr zk upconfig -n "$name" -d "$conf/conf" -z "$ZK_HOST"
  rm -rf "$conf"
  if grep -q "\"$name\"" <<<"$existing"; then
    log "collection $name exists: reloading it with the uploaded configset"
    api "action=RELOAD&name=$name" >/dev/null
  else
    log "creating collection $name: $SHARDS shards x $REPLICAS replicas"
    shape="numShards=$SHARDS&replicationFactor=$REPLICAS&collection.configName=$name"
    api "action=CREATE&name=$name&$shape&waitForFinalState=true" >/dev/null
  fi
done
log "collections ready: ckan, council"
