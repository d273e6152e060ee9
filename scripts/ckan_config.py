"""Write a CKAN config for the local stack (profile ``site``) or the tests (``test``).

The file is created once with ``ckan generate config`` (which generates fresh
secrets for this install) and then brought up to date with
``ckan config-tool``, so re-running it never rotates secrets and never loses
an operator's own additions. Every value comes from the environment; the
defaults are the local stack's loopback addresses. Passwords are read from
files named by ``*_FILE`` variables so they never appear on a command line.

Optional variables, unset for the local stack (the Docker image sets them):
``VIERSTAEDTE_PG_DB`` and ``VIERSTAEDTE_PG_DATASTORE_DB`` (database names),
``VIERSTAEDTE_PG_SSLMODE`` (e.g. ``require`` for a managed PostgreSQL),
``VIERSTAEDTE_STORAGE_PATH`` (uploads), ``VIERSTAEDTE_MAX_RESOURCE_SIZE_MB``,
``VIERSTAEDTE_SECRET_KEY_FILE`` (a fixed ``SECRET_KEY``, so that several web
containers accept each other's sessions and API tokens) and
``VIERSTAEDTE_SECURE_COOKIES=true`` (site served over HTTPS only),
``VIERSTAEDTE_DEMO`` (``true``/``false``: the demo-data banner; the local stack and the
tests show it, the Docker image sets ``false``),
``VIERSTAEDTE_PAGES_DIR`` (a folder with ``impressum.md``, ``datenschutz.md``,
``barrierefreiheit.md`` and ``kontakt.md``: the legal pages' texts, docs/deploy.md),
``VIERSTAEDTE_REDIS_PASSWORD_FILE`` (the Redis password of the ACL user
``VIERSTAEDTE_REDIS_USER``, default ``ckan``, put into ``ckan.redis.url``),
``VIERSTAEDTE_SOLR_PASSWORD_FILE`` (Solr's HTTP Basic password of
``VIERSTAEDTE_SOLR_USER``, default ``ckan``: ``solr_user``/``solr_password``;
both default to the local stack's files in ``$VIERSTAEDTE_STACK_DIR/secrets/``
where those exist),
``VIERSTAEDTE_CKAN_PLUGINS`` (another plugin list; the benchmarks add
ckanext-harvest or run CKAN without ours), ``VIERSTAEDTE_SOLR_COMMIT=true`` (a
Solr of your own that does not soft-commit by itself: CKAN then commits
after every write).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

PLUGINS = (
    "vierstaedte dcat scheming_datasets scheming_organizations datastore datatables_view activity"
)

# solr_commit: the portal does not make Solr commit after every write. Solr soft-commits every 3 s
# by itself (scripts/solr/solrconfig.xml, and the _default config of CKAN's Solr 9 image), so a
# write is searchable within 3 s; a hard commit per write instead serialises parallel harvest
# writes (docs/performance.md). The tests keep CKAN's default: they search for what they have
# just written.
PROFILES = {
    "site": {
        "db": "ckan_default",
        "datastore": "datastore_default",
        "solr_core": "ckan",
        "redis_db": "0",
        "site_id": "vierstaedte",
        "port": "5000",
        "solr_commit": "false",
        "demo": "true",
    },
    "test": {
        "db": "ckan_test",
        "datastore": "datastore_test",
        "solr_core": "ckan_test",
        "redis_db": "1",
        "site_id": "vierstaedte-test",
        "port": "5001",
        "solr_commit": "true",
        "demo": "true",
    },
    # benchmarks (bench/): their own databases, Solr core and ports; names overridable per bench slot
    "bench": {
        "db": "ckan_bench",
        "datastore": "datastore_bench",
        "solr_core": "ckan_bench",
        "redis_db": "2",
        "site_id": "vierstaedte-bench",
        "port": "5010",
        "solr_commit": "false",
        "demo": "false",
    },
    # the local cluster (scripts/cluster, docs/cluster.md): its own PostgreSQL primary and standby,
    # so the site's names; ports, Solr and Redis URLs and the storage come from the environment
    "cluster": {
        "db": "ckan_default",
        "datastore": "datastore_default",
        "solr_core": "ckan",
        "redis_db": "2",
        "site_id": "vierstaedte-cluster",
        "port": "7100",
        "solr_commit": "false",
        "demo": "true",
    },
}


def _secret(name: str) -> str:
    path = os.environ.get(name + "_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    value = os.environ.get(name)
    if not value:
        sys.exit(f"ckan_config: set {name}_FILE (or {name}) to the database password")
    return value


def _optional_secret(
    name: str, env: os._Environ | dict, stack_file: str | None = None
) -> str | None:
    path = env.get(name + "_FILE")
    if (
        not path and stack_file and not env.get(name)
    ):  # the local stack's (scripts/lib.sh) if it has one
        local = Path(env.get("VIERSTAEDTE_STACK_DIR", ".stack")) / "secrets" / stack_file
        path = str(local) if local.is_file() else None
    value = Path(path).read_text(encoding="utf-8").strip() if path else env.get(name)
    if path and not value:
        sys.exit(f"ckan_config: {path} ({name}_FILE) is empty")
    if value and "%" in value:  # the ini file is read with interpolation
        sys.exit(f"ckan_config: {name} must not contain '%'")
    return value or None


def _solr_commit(profile: dict[str, str], env: os._Environ | dict) -> str:
    value = env.get("VIERSTAEDTE_SOLR_COMMIT", profile["solr_commit"]).lower()
    if value not in ("true", "false"):
        sys.exit(f"ckan_config: VIERSTAEDTE_SOLR_COMMIT must be true or false, not {value!r}")
    return value


def _demo(profile: dict[str, str], env: os._Environ | dict) -> str:
    value = env.get("VIERSTAEDTE_DEMO", profile["demo"]).lower()
    if value not in ("true", "false"):
        sys.exit(f"ckan_config: VIERSTAEDTE_DEMO must be true or false, not {value!r}")
    return value


def _redis_url(url: str, env: os._Environ | dict) -> str:
    """``url`` with the ACL user and password from ``VIERSTAEDTE_REDIS_PASSWORD_FILE``, if set."""
    password = _optional_secret("VIERSTAEDTE_REDIS_PASSWORD", env, "redis-password")
    parts = urlsplit(url)
    if not password or parts.password:
        return url
    user = quote(env.get("VIERSTAEDTE_REDIS_USER", "ckan"), safe="")
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{parts.netloc}"))


def settings(profile: str, env: os._Environ | dict = os.environ) -> dict[str, str]:
    p = PROFILES[profile]
    host = env.get("VIERSTAEDTE_PG_HOST", "127.0.0.1")
    port = env.get("VIERSTAEDTE_PG_PORT", "5432")
    rw, ro = _secret("VIERSTAEDTE_PG_PASSWORD"), _secret("VIERSTAEDTE_PG_READONLY_PASSWORD")
    pg = f"{host}:{port}"
    db = env.get("VIERSTAEDTE_PG_DB", p["db"])
    datastore = env.get("VIERSTAEDTE_PG_DATASTORE_DB", p["datastore"])
    sslmode = env.get("VIERSTAEDTE_PG_SSLMODE")
    query = f"?sslmode={sslmode}" if sslmode else ""
    state = Path(env.get("VIERSTAEDTE_STACK_DIR", ".stack")).resolve()
    storage = env.get("VIERSTAEDTE_STORAGE_PATH") or str(state / "storage" / profile)
    licenses = resources.files("vierstaedte_contract") / "data" / "licenses.json"
    values = {
        "ckan.site_url": env.get("CKAN_SITE_URL", f"http://127.0.0.1:{p['port']}"),
        "ckan.site_id": p["site_id"],
        "ckan.site_title": "Vier Städte Open Data",
        "ckan.site_description": "Offene Statistikdaten aus Mainz, Trier, Koblenz und Ludwigshafen am Rhein",
        "sqlalchemy.url": f"postgresql://ckan_default:{rw}@{pg}/{db}{query}",
        "ckan.datastore.write_url": f"postgresql://ckan_default:{rw}@{pg}/{datastore}{query}",
        "ckan.datastore.read_url": f"postgresql://datastore_ro:{ro}@{pg}/{datastore}{query}",
        "solr_url": env.get("CKAN_SOLR_URL", f"http://127.0.0.1:8983/solr/{p['solr_core']}"),
        "ckan.search.solr_commit": _solr_commit(p, env),
        "ckan.redis.url": _redis_url(
            env.get("CKAN_REDIS_URL", f"redis://127.0.0.1:6379/{p['redis_db']}"), env
        ),
        "ckan.plugins": env.get("VIERSTAEDTE_CKAN_PLUGINS") or PLUGINS,
        "scheming.dataset_schemas": "ckanext.vierstaedte.schemas:dataset.yaml",
        "scheming.organization_schemas": "ckanext.vierstaedte.schemas:organization.yaml",
        "scheming.presets": "ckanext.scheming:presets.json",
        "licenses_group_url": f"file://{licenses}",
        "ckan.locale_default": "de",
        "ckan.locales_offered": "de en",
        "ckan.storage_path": storage,
        "ckan.auth.create_unowned_dataset": "false",
        "ckan.auth.user_create_organizations": "false",
        "ckan.auth.public_user_details": "false",
        "ckan.auth.user_create_groups": "false",  # groups are the sysadmins' (logic/auth.py)
        # the API takes tokens only: a session cookie a foreign page makes a browser send is no login
        "ckan.auth.enable_cookie_auth_in_api": "false",
        "ckan.dataset.create_on_ui_requires_resources": "false",
        "ckan.datastore.sqlsearch.enabled": "true",
        # the SQL search returns at most this many rows (CKAN's default is 32000); our indicator
        # actions page through datastore_search 10000 rows at a time
        "ckan.datastore.search.rows_max": "10000",
        "ckan.views.default_views": "datatables_view",
        "ckanext.dcat.base_uri": env.get("CKAN_SITE_URL", f"http://127.0.0.1:{p['port']}"),
        "ckanext.dcat.rdf.profiles": "euro_dcat_ap_3 vierstaedte_dcatap_de",
        # the banner "the figures are demo data" (templates/header.html); docker: false
        "ckanext.vierstaedte.demo": _demo(p, env),
    }
    # Optional settings, added only when set, so the local stack's file stays as it was.
    if env.get("VIERSTAEDTE_MAX_RESOURCE_SIZE_MB"):
        values["ckan.max_resource_size"] = env["VIERSTAEDTE_MAX_RESOURCE_SIZE_MB"]
    solr_password = _optional_secret("VIERSTAEDTE_SOLR_PASSWORD", env, "solr-password")
    if solr_password:
        values["solr_user"] = env.get("VIERSTAEDTE_SOLR_USER", "ckan")
        values["solr_password"] = solr_password
    secret_key = _optional_secret("VIERSTAEDTE_SECRET_KEY", env)
    if secret_key:
        values["SECRET_KEY"] = secret_key
    pages = env.get("VIERSTAEDTE_PAGES_DIR")  # the operator's legal pages, <page>.md each
    if pages:
        for page in ("impressum", "datenschutz", "barrierefreiheit", "kontakt"):
            values[f"ckanext.vierstaedte.pages.{page}_file"] = str(Path(pages) / f"{page}.md")
    if env.get("VIERSTAEDTE_SECURE_COOKIES", "").lower() == "true":
        values["SESSION_COOKIE_SECURE"] = values["REMEMBER_COOKIE_SECURE"] = "true"
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    ckan = str(Path(sys.executable).with_name("ckan"))
    if not args.out.exists():
        args.out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [ckan, "generate", "config", str(args.out)], check=True, stdout=subprocess.DEVNULL
        )
        args.out.chmod(0o600)
    values = settings(args.profile)
    Path(values["ckan.storage_path"]).mkdir(parents=True, exist_ok=True)
    # config-tool takes key=value pairs; the line holds passwords, so it is never echoed.
    subprocess.run(
        [ckan, "config-tool", str(args.out), *(f"{k}={v}" for k, v in values.items())],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # extensions log at DEBUG in the generated file; INFO keeps cron and CI logs readable
    subprocess.run(
        [ckan, "config-tool", str(args.out), "-s", "logger_ckanext", "level=INFO"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


if __name__ == "__main__":
    main()
