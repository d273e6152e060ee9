#!/usr/bin/env bash
# Entrypoint of the harvester service: one cron job per city, built from the environment.
#
#   cron.sh          write /etc/cron.d/vierstaedte-harvest and run cron in the foreground
#   cron.sh print    only print that crontab
#
#   VIERSTAEDTE_HARVEST_SCHEDULE  when every city runs, in cron syntax and the container's TZ
#                                 (default "15 2 * * *")
#   VIERSTAEDTE_HARVEST_CITIES    which cities (default: every city of the installed contract,
#                                 vierstaedte_contract/data/cities.json)
#
# cron itself needs root; each job drops to the unprivileged user (harvest-city.sh).
# cron starts jobs with an empty environment, so the crontab carries the VIERSTAEDTE_*
# settings (URLs and file paths; the tokens stay in their secret files).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCHEDULE=${VIERSTAEDTE_HARVEST_SCHEDULE:-15 2 * * *}
CRONTAB=/etc/cron.d/vierstaedte-harvest

die() { printf 'cron.sh: ERROR: %s\n' "$*" >&2; exit 1; }

crontab_text() {
  local fields name city
  read -ra fields <<<"$SCHEDULE"
  [[ ${#fields[@]} -eq 5 || ( ${#fields[@]} -eq 1 && $SCHEDULE == @* ) ]] \
    || die "VIERSTAEDTE_HARVEST_SCHEDULE must be 5 cron fields or @daily and the like, not '$SCHEDULE'"
  echo "# Written by docker/harvester/cron.sh at container start: change the environment, not this file."
  echo "SHELL=/bin/bash"
  echo "PATH=$PATH"
  for name in $(compgen -e | grep -E '^(VIERSTAEDTE_[A-Z0-9_]+|TZ|LANG)$' | sort); do
    [[ ${!name} != *$'\n'* ]] || die "$name contains a line break"
    echo "$name=${!name}"
  done
  for city in $CITIES; do
    [[ " $MEMBERS " == *" $city "* ]] \
      || die "not a city of the contract: '$city' (one of: $MEMBERS)"
    # the job's output goes to the container log (PID 1's stdout)
    echo "$SCHEDULE root $HERE/harvest-city.sh $city >/proc/1/fd/1 2>&1"
  done
}

mode=${1:-run}
[[ $mode == run || $mode == print ]] || die "usage: cron.sh [run|print]"
if [[ $mode == run && $(id -u) -ne 0 ]]; then
  die "cron needs root: run this service as user 0 (the harvests themselves do not run as root)"
fi
# the member cities: a new city is an entry in the contract, not an edit here
MEMBERS=$(python -c 'from vierstaedte_contract import cities; print(*cities.names())') \
  || die "cannot read the cities of the contract (vierstaedte_contract)"
CITIES=${VIERSTAEDTE_HARVEST_CITIES:-$MEMBERS}
text=$(crontab_text)  # all or nothing: a bad setting writes no crontab

case $mode in
  print) printf '%s\n' "$text" ;;
  run)
    printf '%s\n' "$text" >"$CRONTAB"
    chmod 644 "$CRONTAB"
    printf 'cron.sh: harvesting %s at "%s" (TZ=%s)\n' "$CITIES" "$SCHEDULE" "${TZ:-UTC}"
    exec cron -f
    ;;
esac
