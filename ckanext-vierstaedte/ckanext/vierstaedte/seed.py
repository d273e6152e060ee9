"""Create the four city organisations and the accounts that write to them.

Idempotent: organisations and users are created or updated by name and token
files are kept while their tokens are valid, so ``scripts/stack up`` can run
these on every start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk

from vierstaedte_contract import cities

ORG_FIELDS = (
    "ags",
    "regional_key",
    "political_geocoding_uri",
    "political_geocoding_level_uri",
    "website",
)


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
    for city in cities.as_dicts():
        data = {
            "name": city["name"],
            "title": city["title"],
            "description": f"Offene Daten der {city['title']}.",
        }
        data.update({field: city[field] for field in ORG_FIELDS})
        org, outcome = _upsert("organization", context, data)
        echo(f"Organisation {org['name']}: {outcome}")
        orgs.append(org)
    return orgs


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
        os.chmod(token_file, 0o600)  # a file written before, or by hand, may be readable by others
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


def ensure_sysadmin(
    name: str, email: str, token_file: str, echo: Callable[[str], None] = print
) -> None:
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
    if cities.as_dict(city) is None:
        raise ValueError(f"unknown city {city!r}")
    name = f"harvester-{city}"
    _ensure_user(name, f"{name}@vierstaedte.invalid", echo)
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    context = {"user": site_user["name"], "ignore_auth": True}
    tk.get_action("organization_member_create")(
        dict(context), {"id": city, "username": name, "role": "editor"}
    )
    for org in tk.get_action("organization_list_for_user")(
        dict(context), {"id": name, "permission": "read"}
    ):
        if org["name"] != city:
            tk.get_action("organization_member_delete")(
                dict(context), {"id": org["id"], "username": name}
            )
            echo(f"{name}: removed from {org['name']} (a harvester writes only its own city)")
    _ensure_token(name, token_file, echo)
    return name
