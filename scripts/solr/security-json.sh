#!/usr/bin/env bash
# Print Solr's security.json: HTTP Basic authentication and rules for who may do what.
#
#   security-json.sh CKAN_PASSWORD_FILE ADMIN_PASSWORD_FILE > "$SOLR_HOME/security.json"
#
# Users: `ckan` (CKAN: search, index, read the schema) and `admin` (everything else: cores,
# configuration, schema changes, security). Anonymous requests may only ping a core (health
# checks); anything else is refused with 401, and `ckan` gets 403 outside its permissions.
# The passwords are stored as Solr's Sha256AuthenticationProvider expects them:
# base64(sha256(sha256(salt + password))) and base64(salt).
#
# Only bash and coreutils (no Python, no openssl): the local stack (scripts/lib.sh) runs it,
# and so does the Solr container before Solr starts (docker/solr/10-security.sh).
set -euo pipefail

binary() { printf '%b' "$(sed 's/../\\x&/g')"; }  # hex digits on stdin -> those bytes

hash_password() {  # hash_password FILE -> "HASH SALT", as Solr stores a credential
  local password salt digest
  password=$(tr -d '\n' <"$1")
  [[ -n $password ]] || { echo "security-json.sh: $1 is empty" >&2; return 1; }
  salt=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')  # printable, so the shell can carry it
  digest=$(printf '%s%s' "$salt" "$password" | sha256sum | cut -c1-64)
  digest=$(binary <<<"$digest" | sha256sum | cut -c1-64)
  printf '%s %s' "$(binary <<<"$digest" | base64 -w0)" "$(printf '%s' "$salt" | base64 -w0)"
}

(($# == 2)) || { sed -n '4p' "$0" | sed 's/^# *//' >&2; exit 2; }
ckan=$(hash_password "$1")
admin=$(hash_password "$2")
cat <<JSON
{
  "authentication": {
    "class": "solr.BasicAuthPlugin",
    "blockUnknown": false,
    "forwardCredentials": false,
    "realm": "vierstaedte-solr",
    "credentials": {"ckan": "$ckan", "admin": "$admin"}
  },
  "authorization": {
    "class": "solr.RuleBasedAuthorizationPlugin",
    "user-role": {"ckan": ["ckan"], "admin": ["admin"]},
    "permissions": [
      {"name": "ping", "collection": "*", "path": "/admin/ping", "role": null},
      {"name": "health", "role": null},
      {"name": "read", "role": ["ckan", "admin"]},
      {"name": "update", "role": ["ckan", "admin"]},
      {"name": "schema-read", "role": ["ckan", "admin"]},
      {"name": "all", "role": ["admin"]}
    ]
  }
}
JSON
