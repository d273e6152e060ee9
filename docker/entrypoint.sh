#!/usr/bin/env bash
# Entrypoint of the Vier Städte CKAN image.
#
#   entrypoint.sh config      write $CKAN_INI from the environment, then exit
#   entrypoint.sh init        config, wait for PostgreSQL/Solr/Redis, `ckan db init`,
#                             `ckan vierstaedte init-cities` and index what Solr lacks, then exit (compose's ckan-init)
#   entrypoint.sh CMD [ARG…]  config, wait, init (skipped if VIERSTAEDTE_SKIP_INIT=1), exec CMD
#
# The config step is the local stack's: scripts/ckan_config.py --profile site, fed by
# the same environment variables (docker/.env.example, docs/deploy.md). Messages go to
# stderr, so `docker compose run ckan ckan datastore set-permissions > x.sql` stays clean.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf 'entrypoint: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

write_config() {
  [[ -n ${CKAN_INI:-} ]] || die "CKAN_INI must name the config file to write"
  # Every container writes its own ckan.ini; they accept each other's sessions and
  # API tokens only if they share SECRET_KEY, and it must survive re-creation.
  [[ -n ${VIERSTAEDTE_SECRET_KEY_FILE:-} ]] \
    || die "set VIERSTAEDTE_SECRET_KEY_FILE to a file holding CKAN's SECRET_KEY (a Docker secret)"
  [[ -s $VIERSTAEDTE_SECRET_KEY_FILE ]] || die "$VIERSTAEDTE_SECRET_KEY_FILE is missing or empty"
  python "$SRC/scripts/ckan_config.py" --profile site --out "$CKAN_INI"
  log "wrote $CKAN_INI"
}

wait_for_services() {
  python "$SRC/docker/check.py" wait
}

init_database() {
  log "ckan db init: creates or upgrades the schema, the plugins' migrations included"
  ckan db init >&2
  ckan vierstaedte init-cities >&2
  # a new Solr volume beside an existing database: index what the search index lacks (nothing is removed)
  log "ckan search-index rebuild --only-missing"
  ckan search-index rebuild --only-missing --keep-orphans --quiet >&2
}

case ${1:-} in
  "") die "no command given" ;;
  config) write_config ;;
  init) write_config; wait_for_services; init_database ;;
  *)
    write_config
    wait_for_services
    [[ ${VIERSTAEDTE_SKIP_INIT:-0} == 1 ]] || init_database
    exec "$@"
    ;;
esac
