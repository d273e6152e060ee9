# Shared by scripts/stack and scripts/test. Sourced, not run.
# Everything binds to 127.0.0.1; state lives in $STACK_DIR (default: .stack in the repo).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_DIR=${VIERSTAEDTE_STACK_DIR:-$ROOT/.stack}
VENV=${VIERSTAEDTE_VENV:-$ROOT/.venv}
PY=$VENV/bin/python
CKAN=$VENV/bin/ckan
SOLR_PORT=${VIERSTAEDTE_SOLR_PORT:-8983}
REDIS_PORT=${VIERSTAEDTE_REDIS_PORT:-6379}
CKAN_PORT=${VIERSTAEDTE_CKAN_PORT:-5000}
SECRETS=$STACK_DIR/secrets
RUN=$STACK_DIR/run
LOGS=$STACK_DIR/log
export VIERSTAEDTE_STACK_DIR=$STACK_DIR
export VIERSTAEDTE_PG_PASSWORD_FILE=$SECRETS/pg-password
export VIERSTAEDTE_PG_READONLY_PASSWORD_FILE=$SECRETS/pg-readonly-password
READONLY_STATEMENT_TIMEOUT=5s  # docker/postgres/initdb/10-vierstaedte.sh sets the same
# Redis and Solr want a password from every client: CKAN's (the app user, no admin commands) and an
# admin's for these scripts. When the stack runs as root, both run as the unprivileged SERVICE_USER.
export VIERSTAEDTE_REDIS_PASSWORD_FILE=$SECRETS/redis-password
export VIERSTAEDTE_SOLR_PASSWORD_FILE=$SECRETS/solr-password
REDIS_ADMIN_PASSWORD_FILE=$SECRETS/redis-admin-password
SOLR_ADMIN_PASSWORD_FILE=$SECRETS/solr-admin-password
SERVICE_USER=${VIERSTAEDTE_SERVICE_USER:-vierstaedte}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root for: $* (run it as root, or install sudo)"; fi
}

as_postgres() {  # from /: postgres may not enter the checkout (psql then warns at every call)
  if [[ $(id -u) -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else (cd / && sudo -u postgres "$@"); fi
}

# --- installation -------------------------------------------------------------

install_system_packages() {
  local missing=()
  command -v pg_lsclusters >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v pg_config >/dev/null || missing+=(libpq-dev)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v curl >/dev/null || missing+=(curl)
  command -v setfacl >/dev/null || missing+=(acl)
  dpkg -s libmagic1 >/dev/null 2>&1 || missing+=(libmagic1)
  [[ -f /usr/share/hunspell/de_DE.dic ]] || missing+=(hunspell-de-de)  # Solr's German word list
  [[ -f /usr/share/hyphen/hyph_de_DE.dic ]] || missing+=(hyphen-de)  # its German syllables
  command -v pdftotext >/dev/null || missing+=(poppler-utils)  # council file texts
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  if ((${#missing[@]})); then
    say "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_python() {
  local stamp=$VENV/.vierstaedte-install
  local want
  want=$(cat "$ROOT/setup.py" | sha256sum | cut -c1-16)
  if [[ ! -x $PY ]]; then
    say "Creating Python virtualenv in $VENV"
    python3 -m venv "$VENV"
  fi
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    say "Installing Python packages (CKAN 2.12 and the project, pinned in setup.py)"
    "$PY" -m pip install -q --upgrade pip==25.3 setuptools==80.9.0 wheel==0.45.1
    "$PY" -m pip install -q -e "$ROOT[ckan,test,mcp,demo]"
    echo "$want" >"$stamp"
  fi
}

install_solr() {
  local lib=$STACK_DIR/solr-lib stamp=$STACK_DIR/solr-lib/.pom-sha
  local want
  want=$(sha256sum "$ROOT/scripts/solr/pom.xml" | cut -c1-16)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    say "Resolving Apache Solr from Maven Central (cached in ~/.m2)"
    rm -rf "$lib"
    mvn -B -q -f "$ROOT/scripts/solr/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$lib"
    echo "$want" >"$stamp"
  fi
}

install_cluster_tools() {  # nginx balances the cluster's nodes; buildah and debootstrap build the image
  local missing=()
  command -v nginx >/dev/null || missing+=(nginx)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if ((${#missing[@]})); then
    say "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_test_tools() {  # axe-core for the browser tests' accessibility checks, from the npm registry, pinned
  local spec=$ROOT/tests/browser/axe dir=$STACK_DIR/npm want tmp
  want=$(cat "$spec/package.json" "$spec/package-lock.json" | sha256sum | cut -c1-16)
  [[ -f $dir/.lock-sha && $(cat "$dir/.lock-sha") == "$want" && -f $dir/node_modules/axe-core/axe.min.js ]] && return 0
  if ! command -v npm >/dev/null; then
    say "Installing Debian package: npm"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  say "Installing axe-core (pinned in tests/browser/axe/package-lock.json) into $dir"
  tmp=$(mktemp -d "$STACK_DIR/npm.XXXXXX")
  cp "$spec/package.json" "$spec/package-lock.json" "$tmp/"
  (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
    || { rm -rf "$tmp"; die "npm ci failed for tests/browser/axe"; }
  echo "$want" >"$tmp/.lock-sha"
  rm -rf "$dir" && mv "$tmp" "$dir"
}

install_all() {
  mkdir -p "$STACK_DIR" "$SECRETS" "$RUN" "$LOGS"
  chmod 700 "$SECRETS"
  install_system_packages
  install_python
  install_solr
}

# --- the services' user -------------------------------------------------------

allow_through() {  # allow_through USER PATH…: USER may pass through the directories above
  # A checkout under /root or in a `mktemp -d` folder (mode 700): a service running as another user
  # could not reach its files in it. An ACL entry lets that user alone through (x: no listing).
  local user=$1 top dir
  for top in "${@:2}"; do
    dir=$top
    while :; do
      setpriv --reuid="$user" --regid="$user" --init-groups test -x "$dir" \
        || setfacl -m "u:$user:x" "$dir" 2>/dev/null || true
      [[ $dir == / ]] && break
      dir=$(dirname "$dir")
    done
  done
}

ensure_service_user() {  # a system user without login for Redis and Solr (as root; else they run as us)
  [[ $(id -u) -eq 0 ]] || return 0
  if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    say "Creating the system user $SERVICE_USER for Redis and Solr"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  local path
  allow_through "$SERVICE_USER" "$ROOT" "$STACK_DIR"  # else the check below says it
  for path in "$ROOT/scripts/solr/SolrLauncher.java" "$STACK_DIR/solr-lib"; do
    setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups test -r "$path" \
      || die "user $SERVICE_USER cannot read $path: allow it through the directories above (chmod o+x), or move the checkout"
  done
}

as_service() {  # as_service CMD…: exec'd as SERVICE_USER when we are root (no extra process), else as we are
  if [[ $(id -u) -eq 0 ]]; then
    exec env HOME=/nonexistent setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups -- "$@"
  fi
  exec "$@"
}

service_owns() {  # service_owns PATH…: SERVICE_USER may write there (state an older stack left to root included)
  [[ $(id -u) -ne 0 ]] || chown -R "$SERVICE_USER:$SERVICE_USER" "$@"
}

# --- secrets ------------------------------------------------------------------

ensure_secret() {  # ensure_secret FILE: a random password, created once, mode 600 (also if it existed)
  [[ -s $1 ]] || (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$1")
  chmod 600 "$1"
}

# --- PostgreSQL ---------------------------------------------------------------

pg_cluster() { pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}'; }

start_postgres() {
  local cluster
  cluster=$(pg_cluster)
  if [[ -z $cluster ]]; then
    local version
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    as_root pg_createcluster "$version" main >/dev/null
    cluster="$version main"
  fi
  if ! pg_lsclusters --no-header | awk 'NR==1 {print $4}' | grep -q online; then
    say "Starting PostgreSQL $cluster"
    as_root pg_ctlcluster $cluster start
  fi
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && return 0; sleep 1; done
  die "PostgreSQL did not become ready; see /var/log/postgresql/"
}

psql_admin() { as_postgres psql -v ON_ERROR_STOP=1 -qAtX "$@"; }

ensure_role() {  # ensure_role NAME PASSWORD_FILE
  local pw
  pw=$(cat "$2")
  psql_admin -v name="$1" -v pw="$pw" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'name', :'pw') \gexec
SQL
}

ensure_database() {  # ensure_database NAME OWNER
  psql_admin -v name="$1" -v owner="$2" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8'' TEMPLATE template0', :'name', :'owner')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \gexec
SQL
}

drop_database() { psql_admin -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"; }

setup_databases() {  # setup_databases CKAN_DB DATASTORE_DB
  ensure_secret "$SECRETS/pg-password"
  ensure_secret "$SECRETS/pg-readonly-password"
  ensure_role ckan_default "$SECRETS/pg-password"
  ensure_role datastore_ro "$SECRETS/pg-readonly-password"
  # the DataStore SQL search runs as datastore_ro: bounded in PostgreSQL too (CKAN's own SET LOCAL
  # statement_timeout overrides this inside the search; ckanext.vierstaedte.datastore.sql_timeout sets that)
  psql_admin -c "ALTER ROLE datastore_ro SET statement_timeout = '$READONLY_STATEMENT_TIMEOUT'"
  ensure_database "$1" ckan_default
  ensure_database "$2" ckan_default
}

# --- Redis --------------------------------------------------------------------
# ACL users: `ckan` (CKAN's queues and cache: every command but the admin ones and those that wipe
# more than a key) and `admin` (these scripts); the default user is off, so a client without a
# password gets nothing. The config goes to redis-server on stdin: no password on a command line
# or in a file. docker/redis/start.sh gives the compose stack's Redis the same users.

redis_cli() {  # redis_cli ARG…: redis-cli as the admin user, the password in the environment
  REDISCLI_AUTH=$(cat "$REDIS_ADMIN_PASSWORD_FILE") redis-cli --user admin -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

redis_up() {  # our Redis answers, and knows our admin (redis-cli goes on as `default` if AUTH fails)
  [[ $(redis_cli acl whoami 2>/dev/null) == admin ]]
}

redis_config() {
  cat <<CONF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
dir $STACK_DIR/redis
pidfile $STACK_DIR/redis/redis.pid
logfile $LOGS/redis.log
user default off resetpass -@all
user ckan on >$(cat "$VIERSTAEDTE_REDIS_PASSWORD_FILE") ~* &* +@all -@admin -flushall -flushdb -swapdb -migrate
user admin on >$(cat "$REDIS_ADMIN_PASSWORD_FILE") ~* &* +@all
CONF
}

start_redis() {
  ensure_secret "$VIERSTAEDTE_REDIS_PASSWORD_FILE"
  ensure_secret "$REDIS_ADMIN_PASSWORD_FILE"
  redis_up && return 0
  if [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; then
    # an older stack's Redis: no password, run as root. SHUTDOWN saves its data for the new one.
    say "Restarting Redis on 127.0.0.1:$REDIS_PORT: it answered without a password"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    for _ in $(seq 40); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 || break; sleep 0.5; done
    rm -f "$RUN/redis.pid"
  fi
  say "Starting Redis on 127.0.0.1:$REDIS_PORT"
  ensure_service_user
  mkdir -p "$STACK_DIR/redis"
  touch "$LOGS/redis.log"
  chmod 700 "$STACK_DIR/redis"
  service_owns "$STACK_DIR/redis" "$LOGS/redis.log"
  redis_config | as_service redis-server - >/dev/null
  for _ in $(seq 20); do redis_up && return 0; sleep 0.5; done
  die "Redis did not start; see $LOGS/redis.log"
}

# --- Solr ---------------------------------------------------------------------
# HTTP Basic authentication (scripts/solr/security-json.sh): `ckan` searches and indexes, `admin`
# manages cores and configuration; anonymous clients may only ping a core.

solr_curl() {  # solr_curl ckan|admin CURL_ARG…: curl as that Solr user, the password in a config on stdin
  local file=$VIERSTAEDTE_SOLR_PASSWORD_FILE
  [[ $1 == admin ]] && file=$SOLR_ADMIN_PASSWORD_FILE
  printf 'user = "%s:%s"\n' "$1" "$(cat "$file")" | curl -K - "${@:2}"
}

solr_ping() {  # solr_ping CORE
  curl -fsS -m 3 "http://127.0.0.1:$SOLR_PORT/solr/$1/admin/ping?wt=json" 2>/dev/null | grep -q '"status":"OK"'
}

solr_open() {  # the admin API answers an anonymous client: an older stack's Solr, started without security.json
  curl -fsS -m 3 -o /dev/null "http://127.0.0.1:$SOLR_PORT/solr/admin/cores?action=STATUS&wt=json" 2>/dev/null
}

# The configset (docs/search.md): CKAN 2.12's schema.xml plus our German diff, generated by
# scripts/solr/configset.py. A core whose conf changed is marked for a full reindex
# (DIR/reindex-needed): its documents lack the new fields until CKAN indexes them again.
solr_core_conf() {  # solr_core_conf DIR [--stock]: the generated configset in DIR/conf; false if it was there already
  local rc=0
  (  # one at a time: several scripts/test runs may start together
    flock -w 120 8 || exit 2
    mkdir -p "$1"
    new=$(mktemp -d "$1/conf.new.XXXXXX")
    chmod 755 "$new"
    if ! "$PY" "$ROOT/scripts/solr/configset.py" "$new" "${@:2}" 2>>"$LOGS/solr-configset.log"; then
      rm -rf "$new"
      exit 2
    fi
    if [[ -d $1/conf ]] && diff -rq "$new" "$1/conf" >/dev/null 2>&1; then
      rm -rf "$new"
      exit 1
    fi
    [[ -d $1/conf ]] && touch "$1/reindex-needed"
    rm -rf "$1/conf"
    mv "$new" "$1/conf"
  ) 8>"$STACK_DIR/solr-conf.lock" || rc=$?
  ((rc != 2)) || die "scripts/solr/configset.py failed for $1; see $LOGS/solr-configset.log"
  return "$rc"
}

# The council core (docs/council.md): its own schema with the same German types, beside each
# catalogue core: council for ckan, council_test for ckan_test.
SOLR_CORES="ckan ckan_test council council_test"
solr_conf_args() {  # solr_conf_args CORE: configset.py's options for that core
  [[ $1 == council* ]] && echo --council
  return 0
}

update_solr_conf() {  # the running Solr's cores get a changed configset: replaced, then RELOADed
  local core dir
  for core in $SOLR_CORES; do
    dir=$STACK_DIR/solr-home/$core
    if ! solr_ping "$core"; then  # a core added since this Solr started (the council cores)
      ensure_solr_core "$core" $(solr_conf_args "$core")
      continue
    fi
    solr_core_conf "$dir" $(solr_conf_args "$core") || continue
    say "Solr core $core: new configuration, reloading it (reindex with: scripts/stack reindex)"
    service_owns "$dir"
    solr_curl admin -fsS -m 120 -o /dev/null \
      "http://127.0.0.1:$SOLR_PORT/solr/admin/cores?action=RELOAD&core=$core&wt=json" \
      || die "Solr did not reload core $core; see $LOGS/solr.log"
  done
}

build_solr_home() {
  local home=$STACK_DIR/solr-home
  mkdir -p "$home"
  cp "$ROOT/scripts/solr/solr.xml" "$home/solr.xml"
  for core in $SOLR_CORES; do
    solr_core_conf "$home/$core" $(solr_conf_args "$core") || true
    echo "name=$core" >"$home/$core/core.properties"
  done
  (umask 077 && "$ROOT/scripts/solr/security-json.sh" "$VIERSTAEDTE_SOLR_PASSWORD_FILE" "$SOLR_ADMIN_PASSWORD_FILE" \
    >"$home/security.json")
  chmod 700 "$home"
  service_owns "$home"
}

ensure_solr_core() {  # ensure_solr_core NAME [--stock]: add a core to the running Solr (no restart); it persists in solr-home
  solr_ping "$1" && return 0
  local dir=$STACK_DIR/solr-home/$1
  say "Adding Solr core $1"
  rm -f "$dir/core.properties"
  solr_core_conf "$dir" "${@:2}" || true
  service_owns "$dir"
  solr_curl admin -fsS -m 120 -o /dev/null \
    "http://127.0.0.1:$SOLR_PORT/solr/admin/cores?action=CREATE&name=$1&instanceDir=$dir&wt=json" \
    || die "Solr did not create core $1; see $LOGS/solr.log"
  solr_ping "$1" || die "Solr core $1 does not answer; see $LOGS/solr.log"
}

start_solr() {
  ensure_secret "$VIERSTAEDTE_SOLR_PASSWORD_FILE"
  ensure_secret "$SOLR_ADMIN_PASSWORD_FILE"
  if solr_ping ckan && solr_ping ckan_test; then
    solr_open || { update_solr_conf; return 0; }
    [[ -f $RUN/solr.pid ]] || die "Solr on port $SOLR_PORT has no password and was not started by this script; stop it"
    say "Restarting Solr: its admin API answered without a password"
    stop_pidfile solr
  fi
  if curl -s -m 3 -o /dev/null "http://127.0.0.1:$SOLR_PORT/solr/"; then
    die "port $SOLR_PORT answers but has no healthy 'ckan' core; stop that process or set VIERSTAEDTE_SOLR_PORT"
  fi
  say "Starting Solr 9 on 127.0.0.1:$SOLR_PORT (cores ckan, ckan_test)"
  ensure_service_user
  build_solr_home
  (
    cd "$STACK_DIR/solr-home"
    as_service setsid java -Xms256m -Xmx512m -Dsolr.log.dir="$LOGS" \
      -Dlog4j2.configurationFile="file:$ROOT/scripts/solr/log4j2.xml" \
      -cp "$STACK_DIR/solr-lib/*" "$ROOT/scripts/solr/SolrLauncher.java" "$STACK_DIR/solr-home" "$SOLR_PORT" \
      >"$LOGS/solr.log" 2>&1 </dev/null
  ) &
  echo $! >"$RUN/solr.pid"
  for _ in $(seq 180); do
    if solr_ping ckan && solr_ping ckan_test; then return 0; fi
    kill -0 "$(cat "$RUN/solr.pid")" 2>/dev/null || die "Solr exited during start; see $LOGS/solr.log"
    sleep 1
  done
  die "Solr did not become healthy in 180 s; see $LOGS/solr.log"
}

# --- stopping -----------------------------------------------------------------

stop_pidfile() {  # stop_pidfile NAME
  local file=$RUN/$1.pid pid
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    say "Stopping $1 (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$file"
}
