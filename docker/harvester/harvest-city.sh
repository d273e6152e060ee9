#!/usr/bin/env bash
# One harvest of one city, started by cron (as root): runs `vierstaedte-harvest run CITY`
# as the unprivileged user with that city's own API token, then logs one line with the
# outcome. The exit code is the harvester's (0 ok, 1 failure, 2 usage error,
# 3 partial success, 4 another run of the city holds the lock).
#
#   VIERSTAEDTE_HARVEST_TOKEN_DIR  the directory of the token files, one named after each city
#                                  (default /run/harvest-tokens)
#   VIERSTAEDTE_HARVEST_USER       who runs the harvest when started as root (default ckan)
set -uo pipefail

city=${1:?usage: harvest-city.sh CITY}
user=${VIERSTAEDTE_HARVEST_USER:-ckan}
export VIERSTAEDTE_API_TOKEN_FILE=${VIERSTAEDTE_HARVEST_TOKEN_DIR:-/run/harvest-tokens}/$city

run=()
if [[ $(id -u) -eq 0 ]]; then
  home=$(getent passwd "$user" | cut -d: -f6)
  run=(setpriv "--reuid=$user" "--regid=$(id -g "$user")" --init-groups env "HOME=${home:-/}")
fi

if [[ ! -s $VIERSTAEDTE_API_TOKEN_FILE ]] || ! "${run[@]}" test -r "$VIERSTAEDTE_API_TOKEN_FILE"; then
  printf '%s harvest %s: not run, %s is missing, empty or unreadable for %s\n' \
    "$(date -Iseconds)" "$city" "$VIERSTAEDTE_API_TOKEN_FILE" "$user"
  exit 1
fi

"${run[@]}" vierstaedte-harvest run "$city"
rc=$?
case $rc in
  0) outcome="ok" ;;
  1) outcome="failed" ;;
  2) outcome="usage error" ;;
  3) outcome="partial success" ;;
  4) outcome="skipped, another run of $city holds the lock" ;;
  *) outcome="unexpected exit code" ;;
esac
printf '%s harvest %s: exit %d, %s\n' "$(date -Iseconds)" "$city" "$rc" "$outcome"
exit "$rc"
