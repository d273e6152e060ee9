#!/usr/bin/env bash
# Command of the compose stack's redis service (user redis): Redis with two ACL users, as
# scripts/lib.sh starts the local stack's Redis.
#
#   ckan    CKAN's queues and cache: every command but the admin ones (CONFIG, DEBUG, SHUTDOWN,
#           MODULE, REPLICAOF, ACL, …) and those that wipe more than a key (FLUSHALL, FLUSHDB)
#   admin   everything: the health check and the operator (`redis-cli --user admin`)
#
# The default user is off: a client without a password gets nothing. The passwords come from
# the Docker secrets; the config reaches redis-server on stdin, so they are on no command line
# and in no file of the data volume. Data go to the working directory, /data (the image's
# WORKDIR, the redis_data volume). Further arguments go to redis-server (`--port 6380`).
set -euo pipefail

ckan_file=${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}
admin_file=${REDIS_ADMIN_PASSWORD_FILE:-/run/secrets/redis_admin_password}
for file in "$ckan_file" "$admin_file"; do
  [[ -s $file ]] || { echo "start.sh: $file is missing or empty (docker/make-secrets.sh)" >&2; exit 1; }
done

exec redis-server - "$@" <<CONF
user default off resetpass -@all
user ckan on >$(cat "$ckan_file") ~* &* +@all -@admin -flushall -flushdb -swapdb -migrate
user admin on >$(cat "$admin_file") ~* &* +@all
CONF
