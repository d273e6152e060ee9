"""Create the four city organisations and load the bundled sample datasets.

Idempotent: organisations and datasets are created or updated by name, the
sample DataStore tables are replaced, so ``ckan vierstaedte seed`` can run on
every ``scripts/stack up``.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte import vocabularies

ORG_FIELDS = ("ags", "regional_key", "political_geocoding_uri", "political_geocoding_level_uri", "website")
SAMPLE_RESOURCE = "Daten (normalisiert)"
SAMPLE_FIELDS = {
    "city": {"type": "text"}, "ags": {"type": "text"}, "area_level": {"type": "text"},
    "area_name": {"type": "text"}, "indicator": {"type": "text"}, "period": {"type": "text"},
    "value": {"type": "numeric"}, "unit": {"type": "text"},
}


def _upsert(kind: str, context: dict, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    try:
        existing = tk.get_action(f"{kind}_show")(dict(context), {"id": data["name"]})
    except tk.ObjectNotFound:
        return tk.get_action(f"{kind}_create")(dict(context), data), "created"
    if existing.get("state") == "deleted":
        data = dict(data, state="active")
    return tk.get_action(f"{kind}_update")(dict(context), dict(data, id=existing["id"])), "updated"


def ensure_cities(context: dict, echo: Callable[[str], None] = print) -> list[dict[str, Any]]:
    orgs = []
    for city in vocabularies.cities():
        data = {"name": city["name"], "title": city["title"], "description": f"Offene Daten der {city['title']}."}
        data.update({field: city[field] for field in ORG_FIELDS})
        org, outcome = _upsert("organization", context, data)
        echo(f"Organisation {org['name']}: {outcome}")
        orgs.append(org)
    return orgs


def load_samples(context: dict, echo: Callable[[str], None] = print) -> list[dict[str, Any]]:
    samples = json.loads((vocabularies.DATA / "sample_datasets.json").read_text(encoding="utf-8"))
    datasets = []
    for sample in samples["datasets"]:
        sample = dict(sample)
        records = sample.pop("records")
        city = sample.pop("city")
        data = dict(
            sample,
            owner_org=city,
            tags=[{"name": tag} for tag in sample.pop("tags")],
            frequency="http://publications.europa.eu/resource/authority/frequency/ANNUAL",
            table_schema_version=tk.config.get("ckanext.vierstaedte.table_schema_version"),
            validation_status="valid",
        )
        dataset, outcome = _upsert("package", context, data)
        _load_table(context, dataset, records)
        echo(f"Datensatz {dataset['name']}: {outcome} ({len(records)} Zeilen)")
        datasets.append(dataset)
    return datasets


def _load_table(context: dict, dataset: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Replace the rows of the dataset's sample DataStore table; the resource id stays."""
    table = {
        "fields": [{"id": name, **spec} for name, spec in SAMPLE_FIELDS.items()],
        "records": records,
        "force": True,
    }
    existing = next((r for r in dataset.get("resources", []) if r.get("name") == SAMPLE_RESOURCE), None)
    if existing is None:
        table["resource"] = {"package_id": dataset["id"], "name": SAMPLE_RESOURCE, "format": "CSV"}
    else:
        table["resource_id"] = existing["id"]
        try:
            tk.get_action("datastore_delete")(dict(context), {"resource_id": existing["id"], "force": True})
        except tk.ObjectNotFound:
            pass
    tk.get_action("datastore_create")(dict(context), table)


def _write_secret(path: str, value: str) -> None:
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")


def _ensure_token(name: str, token_file: str, echo: Callable[[str], None]) -> None:
    """Keep a token file whose token still belongs to ``name``; otherwise issue a new one (never printed)."""
    import os

    from ckan.lib import api_token

    if os.path.exists(token_file):
        with open(token_file, encoding="utf-8") as handle:
            owner = api_token.get_user_from_token(handle.read().strip())
        if owner is not None and owner.name == name:
            echo(f"API token of {name}: {token_file} (unchanged)")
            return
    token = tk.get_action("api_token_create")(
        {"user": name, "ignore_auth": True}, {"user": name, "name": "vierstaedte-stack"}
    )["token"]
    _write_secret(token_file, token)
    echo(f"API token of {name}: written to {token_file}")


def _ensure_user(name: str, email: str, echo: Callable[[str], None]):
    import secrets

    from ckan import model

    user = model.User.get(name)
    if user is None:
        site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
        tk.get_action("user_create")(
            {"user": site_user["name"], "ignore_auth": True},
            {"name": name, "email": email, "password": secrets.token_urlsafe(24)},
        )
        user = model.User.get(name)
        echo(f"User {name}: created")
    return user


def ensure_sysadmin(name: str, email: str, token_file: str, echo: Callable[[str], None] = print) -> None:
    """Create the sysadmin (random password) and keep a working API token in ``token_file`` (mode 600)."""
    from ckan import model

    user = _ensure_user(name, email, echo)
    if not user.sysadmin:
        user.sysadmin = True
        model.repo.commit_and_remove()
    _ensure_token(name, token_file, echo)


def ensure_harvester(city: str, token_file: str, echo: Callable[[str], None] = print) -> str:
    """The user ``harvester-<city>``: editor of its city and of nothing else, with a token in ``token_file``.

    This is the account a city's cron job uses; its token can write only that city's datasets.
    """
    if vocabularies.city(city) is None:
        raise ValueError(f"unknown city {city!r}")
    name = f"harvester-{city}"
    _ensure_user(name, f"{name}@vierstaedte.invalid", echo)
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    context = {"user": site_user["name"], "ignore_auth": True}
    tk.get_action("organization_member_create")(dict(context), {"id": city, "username": name, "role": "editor"})
    for org in tk.get_action("organization_list_for_user")(dict(context), {"id": name, "permission": "read"}):
        if org["name"] != city:
            tk.get_action("organization_member_delete")(dict(context), {"id": org["id"], "username": name})
            echo(f"{name}: removed from {org['name']} (a harvester writes only its own city)")
    _ensure_token(name, token_file, echo)
    return name
