#!/usr/bin/env bash
# Run by the Solr image before Solr starts (/docker-entrypoint-initdb.d, sourced by its
# run-initdb, as user solr) on every start. solr-precreate copies the image's configset into
# the data volume once, when it creates the core; a core an older image created keeps its old
# conf. So a changed configset is copied over it here, and the core is marked
# (reindex-needed): its documents lack the new fields until CKAN indexes them again with
# `docker compose run --rm ckan ckan search-index rebuild` (docs/deploy.md). The council core
# (docs/council.md) is created here when the volume has none (Solr discovers it by its
# core.properties), and gets a changed configset the same way (rebuild it with
# `docker compose run --rm ckan ckan vierstaedte council reindex --all`). In a subshell,
# because run-initdb sources this file.
(
  set -euo pipefail
  # a SolrCloud node (docker-compose.cluster.yml): the collections' configsets live in ZooKeeper
  # (cloud-init.sh uploads them), and a core folder here would be a stray standalone core
  [[ -z ${ZK_HOST:-} ]] || exit 0
  configsets=/opt/solr/server/solr/configsets
  data=${SOLR_HOME:-/var/solr/data}
  update() {  # update CORE CONFIGSET REBUILD-COMMAND
    local configset=$2 core=$data/$1
    [[ -d $configset ]] || return 0
    if [[ $1 == council && ! -d $core/conf ]]; then  # a new volume, or one from before the council core
      mkdir -p "$core"
      cp -R "$configset" "$core/conf"
      echo "name=council" >"$core/core.properties"
      return 0
    fi
    [[ -d $core/conf ]] || return 0  # a new volume: solr-precreate creates the core from the configset
    diff -rq "$configset" "$core/conf" >/dev/null 2>&1 && return 0
    rm -rf "$core/conf.new"
    cp -R "$configset" "$core/conf.new"
    rm -rf "$core/conf"
    mv "$core/conf.new" "$core/conf"
    touch "$core/reindex-needed"
    echo "20-configset.sh: core $1 has the new configset; rebuild its index ($3)" >&2
  }
  update ckan "${VIERSTAEDTE_CONFIGSET:-$configsets/ckan/conf}" \
    "docker compose run --rm ckan ckan search-index rebuild"
  update council "${VIERSTAEDTE_COUNCIL_CONFIGSET:-$configsets/council/conf}" \
    "docker compose run --rm ckan ckan vierstaedte council reindex --all"
)
