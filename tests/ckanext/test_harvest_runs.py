"""Harvest runs: recorded by a city's harvester, listed publicly, shown on the city's harvest page."""

from __future__ import annotations

import copy
import json

import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckan import model
from ckan.tests import factories
from ckan.tests.helpers import call_action

COUNTS = {"added": 1, "updated": 2, "unchanged": 40, "withdrawn": 0, "rejected": 1, "errored": 1}
SCRIPT = "<script>alert('xss')</script>"


def run_payload(
    city="mainz", started="2026-11-21T03:00:00Z", finished="2026-11-21T03:12:30Z", **overrides
):
    """A run as the harvester sends it; tests override one thing at a time."""
    report = {
        "city": city,
        "status": "partial",
        "started": started,
        "finished": finished,
        "counts": COUNTS,
        "datasets": [
            {
                "source_id": "rlp:einwohner-2023",
                "title": "Einwohner 2023",
                "ckan_name": "mainz-einwohner-2023",
                "status": "updated",
                "errors": [],
                "defaulted": [
                    {"field": "frequency", "value": "ANNUAL", "by": "config"},
                    {"field": "political_geocoding_uri", "value": "x", "by": "portal"},
                ],
                "warnings": [{"code": "invalid-url", "message": f"source_url {SCRIPT}"}],
            },
            {
                "source_id": "rlp:wahlen-2024",
                "title": "Kommunalwahl 2024",
                "ckan_name": "mainz-wahlen-2024",
                "status": "rejected",
                "errors": [
                    {"code": "missing-column", "message": "Spalte „Stimmen“ fehlt in Tabelle 3"}
                ],
            },
            {
                "source_id": "rlp:gewerbe",
                "title": "Gewerbeanmeldungen",
                "ckan_name": "mainz-gewerbe",
                "status": "errored",
                "errors": [{"code": "http-error", "message": f"Abruf fehlgeschlagen {SCRIPT}"}],
                "table_report": {"valid": False, "stats": {"errors": 1}},
            },
        ],
        "source_errors": ["Katalogseite 3 antwortete mit HTTP 503"],
    }
    data = {
        "organization": city,
        "started": started,
        "finished": finished,
        "status": "partial",
        "counts": COUNTS,
        "report": report,
        "harvester_version": "0.1.0",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _post(app, data, token=None, status=200):
    headers = {"Authorization": token} if token else {}
    return app.post(
        "/api/3/action/vierstaedte_harvest_run_create", json=data, headers=headers, status=status
    ).json


def _list(app, status=200, **params):
    return app.get(
        "/api/3/action/vierstaedte_harvest_run_list", query_string=params, status=status
    ).json


def _record(user, **kwargs):
    return call_action(
        "vierstaedte_harvest_run_create", context={"user": user}, **run_payload(**kwargs)
    )


@pytest.fixture
def admin(clean_db):
    return factories.Sysadmin()


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestRecordRuns:
    def test_city_editor_records_a_run_and_anyone_can_list_it(self, app, city_editor, cities):
        sent = run_payload(started="2026-11-21T04:00:00+01:00")
        created = _post(app, sent, city_editor["token"])["result"]

        assert created["organization_id"] == cities["mainz"]["id"]
        assert created["started"] == "2026-11-21T03:00:00+00:00"  # stored in UTC
        assert created["finished"] == "2026-11-21T03:12:30+00:00"
        assert created["status"] == "partial"
        assert created["counts"] == COUNTS
        assert created["report"] == sent["report"]  # stored as sent
        assert created["harvester_version"] == "0.1.0"
        assert created["created_by"] == city_editor["user"]["id"]

        listed = _list(app, organization="mainz")["result"]  # anonymous
        assert listed["count"] == 1
        assert [run["id"] for run in listed["results"]] == [created["id"]]
        assert "report" not in listed["results"][0]
        with_report = _list(app, organization="mainz", include_report="true")["result"]
        assert with_report["results"][0]["report"] == created["report"]

    def test_editor_of_mainz_cannot_record_for_trier(self, app, city_editor):
        response = _post(app, run_payload(city="trier"), city_editor["token"], status=403)
        assert response["success"] is False
        assert _list(app, organization="trier")["result"]["count"] == 0

    def test_anonymous_cannot_record(self, app, cities):
        _post(app, run_payload(), status=403)
        assert _list(app, organization="mainz")["result"]["count"] == 0

    def test_member_without_editor_rights_cannot_record(self, app, cities):
        user = factories.User()
        call_action(
            "organization_member_create",
            id=cities["mainz"]["id"],
            username=user["name"],
            role="member",
        )
        _post(app, run_payload(), factories.APIToken(user=user["name"])["token"], status=403)

    def test_sysadmin_records_for_any_city(self, cities, admin):
        created = _record(admin["name"], city="koblenz")
        assert created["organization_id"] == cities["koblenz"]["id"]

    def test_oversized_report_is_refused_with_a_field_error(self, app, city_editor):
        data = run_payload()
        data["report"]["datasets"][0]["errors"] = [
            {"code": "x", "message": "ä" * 1024}
        ] * 1100  # > 2 MB as UTF-8

        error = _post(app, data, city_editor["token"], status=409)["error"]

        assert set(error) == {"report", "__type"}
        assert "zu groß" in error["report"][0] and "höchstens 2,0 MB" in error["report"][0]
        assert _list(app, organization="mainz")["result"]["count"] == 0

    @pytest.mark.ckan_config("ckanext.vierstaedte.harvest_report_max_problems", 2)
    def test_problems_beyond_the_cap_are_counted_not_refused(self, city_editor):
        rejected = {"status": "rejected", "errors": []}
        report = {
            "city": "mainz",
            "datasets": [dict(rejected, title=f"T{i}") for i in range(3)]
            + [{"status": "unchanged"}, {"status": "errored", "title": "E"}],
            "source_errors": ["a", "b", "c", "d"],
            "omitted": {"errored": 7},
        }

        created = _record(city_editor["user"]["name"], report=report)

        stored = created["report"]
        assert [d.get("title") for d in stored["datasets"]] == ["T0", "T1", None]
        assert stored["source_errors"] == ["a", "b"]
        assert stored["omitted"] == {"rejected": 1, "errored": 8, "source_errors": 2}
        assert created["counts"] == COUNTS  # as sent: complete

    @pytest.mark.ckan_config("ckanext.vierstaedte.harvest_report_max_bytes", 5000)
    def test_report_limit_is_configurable(self, city_editor):
        with pytest.raises(tk.ValidationError) as raised:
            _record(city_editor["user"]["name"], report={"city": "mainz", "padding": "x" * 5000})
        assert "zu groß" in raised.value.error_dict["report"][0]


INVALID = [
    pytest.param({"status": "great"}, "status", "Unbekannter Status", id="unknown-status"),
    pytest.param({"started": "gestern"}, "started", "ISO-8601", id="bad-start"),
    pytest.param({"finished": None}, "finished", "Fehlender Wert", id="missing-finish"),
    pytest.param(
        {"finished": "2026-11-21T02:00:00Z"}, "finished", "vor dem Beginn", id="finish-before-start"
    ),
    pytest.param({"counts": dict(COUNTS, added=-1)}, "counts", "ganze Zahl", id="negative-count"),
    pytest.param(
        {"counts": dict(COUNTS, skipped=3)},
        "counts",
        "Unbekannte Zählung: skipped",
        id="unknown-count",
    ),
    pytest.param({"counts": None}, "counts", "Fehlender Wert", id="missing-counts"),
    pytest.param(
        {"report": ["not", "an", "object"]}, "report", "JSON-Objekt", id="report-not-object"
    ),
    pytest.param({"report": {"datasets": {"a": 1}}}, "report", "Liste", id="datasets-not-list"),
    pytest.param(
        {"report": {"datasets": [{"status": "fine"}]}},
        "report",
        "datasets[0].status",
        id="bad-dataset-status",
    ),
    pytest.param(
        {"report": {"city": "trier"}}, "report", "gehört zu „trier“", id="report-of-other-city"
    ),
    pytest.param(
        {"harvester_version": "v" * 101}, "harvester_version", "100 Zeichen", id="long-version"
    ),
    pytest.param(
        {"started": "2099-01-01T00:00:00Z", "finished": "2099-01-01T00:10:00Z"},
        "started",
        "Minuten nach der Uhrzeit des Portals",
        id="in-the-future",
    ),
    pytest.param(
        {"finished": "2099-01-01T00:10:00Z"},
        "finished",
        "Minuten nach",
        id="finished-in-the-future",
    ),
    pytest.param(
        {"started": "0001-01-01T00:00:00+01:00"},
        "started",
        "liegt nicht zwischen",
        id="before-year-1",
    ),
    pytest.param(
        {"started": "1999-12-31T23:59:59Z"},
        "started",
        "liegt nicht zwischen 2000-01-01",
        id="before-2000",
    ),
    pytest.param({"started": "99999-01-01"}, "started", "ISO-8601", id="year-99999"),
    pytest.param(
        {"report": {"city": "mainz", "x": json.loads("[" * 32 + "]" * 32)}},
        "report",
        "zu tief verschachtelt (mehr als 32 Ebenen)",
        id="report-nested-33-deep",
    ),
    pytest.param(
        {"report": {"omitted": {"errored": -1}}}, "report", "„omitted“", id="negative-omitted"
    ),
    pytest.param({"report": {"omitted": {"lost": 1}}}, "report", "„omitted“", id="unknown-omitted"),
]


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestValidation:
    @pytest.mark.parametrize("override, field, message", INVALID)
    def test_invalid_run_is_refused_with_a_field_error(
        self, app, city_editor, override, field, message
    ):
        data = run_payload()
        data.update(override)
        data = {k: v for k, v in data.items() if v is not None}

        error = _post(app, data, city_editor["token"], status=409)["error"]

        assert field in error, error
        assert message in " ".join(error[field]), error[field]

    @pytest.mark.parametrize(
        "override, field, message",
        [
            pytest.param(
                {"counts": "[" * 5000 + "]" * 5000},
                "counts",
                "zu tief verschachtelt",
                id="deep-json-text",
            ),
            pytest.param(
                {"report": {"note": "\ud800"}},
                "report",
                "nicht als JSON speichern",
                id="lone-surrogate",
            ),
            pytest.param({"report": {"note": "a\u0000b"}}, "report", "NUL", id="nul-character"),
        ],
    )
    def test_what_the_request_guard_refuses_is_also_refused_in_process(
        self, city_editor, override, field, message
    ):
        """Over HTTP the request guard refuses these (tests/security/test_bounded.py); in-process
        calls reach the validators."""
        with pytest.raises(tk.ValidationError) as raised:
            _record(city_editor["user"]["name"], **override)
        assert message in " ".join(raised.value.error_dict[field])

    def test_unknown_organization_is_a_field_error_for_sysadmins(self, app, cities):
        token = factories.SysadminWithToken()["token"]
        error = _post(app, run_payload(city="mannheim"), token, status=409)["error"]
        assert error["organization"] == ["Unbekannte Organisation: mannheim"]

    def test_report_may_be_sent_as_json_text(self, city_editor):
        created = _record(
            city_editor["user"]["name"], report=json.dumps({"city": "mainz", "datasets": []})
        )
        assert created["report"] == {"city": "mainz", "datasets": []}


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestListAndShow:
    def test_list_is_newest_first_and_paginated(self, app, city_editor):
        user = city_editor["user"]["name"]
        for day in (3, 5, 1, 4, 2):
            _record(user, started=f"2026-11-0{day}T03:00:00Z", finished=f"2026-11-0{day}T03:10:00Z")

        first = _list(app, organization="mainz", limit=2)["result"]
        second = _list(app, organization="mainz", limit=2, offset=2)["result"]
        last = _list(app, organization="mainz", limit=2, offset=4)["result"]

        assert first["count"] == second["count"] == last["count"] == 5
        started = [
            run["started"][:10] for run in first["results"] + second["results"] + last["results"]
        ]
        assert started == ["2026-11-05", "2026-11-04", "2026-11-03", "2026-11-02", "2026-11-01"]
        assert len(_list(app, organization="mainz")["result"]["results"]) == 5  # default limit 20

    @pytest.mark.parametrize(
        "params, field",
        [
            pytest.param({"limit": 0}, "limit", id="limit-zero"),
            pytest.param({"limit": 101}, "limit", id="limit-over-100"),
            pytest.param({"limit": "viele"}, "limit", id="limit-not-a-number"),
            pytest.param({"offset": -1}, "offset", id="negative-offset"),
            pytest.param({"offset": 2**63}, "offset", id="offset-2^63"),
            pytest.param({"offset": " "}, "offset", id="blank-offset"),
            pytest.param({"offset": "1.5"}, "offset", id="fractional-offset"),
            pytest.param(
                {"include_report": "vielleicht"},
                "include_report",
                id="include-report-not-a-boolean",
            ),
            pytest.param({"organization": "mannheim"}, "organization", id="unknown-city"),
        ],
    )
    def test_list_parameters_are_validated(self, app, cities, params, field):
        error = _list(app, status=409, **dict({"organization": "mainz"}, **params))["error"]
        assert field in error

    def test_limit_of_100_is_allowed(self, app, cities):
        assert _list(app, organization="mainz", limit=100)["result"] == {"count": 0, "results": []}

    @pytest.mark.ckan_config("ckanext.vierstaedte.harvest_runs_kept", 3)
    def test_only_the_newest_runs_of_a_city_are_kept(self, app, city_editor, admin):
        user = city_editor["user"]["name"]
        other_city = _record(
            admin["name"],
            city="trier",
            started="2026-10-01T03:00:00Z",
            finished="2026-10-01T03:10:00Z",
        )
        for day in range(1, 6):
            _record(user, started=f"2026-11-0{day}T03:00:00Z", finished=f"2026-11-0{day}T03:10:00Z")

        mainz = _list(app, organization="mainz")["result"]
        assert mainz["count"] == 3
        assert [run["started"][:10] for run in mainz["results"]] == [
            "2026-11-05",
            "2026-11-04",
            "2026-11-03",
        ]
        assert _list(app, organization="trier")["result"]["results"][0]["id"] == other_city["id"]
        assert (
            model.Session.execute(sa.text("SELECT count(*) FROM vierstaedte_harvest_run")).scalar()
            == 4
        )

    @pytest.mark.ckan_config("ckanext.vierstaedte.harvest_runs_kept", 3)
    def test_a_run_dated_ahead_of_its_recording_counts_from_its_recording(self, app, city_editor):
        """Runs stored before times were checked may be dated in the future: they do not stay
        the newest, and retention drops them in turn."""
        user = city_editor["user"]["name"]
        future = _record(user, started="2026-11-20T03:00:00Z", finished="2026-11-20T03:10:00Z")
        model.Session.execute(
            sa.text(
                "UPDATE vierstaedte_harvest_run SET started = '2099-01-01', "
                "created = '2026-11-20T03:20:00Z'"
            )
        )
        model.Session.commit()
        later = _record(user, started="2026-11-21T03:00:00Z", finished="2026-11-21T03:10:00Z")

        assert _list(app, organization="mainz")["result"]["results"][0]["id"] == later["id"]
        for day in (22, 23, 24):
            _record(user, started=f"2026-11-{day}T03:00:00Z", finished=f"2026-11-{day}T03:10:00Z")
        kept = [run["id"] for run in _list(app, organization="mainz")["result"]["results"]]
        assert future["id"] not in kept and len(kept) == 3

    def test_show_returns_the_full_report(self, app, city_editor):
        created = _record(city_editor["user"]["name"])
        shown = app.get(
            "/api/3/action/vierstaedte_harvest_run_show", query_string={"id": created["id"]}
        ).json["result"]
        assert shown == created

    def test_show_of_unknown_run_is_404(self, app, cities):
        response = app.get(
            "/api/3/action/vierstaedte_harvest_run_show", query_string={"id": "nope"}, status=404
        )
        assert response.json["error"]["__type"] == "Not Found Error"


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestHarvestPage:
    def test_page_lists_runs_and_problems_in_german_and_escapes_report_text(self, app, city_editor):
        _record(city_editor["user"]["name"])

        response = app.get("/staedte/mainz/harvest")

        assert response.status_code == 200
        html = response.body
        for label in (
            "Letzte Harvest-Läufe",
            "Status",
            "Hinzugefügt",
            "Aktualisiert",
            "Unverändert",
            "Zurückgezogen",
            "Abgelehnt",
            "Fehler",
            "Teilweise erfolgreich",
        ):
            assert label in html, label
        assert "21.11.2026, 03:00 UTC" in html
        assert "Kommunalwahl 2024" in html and "Spalte „Stimmen“ fehlt in Tabelle 3" in html
        assert "Gewerbeanmeldungen" in html and "missing-column" in html
        assert "Katalogseite 3 antwortete mit HTTP 503" in html
        assert "Einwohner 2023" not in html  # updated without problems: not listed
        # …but what defaults filled and what was warned about is summed up by kind
        assert "Hinweise" in html
        assert (
            "Aktualisierung <code>frequency</code> aus der Harvester-Konfiguration: 1 Datensatz"
            in html
        )
        assert "vom Portal (Wert der Stadt): 1 Datensatz" in html
        assert "<code>invalid-url</code>: 1 Datensatz" in html
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html

    def test_run_parameter_selects_an_older_run(self, app, city_editor):
        user = city_editor["user"]["name"]
        older = _record(
            user,
            started="2026-11-01T03:00:00Z",
            finished="2026-11-01T03:10:00Z",
            report={
                "city": "mainz",
                "datasets": [
                    {
                        "title": "Alte Tabelle",
                        "status": "errored",
                        "errors": [{"message": "Zeitüberschreitung"}],
                    }
                ],
            },
        )
        _record(user)

        assert "Zeitüberschreitung" not in app.get("/staedte/mainz/harvest").body
        assert (
            "Zeitüberschreitung"
            in app.get("/staedte/mainz/harvest", query_string={"run": older["id"]}).body
        )

    def test_page_is_paginated_by_twenty_runs(self, app, city_editor):
        for minute in range(21):
            _record(
                city_editor["user"]["name"],
                started=f"2026-11-21T03:{minute:02d}:00Z",
                finished=f"2026-11-21T04:{minute:02d}:00Z",
            )

        first = app.get("/staedte/mainz/harvest").body
        second = app.get("/staedte/mainz/harvest", query_string={"page": 2}).body

        assert (
            "21 gespeicherte Läufe" in first
            and "Seite 1 von 2" in first
            and "Ältere Läufe" in first
        )
        assert "21.11.2026, 03:20 UTC" in first and "21.11.2026, 03:00 UTC" not in first
        assert "Seite 2 von 2" in second and "Neuere Läufe" in second
        assert "21.11.2026, 03:00 UTC" in second

    def test_problems_are_paginated_and_cut_to_size(self, app, city_editor):
        datasets = [
            {"status": "errored", "title": f"Tabelle {i}", "errors": [{"message": "x" * 3000}] * 7}
            for i in range(45)
        ]
        created = _record(
            city_editor["user"]["name"], report={"city": "mainz", "datasets": datasets}
        )

        first = app.get("/staedte/mainz/harvest").body
        third = app.get(
            "/staedte/mainz/harvest", query_string={"run": created["id"], "problem_page": 3}
        ).body

        assert "Datensätze mit Problemen (45)" in first and "Probleme: Seite 1 von 3" in first
        assert "Tabelle 19<" in first and "Tabelle 20<" not in first
        assert "und 2 weitere Fehler" in first
        assert "x" * 500 + "…" in first and "x" * 501 not in first  # the API has the whole message
        assert "Tabelle 40<" in third and "Tabelle 39<" not in third
        assert "Probleme: Seite 3 von 3" in third

    @pytest.mark.parametrize(
        "params",
        [{"page": "0"}, {"page": str(2**63)}, {"problem_page": "x"}, {"problem_page": "10001"}],
    )
    def test_page_numbers_out_of_range_are_a_400(self, app, cities, params):
        response = app.get("/staedte/mainz/harvest", query_string=params, status=400)
        assert "ganze Zahl von 1 bis 10000" in response.body

    def test_page_without_runs_says_so(self, app, cities):
        html = app.get("/staedte/trier/harvest").body
        assert "noch kein Harvest-Lauf" in html

    def test_unknown_city_or_run_of_another_city_is_404(self, app, city_editor, admin):
        trier_run = _record(admin["name"], city="trier")
        app.get("/staedte/mannheim/harvest", status=404)
        app.get("/staedte/mainz/harvest", query_string={"run": trier_run["id"]}, status=404)
        app.get("/staedte/mainz/harvest", query_string={"run": "nope"}, status=404)

    def test_city_cards_show_the_last_run(self, app, city_editor):
        _record(city_editor["user"]["name"], status="failed")

        html = app.get("/staedte").body

        assert html.count("Zuletzt von der Stadt abgerufen") == 4
        assert "/staedte/mainz/harvest" in html
        assert (
            "Fehlgeschlagen" in html and "21.11.2026, 03:12 UTC" in html and "noch keiner" in html
        )


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestMigration:
    def test_model_matches_the_migration(self):
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        from ckanext.vierstaedte.model import HarvestRun

        only_ours = lambda obj, name, type_, reflected, compare_to: (  # noqa: E731
            type_ != "table" or name == HarvestRun.__tablename__
        )
        with model.Session.bind.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": only_ours})
            # the model's own metadata: clean_db replaces model.meta.metadata with a reflection of
            # the database
            assert compare_metadata(context, HarvestRun.metadata) == []

    def test_downgrade_drops_the_table_and_upgrade_recreates_it(self, migrate_db_for):
        inspector = lambda: sa.inspect(model.Session.bind)  # noqa: E731
        assert inspector().has_table("vierstaedte_harvest_run")
        model.Session.remove()
        migrate_db_for("vierstaedte", "base", forward=False)
        assert not inspector().has_table("vierstaedte_harvest_run")
        migrate_db_for("vierstaedte")
        assert inspector().has_table("vierstaedte_harvest_run")


def test_report_problems_tolerate_malformed_reports():
    from ckanext.vierstaedte.logic.harvest_runs import report_problems

    empty = {
        "datasets": [],
        "dataset_count": 0,
        "page": 1,
        "page_count": 1,
        "source_errors": [],
        "more_source_errors": 0,
        "omitted_datasets": 0,
        "omitted_source_errors": 0,
        "defaulted": [],
        "warnings": [],
    }
    assert report_problems(None) == empty
    assert report_problems({"datasets": "x", "source_errors": {"a": 1}, "omitted": [1]}) == empty
    problems = report_problems(
        copy.deepcopy(
            {
                "datasets": [
                    "not a dict",
                    {"status": "rejected", "title": 7, "errors": "not a list"},
                    {"status": "errored", "errors": [{"code": 1}, "plain text", None]},
                ],
                "source_errors": [{"message": "weg", "code": "dns"}],
                "omitted": {"errored": "x", "rejected": 2},
            }
        )
    )
    assert problems["datasets"][0] == {
        "title": "7",
        "ckan_name": "",
        "source_id": "",
        "status": "rejected",
        "errors": [],
        "more_errors": 0,
    }
    assert problems["datasets"][1]["errors"] == [
        {"code": "1", "message": '{"code": 1}'},
        {"code": "", "message": "plain text"},
        {"code": "", "message": ""},
    ]
    assert problems["source_errors"] == [{"code": "dns", "message": "weg"}]
    assert problems["omitted_datasets"] == 2


def test_report_problems_are_a_bounded_page():
    from ckanext.vierstaedte.logic.harvest_runs import report_problems

    rejected = [{"status": "rejected", "title": str(i), "errors": ["e"] * 9} for i in range(30)]
    report = {"datasets": rejected + [{"status": "added"}], "source_errors": ["s"] * 25}

    second = report_problems(report, page=2, per_page=20)

    assert [d["title"] for d in second["datasets"]] == [str(i) for i in range(20, 30)]
    assert second["dataset_count"] == 30 and second["page_count"] == 2 and second["page"] == 2
    assert len(second["datasets"][0]["errors"]) == 5 and second["datasets"][0]["more_errors"] == 4
    assert len(second["source_errors"]) == 20 and second["more_source_errors"] == 5
    assert report_problems(report, page=9)["datasets"] == []


def test_defaulted_fields_and_warnings_are_counted_by_kind_and_bounded():
    from ckanext.vierstaedte.logic.harvest_runs import NOTICES_SHOWN, report_problems

    entries = [
        {
            "status": "added",
            "defaulted": [
                {"field": "frequency", "by": "config"},
                {"field": f"f{i}", "by": "config"},
                "not a dict",
            ],
            "warnings": [{"code": "invalid-url", "message": "x"}, "plain", {"code": f"w{i}"}],
        }
        for i in range(40)
    ]
    entries.append({"status": "updated", "defaulted": "not a list", "warnings": {"a": 1}})

    result = report_problems({"datasets": entries})

    assert result["defaulted"][0] == {"field": "frequency", "by": "config", "count": 40}
    assert len(result["defaulted"]) == NOTICES_SHOWN
    assert result["warnings"][:2] == [
        {"code": "invalid-url", "count": 40},
        {"code": "-", "count": 40},
    ]
    assert len(result["warnings"]) == NOTICES_SHOWN
