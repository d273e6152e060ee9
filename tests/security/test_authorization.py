"""Who may write what: every actor × every write action × every city, over the real Action API.

Actors: anonymous, each city's editor (a staff account with an API token),
each city's harvester (``ckan vierstaedte ensure-harvester``) and a sysadmin.
Actions: the write action our extension adds and the core actions a
harvester or an editor uses, plus the ones that would widen someone's rights.
The rule: nobody writes outside their own city; what only a sysadmin may do
(move datasets between cities, change memberships or the city itself, purge)
no city account may do even in its own city.

Every cell is called over HTTP against the live CKAN (gunicorn); the whole observed matrix is
compared with the expected one, and afterwards no trace of a refused call may exist in the database.
"""

from __future__ import annotations

import itertools

import pytest
import requests
from ckan.tests import factories
from ckan.tests.helpers import call_action

from tests.harvesting import CITIES

SYSADMIN_ONLY = {
    "package_owner_org_update",
    "dataset_purge",
    "organization_member_create",
    "organization_update",
}
DESTRUCTIVE = {
    "package_delete",
    "resource_delete",
    "datastore_delete",
    "package_owner_org_update",
    "dataset_purge",
}
ACTIONS = (
    "vierstaedte_harvest_run_create",
    "vierstaedte_council_upsert",
    "vierstaedte_council_file_text",
    "package_create",
    "package_update",
    "package_patch",
    "package_revise",
    "package_delete",
    "resource_create",
    "resource_update",
    "resource_patch",
    "resource_delete",
    "datastore_create",
    "datastore_upsert",
    "datastore_delete",
    "package_owner_org_update",
    "dataset_purge",
    "organization_member_create",
    "organization_update",
)
FIELDS = [{"id": "area_name", "type": "text"}, {"id": "value", "type": "numeric"}]


def dataset(city: str, name: str) -> dict:
    return {
        "name": name,
        "title": f"Ziel {name}",
        "notes": "Ziel der Berechtigungsprüfung.",
        "owner_org": city,
        "theme": ["SOCI"],
        "spatial_granularity": "stadt",
    }


def admin() -> dict:
    return {"ignore_auth": True, "user": "site-admin-of-the-test"}


def target(city: str, name: str) -> dict:
    """A dataset of ``city`` with a resource that has a DataStore table."""
    created = call_action("package_create", context=admin(), **dataset(city, name))
    resource = call_action(
        "resource_create",
        context=admin(),
        package_id=created["id"],
        name="Tabelle",
        url="http://example.org/t.csv",
        format="CSV",
    )
    call_action(
        "datastore_create",
        context=admin(),
        resource_id=resource["id"],
        fields=FIELDS,
        records=[{"area_name": "Altstadt", "value": 1}],
        force=True,
    )
    return {
        "dataset": call_action("package_show", context=admin(), id=created["id"]),
        "resource": resource,
    }


def payload(action: str, city: str, cell: str, goal: dict, user: str) -> dict:
    """The call of one cell: it writes the marker ``cell`` wherever it writes text.

    ``user`` is who a membership call makes an admin: the actor itself (an escalation attempt), or a
    bystander.
    """
    package, resource = goal["dataset"], goal["resource"]
    other = CITIES[(CITIES.index(city) + 1) % len(CITIES)]
    calls = {
        "vierstaedte_harvest_run_create": lambda: {
            "organization": city,
            "started": "2026-01-01T03:00:00Z",
            "finished": "2026-01-01T03:01:00Z",
            "status": "ok",
            "counts": {},
            "report": {"datasets": [], "source_errors": [], "cell": cell},
        },
        "vierstaedte_council_upsert": lambda: {
            "city": city,
            "objects": [
                {
                    "id": f"https://rat.{city}.example/oparl/paper/{cell}",
                    "type": "paper",
                    "body": f"https://rat.{city}.example/oparl/body/1",
                    "modified": None,
                    "deleted": False,
                    "data": {"name": cell},
                }
            ],
        },
        "vierstaedte_council_file_text": lambda: {
            "city": city,
            "file_id": f"https://rat.{city}.example/oparl/file/{cell}",
            "status": "ok",
            "text": cell,
            "source_url": f"https://rat.{city}.example/files/{cell}.pdf",
        },
        "package_create": lambda: dataset(city, cell),
        "package_update": lambda: {
            **call_action("package_show", context=admin(), id=package["id"]),
            "title": cell,
        },
        "package_patch": lambda: {"id": package["id"], "title": cell},
        "package_revise": lambda: {
            "match__id": package["id"],
            "update__title": cell,
            "update__resources__extend": [{"name": cell, "url": "http://example.org/r.csv"}],
        },
        "package_delete": lambda: {"id": package["id"]},
        "resource_create": lambda: {
            "package_id": package["id"],
            "name": cell,
            "url": "http://example.org/x.csv",
        },
        "resource_update": lambda: {
            "id": resource["id"],
            "name": cell,
            "url": "http://example.org/t.csv",
        },
        "resource_patch": lambda: {"id": resource["id"], "name": cell},
        "resource_delete": lambda: {"id": resource["id"]},
        "datastore_create": lambda: {
            "resource_id": resource["id"],
            "fields": FIELDS,
            "force": True,
            "records": [{"area_name": cell, "value": 2}],
        },
        "datastore_upsert": lambda: {
            "resource_id": resource["id"],
            "records": [{"area_name": cell, "value": 3}],
            "method": "insert",
            "force": True,
        },
        "datastore_delete": lambda: {"resource_id": resource["id"], "force": True},
        "package_owner_org_update": lambda: {"id": package["id"], "organization_id": other},
        "dataset_purge": lambda: {"id": package["id"]},
        "organization_member_create": lambda: {"id": city, "username": user, "role": "admin"},
        "organization_update": lambda: {"id": city, "name": city, "title": cell},
    }
    return calls[action]()


@pytest.fixture
def actors(with_plugins, clean_db, clean_index, tmp_path):
    from ckanext.datastore.tests import helpers as datastore_helpers

    from ckanext.vierstaedte import seed

    engine = datastore_helpers.db.get_write_engine()
    datastore_helpers.rebuild_all_dbs(
        datastore_helpers.orm.scoped_session(datastore_helpers.orm.sessionmaker(bind=engine))
    )
    sysadmin = factories.SysadminWithToken()
    factories.Sysadmin(name="site-admin-of-the-test")
    seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)
    found = {"anonymous": (None, None), "sysadmin": (None, sysadmin["token"])}
    names = {}
    for city in CITIES:
        editor = factories.User()
        call_action(
            "organization_member_create",
            context=admin(),
            id=city,
            username=editor["name"],
            role="editor",
        )
        found[f"{city}-editor"] = (city, factories.APIToken(user=editor["name"])["token"])
        names[f"{city}-editor"] = editor["name"]
        names[f"{city}-harvester"] = f"harvester-{city}"
        token_file = tmp_path / f"{city}.token"
        seed.ensure_harvester(city, str(token_file), echo=lambda _: None)
        found[f"{city}-harvester"] = (city, token_file.read_text().strip())
    names["anonymous"] = names["sysadmin"] = factories.User(name="zuschauer")["name"]
    return found, names


def expected(actor_city: str | None, actor: str, action: str, city: str) -> bool:
    if actor == "sysadmin":
        return True
    return actor_city == city and action not in SYSADMIN_ONLY


def test_nobody_writes_outside_their_city(ckan_server, actors):
    found, names = actors
    shared = {city: target(city, f"ziel-{city}") for city in CITIES}
    observed, wanted, refused_cells = {}, {}, []
    for (actor, (actor_city, token)), action, city in itertools.product(
        found.items(), ACTIONS, CITIES
    ):
        cell = f"zelle-{actor}-{action}-{city}".replace("_", "-")[:100]
        allowed = expected(actor_city, actor, action, city)
        goal = (
            target(city, f"frisch-{len(observed)}")
            if allowed and action in DESTRUCTIVE
            else shared[city]
        )
        headers = {"Authorization": token} if token else {}
        # plain requests without a cookie jar: every call carries its own credentials and nothing else
        response = requests.post(
            f"{ckan_server}/api/3/action/{action}",
            json=payload(action, city, cell, goal, names[actor]),
            headers=headers,
            timeout=60,
        )
        status = response.status_code
        observed[actor, action, city] = (
            "allowed" if status == 200 else "denied" if status == 403 else f"HTTP {status}"
        )
        wanted[actor, action, city] = "allowed" if allowed else "denied"
        if not allowed:
            refused_cells.append(cell)
        if status not in (200, 403):
            observed[actor, action, city] += f": {response.text[:300]}"
    wrong = {
        cell: (observed[cell], wanted[cell]) for cell in observed if observed[cell] != wanted[cell]
    }
    assert wrong == {}, "\n".join(
        f"{c}: got {o}, expected {w}" for c, (o, w) in sorted(wrong.items())
    )
    assert sum(v == "allowed" for v in observed.values()) == 4 * len(ACTIONS) + 8 * (
        len(ACTIONS) - len(SYSADMIN_ONLY)
    )

    # a refused call left nothing behind: no dataset, title, resource, row or run record with its marker
    from ckan import model

    model.Session.remove()
    traces = set()
    for package in model.Session.query(model.Package):
        traces |= {package.name, package.title} | {r.name for r in package.resources_all}
    for org in model.Session.query(model.Group):
        traces.add(org.title)
    from ckanext.vierstaedte.model import HarvestRun

    traces |= {str((run.report or {}).get("cell")) for run in model.Session.query(HarvestRun)}
    from ckanext.vierstaedte.council.model import CouncilFileText, CouncilObject

    traces |= {str(obj.data.get("name")) for obj in model.Session.query(CouncilObject)}
    traces |= {str(text.text) for text in model.Session.query(CouncilFileText)}
    for city in CITIES:
        rows = call_action(
            "datastore_search", resource_id=shared[city]["resource"]["id"], limit=1000
        )["records"]
        traces |= {row["area_name"] for row in rows}
    assert traces & set(refused_cells) == set()
    for city in (
        CITIES
    ):  # nobody promoted themselves: the only admin anywhere is the bystander a sysadmin made one
        members = call_action("member_list", id=city, object_type="user")
        admins = {
            model.User.get(user_id).name for user_id, _, role in members if role.lower() == "admin"
        }
        assert not admins & {names[a] for a in found if a.endswith(("-editor", "-harvester"))}, (
            city,
            admins,
        )
