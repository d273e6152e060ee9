#!/usr/bin/env bash
# Run by the Solr image before Solr starts (/docker-entrypoint-initdb.d, sourced by its
# run-initdb, as user solr) on every start. solr-precreate copies the image's configset into
# the data volume once, when it creates the core; a core an older image created keeps its old
# conf. So a changed configset is copied over it here, and the core is marked
# (reindex-needed): its documents lack the new fields until CKAN indexes them again with
# `docker compose run --rm ckan ckan search-index rebuild` (docs/deploy.md). In a subshell,
# because run-initdb sources this file.
(
  set -euo pipefail
  configset=${VIERSTAEDTE_CONFIGSET:-/opt/solr/server/solr/configsets/ckan/conf}
  core=${SOLR_HOME:-/var/solr/data}/ckan
  [[ -d $core/conf ]] || exit 0  # a new volume: solr-precreate creates the core from the configset
  diff -rq "$configset" "$core/conf" >/dev/null 2>&1 && exit 0
  rm -rf "$core/conf.new"
  cp -R "$configset" "$core/conf.new"
  rm -rf "$core/conf"
  mv "$core/conf.new" "$core/conf"
  touch "$core/reindex-needed"
  echo "20-configset.sh: core ckan has the new configset; rebuild the search index" \
    "(docker compose run --rm ckan ckan search-index rebuild)" >&2
)
