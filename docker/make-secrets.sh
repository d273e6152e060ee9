#!/usr/bin/env bash
# Create the stack's secret files, once: existing files are never touched.
#
#   docker/make-secrets.sh [DIR]     DIR defaults to $VIERSTAEDTE_SECRETS_DIR, else docker/secrets
#
# Random values (64 hex digits: safe in database URLs and in ckan.ini) for the PostgreSQL
# superuser, the roles ckan_default and datastore_ro, CKAN's SECRET_KEY, and the users ckan
# and admin of Redis and of Solr; and DIR/harvest_tokens/ with an empty placeholder per city
# of the contract (schemas/vierstaedte_contract/data/cities.json) for its harvest API token,
# which CKAN issues (docs/deploy.md). Only the harvester mounts that directory.
# DIR is private to its owner (700); the files are readable by all (444, the token
# placeholders 644, their directory 755) because the containers read them as their own
# users (ckan 92, postgres 999, redis 999, solr 8983), and compose mounts them as they are.
# Run it again after an upgrade that adds a secret or after adding a city: it creates only
# the files that are missing (and moves an older stack's DIR/harvest_token_<city> into place).
set -euo pipefail

here=$(dirname "$0")
dir=${1:-${VIERSTAEDTE_SECRETS_DIR:-$here/secrets}}
cities_json=$here/../schemas/vierstaedte_contract/data/cities.json
cities=$(python3 -c 'import json, sys; print(*(c["name"] for c in json.load(sys.stdin)["cities"]))' \
  <"$cities_json") || { echo "make-secrets.sh: cannot read the cities of $cities_json" >&2; exit 1; }
install -d -m 700 "$dir"
install -d -m 755 "$dir/harvest_tokens"

for name in postgres_password pg_password pg_readonly_password ckan_secret_key \
            redis_password redis_admin_password solr_password solr_admin_password; do
  file=$dir/$name
  if [[ -e $file ]]; then
    echo "kept     $file"
    continue
  fi
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file"
  chmod 444 "$file"
  echo "created  $file"
done

for city in $cities; do
  file=$dir/harvest_tokens/$city
  if [[ -e $file ]]; then
    echo "kept     $file"
  elif [[ -e $dir/harvest_token_$city ]]; then
    mv "$dir/harvest_token_$city" "$file"
    echo "moved    $dir/harvest_token_$city to $file"
  else
    : >"$file"
    chmod 644 "$file"
    echo "created  $file (empty: write the city's API token into it)"
  fi
done
