#!/usr/bin/env bash
# The benchmarks' own corner of the local stack (called by bench/benchstack.py, not by hand).
#
#   bench/stack.sh install                 bench extra (ckanext-harvest, pinned in setup.py) and wrk (Debian)
#   bench/stack.sh services                PostgreSQL, Redis, Solr as scripts/stack starts them (never restarted)
#   bench/stack.sh solr-conf NAME [stock|council]  a Solr core with the configset written afresh (ours,
#                                          CKAN's stock one, or the council core's as scripts/lib.sh
#                                          makes council and council_test), created in or reloaded
#   bench/stack.sh databases DB DATASTORE  create roles and databases (the stack's roles and passwords)
#   bench/stack.sh drop DB...              drop databases
#   bench/stack.sh clone TEMPLATE DB       DB := a copy of TEMPLATE (drops DB first)
#   bench/stack.sh sql DB                  run SQL from stdin as the PostgreSQL superuser in DB
#   bench/stack.sh exists DB               print yes or no
#
# The portal's and the tests' databases and Solr cores are never touched: callers pass bench names only.
source "$(dirname "$0")/../scripts/lib.sh"

guard() {  # refuse anything that is not a benchmark database or core
  local name
  for name in "$@"; do
    [[ $name == *bench* ]] || die "bench/stack.sh only touches benchmark databases and cores, not '$name'"
  done
}

install_bench() {
  local stamp=$VENV/.vierstaedte-bench-install want
  want=$(sha256sum "$ROOT/setup.py" | cut -c1-16)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]] || ! "$PY" -c 'import ckanext.harvest' 2>/dev/null; then
    say "Installing the bench extra (ckanext-harvest, pinned in setup.py)"
    "$PY" -m pip install -q -e "$ROOT[ckan,test,bench]"
    echo "$want" >"$stamp"
  fi
  if ! command -v wrk >/dev/null; then
    say "Installing wrk (Debian package)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
}

solr_conf() {  # solr_conf NAME [stock|council]: the search benchmark compares our configset with
  local dir=$STACK_DIR/solr-home/$1 action option=  # CKAN's own; the council benchmark's own core
  case ${2:-} in
    '') ;;
    stock) option=--stock ;;
    council) option=--council ;;
    *) die "bench/stack.sh solr-conf: stock or council, not '$2'" ;;
  esac
  solr_core_conf "$dir" $option || true
  action="action=RELOAD&core=$1"
  solr_ping "$1" || { rm -f "$dir/core.properties"; action="action=CREATE&name=$1&instanceDir=$dir"; }
  service_owns "$dir"
  solr_curl admin -fsS -m 120 -o /dev/null "http://127.0.0.1:$SOLR_PORT/solr/admin/cores?$action&wt=json" \
    || die "Solr did not load core $1; see $LOGS/solr.log"
}

case ${1:-} in
  install) install_bench ;;
  services) install_all; start_postgres; start_redis; start_solr ;;
  solr-conf) guard "$2"; solr_conf "$2" "${3:-}" ;;
  databases) guard "$2" "$3"; setup_databases "$2" "$3" ;;
  drop) shift; guard "$@"; for db in "$@"; do drop_database "$db"; done ;;
  clone)
    guard "$2" "$3"
    drop_database "$3"
    psql_admin -c "CREATE DATABASE \"$3\" TEMPLATE \"$2\" OWNER ckan_default" ;;
  sql) guard "$2"; psql_admin -d "$2" ;;
  exists)
    guard "$2"
    [[ $(psql_admin -v name="$2" <<<"SELECT count(*) FROM pg_database WHERE datname = :'name'") == 1 ]] \
      && echo yes || echo no ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
