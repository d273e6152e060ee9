#!/usr/bin/env bash
# Create the stack's secret files, once: existing files are never touched.
#
#   docker/make-secrets.sh [DIR]     DIR defaults to $VIERSTAEDTE_SECRETS_DIR, else docker/secrets
#
# Random values (64 hex digits: safe in database URLs and in ckan.ini) for the PostgreSQL
# superuser, the roles ckan_default and datastore_ro, CKAN's SECRET_KEY, and the users ckan
# and admin of Redis and of Solr; empty
# placeholders for the four harvest API tokens, which CKAN issues (docs/deploy.md).
# The directory is private to its owner (700); the files are readable by all (444, the
# token placeholders 644) because the containers read them as their own users (ckan 92,
# postgres 999, redis 999, solr 8983), and compose mounts them as they are. Run it again after
# an upgrade that adds a secret: it creates only the files that are missing.
set -euo pipefail

dir=${1:-${VIERSTAEDTE_SECRETS_DIR:-$(dirname "$0")/secrets}}
install -d -m 700 "$dir"

for name in postgres_password pg_password pg_readonly_password ckan_secret_key \
            redis_password redis_admin_password solr_password solr_admin_password \
            harvest_token_mainz harvest_token_trier harvest_token_koblenz harvest_token_ludwigshafen; do
  file=$dir/$name
  if [[ -e $file ]]; then
    echo "kept     $file"
    continue
  fi
  if [[ $name == harvest_token_* ]]; then
    : >"$file"
    chmod 644 "$file"
    echo "created  $file (empty: write the city's API token into it)"
  else
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file"
    chmod 444 "$file"
    echo "created  $file"
  fi
done
