"""Bounded work per request, against the live CKAN (gunicorn): what a run record may hold, what
the harvest page shows of it, malformed input answered with 400 rather than 500, and runs dated
in the future.

Observed before: a 2 MB harvest report became a 38 MB public harvest page taking 6–8 s; a NUL
character, a lone surrogate or an offset of 2^63 in a parameter made actions and pages answer
500 (CKAN's own too); a run dated in the future stayed "the newest run" and hid every later one.
"""

from __future__ import annotations

import datetime
import json
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml

from demo.replay import LoopbackServer
from tests.harvesting import report

pytestmark = pytest.mark.usefixtures("with_plugins")

COUNTS = {"added": 0, "updated": 0, "unchanged": 0, "withdrawn": 0, "rejected": 0, "errored": 0}
MINUTE = datetime.timedelta(minutes=1)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _api(platform, action: str, token: str | None = None, **data) -> requests.Response:
    headers = {"Authorization": token} if token else {}
    return requests.post(
        f"{platform['url']}/api/3/action/{action}", json=data, headers=headers, timeout=60
    )


def _token(platform, city: str) -> str:
    return platform["tokens"][city].read_text().strip()


def _run(city: str = "mainz", started: datetime.datetime | None = None, **report) -> dict:
    started = started or _now() - 60 * MINUTE
    datasets = report.get("datasets", [])
    counts = {s: sum(1 for d in datasets if d["status"] == s) for s in COUNTS}
    return {
        "organization": city,
        "started": started.isoformat(),
        "finished": (started + 10 * MINUTE).isoformat(),
        "status": "partial",
        "counts": counts,
        "report": {"city": city, **report},
        "harvester_version": "test",
    }


def _get(platform, path: str, **params) -> requests.Response:
    return requests.get(f"{platform['url']}{path}", params=params, timeout=60)


# --- a huge report: capped when stored, paginated on the page ----------------------------------


def test_huge_report_is_capped_and_the_harvest_page_stays_small(platform):
    """21,000 rejected datasets in a report just under 2 MB (accepted before, like the one that
    made a 38 MB page)."""
    datasets = [
        {"status": "rejected", "title": f"T{i}", "errors": [{"code": "x", "message": "kaputt"}]}
        for i in range(21_000)
    ]
    sent = _run(datasets=datasets)
    assert len(json.dumps(sent["report"]).encode()) < 2 * 1024 * 1024

    response = _api(platform, "vierstaedte_harvest_run_create", _token(platform, "mainz"), **sent)

    assert response.status_code == 200, response.text[:500]
    stored = response.json()["result"]
    assert stored["counts"]["rejected"] == 21_000  # the counts stay complete
    assert len(stored["report"]["datasets"]) == 500
    assert stored["report"]["omitted"] == {"rejected": 20_500}

    started = time.monotonic()
    page = _get(platform, "/staedte/mainz/harvest")
    seconds = time.monotonic() - started
    assert page.status_code == 200
    assert len(page.content) < 100_000, len(page.content)
    assert seconds < 2, seconds
    html = page.text
    assert "Datensätze mit Problemen (500)" in html and "Probleme: Seite 1 von 25" in html
    assert ">T0<" in html and ">T19<" in html and ">T20<" not in html
    assert "20500 weitere Datensätze mit Problemen wurden gemeldet, aber nicht gespeichert" in html

    second = _get(platform, "/staedte/mainz/harvest", run=stored["id"], problem_page=2)
    assert second.status_code == 200 and len(second.content) < 100_000
    assert ">T20<" in second.text and ">T39<" in second.text and ">T19<" not in second.text
    assert "Probleme: Seite 2 von 25" in second.text


def test_long_messages_and_many_errors_are_cut_on_the_page(platform):
    """The page does not grow with a report's texts: 10 problems × 50 errors × 2,000 characters."""
    datasets = [
        {
            "status": "errored",
            "title": "<" * 5000,
            "source_id": "s" * 5000,
            "ckan_name": "n" * 5000,
            "errors": [{"code": "c" * 100, "message": "<" * 2000}] * 50,
        }
        for _ in range(10)
    ]
    sent = _run(datasets=datasets, source_errors=[{"code": "e", "message": "<" * 2000}] * 300)
    response = _api(platform, "vierstaedte_harvest_run_create", _token(platform, "mainz"), **sent)
    assert response.status_code == 200, response.text[:300]

    page = _get(platform, "/staedte/mainz/harvest")

    assert page.status_code == 200
    assert len(page.content) < 300_000, len(page.content)  # every "<" is printed as "&lt;"
    assert "und 45 weitere Fehler" in page.text
    assert "280 weitere Fehler der Quelle stehen im vollständigen Bericht." in page.text


class _Catalogue(BaseHTTPRequestHandler):
    """A CKAN ``package_search`` listing DATASETS tables missing (404) at very long URLs."""

    DATASETS = 700

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if not parts.path.endswith("package_search"):
            self.send_error(404)
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        start, rows = int(query.get("start", 0)), int(query.get("rows", 10))
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        results = [
            {
                "id": f"00000000-0000-4000-8000-{i:012d}",
                "name": f"einwohner-{i}",
                "type": "dataset",
                "title": f"Einwohner nach Ortsbezirken {i}",
                "notes": "Erzeugt.",
                "organization": {"name": "stadt_mainz", "title": "Stadt Mainz"},
                "resources": [
                    {
                        "id": f"r{i}",
                        "url": f"{base}/fehlt/{i}/{'x' * 3000}.csv",
                        "format": "CSV",
                        "name": "Tabelle",
                    }
                ],
            }
            for i in range(start, min(start + rows, self.DATASETS))
        ]
        result = {"count": self.DATASETS, "results": results}
        body = json.dumps({"success": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_harvester_records_a_run_whose_report_exceeds_the_portal_limit(harvest, platform):
    """700 failed downloads at 3,000-character URLs: a 2.3 MB report, recorded trimmed, complete
    on disk."""
    config_path = harvest.configs / "mainz.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    with LoopbackServer(_Catalogue) as catalogue:
        config["source"].update(url=catalogue.base, rows=1000)
        config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        process = harvest("mainz")

    assert "could not record the run" not in process.stderr, process.stderr[-2000:]
    local = report(process)
    assert len(local["datasets"]) == 700 and local["counts"]["errored"] == 700
    assert len(json.dumps(local).encode()) > 2 * 1024 * 1024  # the local file keeps everything
    runs = _get(
        platform,
        "/api/3/action/vierstaedte_harvest_run_list",
        organization="mainz",
        include_report="true",
    ).json()["result"]
    assert runs["count"] == 1
    recorded = runs["results"][0]
    assert recorded["counts"]["errored"] == 700
    assert len(recorded["report"]["datasets"]) == 500
    assert recorded["report"]["omitted"]["errored"] == 200
    page = _get(platform, "/staedte/mainz/harvest")
    assert page.status_code == 200 and len(page.content) < 100_000
    assert "Datensätze mit Problemen (500)" in page.text


def test_the_harvester_trims_datasets_without_problems_first_and_keeps_the_order():
    from vierstaedte_harvest.report import for_portal

    unchanged = [{"status": "unchanged", "title": "u" * 100} for _ in range(150)]
    rejected = [
        {"status": "rejected", "title": f"R{i}", "errors": [{"code": "x", "message": "m" * 5000}]}
        for i in range(4)
    ]
    run = {
        "city": "mainz",
        "counts": {"unchanged": 300, "rejected": 4},
        "datasets": unchanged + rejected + unchanged,
        "source_errors": [{"code": "s", "message": "q" * 3000}] * 5,
    }

    assert for_portal(run) == dict(
        run,
        datasets=[
            dict(d, errors=[{"code": "x", "message": "m" * 2000}])
            if d["status"] == "rejected"
            else d
            for d in run["datasets"]
        ],
        source_errors=[{"code": "s", "message": "q" * 2000}] * 5,
    )
    small = for_portal(run, max_bytes=30_000, max_problems=3)
    assert [d["title"] for d in small["datasets"]] == ["R0", "R1", "R2"]
    assert small["omitted"] == {"unchanged": 300, "rejected": 1, "source_errors": 2}
    assert len(small["source_errors"]) == 3 and small["counts"] == run["counts"]
    tiny = for_portal(run, max_bytes=10_000, max_problems=3)
    assert [d["title"] for d in tiny["datasets"]] == ["R0"] and tiny["omitted"]["rejected"] == 3
    assert len(json.dumps(tiny, ensure_ascii=False).encode()) <= 10_000


# --- malformed input: 400 with a message, never 500 --------------------------------------------

BAD_QUERIES = [
    pytest.param(
        "/api/3/action/vierstaedte_harvest_run_list",
        {"organization": "main\x00z"},
        id="nul-our-action",
    ),
    pytest.param("/api/3/action/vierstaedte_city_show", {"id": "\x00"}, id="nul-city-show"),
    pytest.param("/api/3/action/package_show", {"id": "a\x00b"}, id="nul-core-action"),
    pytest.param("/api/3/action/package_search", {"q": "x", "fq\x00": "y"}, id="nul-in-a-name"),
    pytest.param("/staedte/mainz/harvest", {"run": "\x00"}, id="nul-harvest-page"),
    pytest.param("/staedte/main\x00z/harvest", {}, id="nul-in-path"),
    pytest.param("/dataset/", {"q": "\x00"}, id="nul-core-page"),
]


@pytest.mark.parametrize("path, params", BAD_QUERIES)
def test_nul_in_a_query_or_path_is_a_400_with_a_message(platform, path, params):
    response = _get(platform, path, **params)

    assert response.status_code == 400, (response.status_code, response.text[:300])
    if path.startswith("/api/"):
        error = response.json()["error"]
        assert response.json()["success"] is False and error["__type"] == "Bad request"
        assert "NUL-Zeichen" in error["message"]
    else:
        assert "NUL-Zeichen" in response.text


BAD_BODIES = [
    pytest.param(
        "vierstaedte_harvest_run_list", '{"organization": "\\ud800"}', "Surrogat", id="surrogate"
    ),
    pytest.param(
        "vierstaedte_harvest_run_create",
        '{"organization": "mainz", "report": {"x": "\\udfff"}}',
        "Surrogat",
        id="surrogate-in-report",
    ),
    pytest.param("package_create", '{"name": "a\\u0000b"}', "NUL-Zeichen", id="nul-core-action"),
    pytest.param(
        "vierstaedte_harvest_run_create",
        '{"report": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "zu tief verschachtelt",
        id="deep-json-body",
    ),
    pytest.param(
        "vierstaedte_harvest_run_create",
        '{"counts": ' + "[" * 200 + "]" * 200 + "}",
        "zu tief verschachtelt",
        id="nested-200",
    ),
    pytest.param(
        "vierstaedte_catalogue_export",
        '{"q": "[\\"\\\\u0000\\"]"}',
        "NUL-Zeichen",
        id="nul-in-json-text-in-json",
    ),
]


def test_deep_json_text_in_a_form_is_a_400(platform):
    """CKAN parses ``facet.field`` as JSON: nested past Python's recursion limit it was a 500."""
    response = requests.post(
        f"{platform['url']}/api/3/action/package_search",
        data={"facet.field": "[" * 5000 + "]" * 5000},
        timeout=60,
    )

    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert "„facet.field“ ist zu tief verschachtelt" in response.json()["error"]["message"]


@pytest.mark.parametrize("action, body, message", BAD_BODIES)
def test_surrogates_nul_and_deep_nesting_in_a_json_body_are_a_400(platform, action, body, message):
    response = requests.post(
        f"{platform['url']}/api/3/action/{action}",
        data=body.encode(),
        headers={"Content-Type": "application/json", "Authorization": platform["admin_token"]},
        timeout=60,
    )

    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert message in response.json()["error"]["message"]


RUNS = "/api/3/action/vierstaedte_harvest_run_list"
EXPORT = "/api/3/action/vierstaedte_catalogue_export"


@pytest.mark.parametrize(
    "path, params, field",
    [
        pytest.param(RUNS, {"organization": "mainz", "offset": 2**63}, "offset", id="offset-2^63"),
        pytest.param(RUNS, {"organization": "mainz", "offset": " "}, "offset", id="blank-offset"),
        pytest.param(RUNS, {"organization": "mainz", "limit": 2**64}, "limit", id="limit-2^64"),
        pytest.param(EXPORT, {"start": 2**63}, "start", id="start-2^63"),
        pytest.param(EXPORT, {"rows": " "}, "rows", id="blank-rows"),
    ],
)
def test_huge_or_blank_numbers_are_field_errors(platform, path, params, field):
    response = _get(platform, path, **params)

    assert response.status_code == 409, (response.status_code, response.text[:300])
    assert "ganze Zahl von" in response.json()["error"][field][0]


def test_include_report_must_be_a_boolean(platform):
    response = _api(
        platform, "vierstaedte_harvest_run_list", organization="mainz", include_report=5
    )
    assert response.status_code == 409
    assert "true oder false" in response.json()["error"]["include_report"][0]


@pytest.mark.parametrize("page", [2**63, -1, 0, "zwei"])
def test_harvest_page_numbers_out_of_range_are_a_400(platform, page):
    for param in ("page", "problem_page"):
        response = _get(platform, "/staedte/mainz/harvest", **{param: page})
        assert response.status_code == 400, (param, response.status_code)
        assert "ganze Zahl von 1 bis 10000" in response.text


@pytest.mark.parametrize(
    "started",
    [
        pytest.param("99999-01-01T00:00:00Z", id="year-99999"),
        pytest.param("-0001-01-01T00:00:00Z", id="negative-year"),
        pytest.param("0001-01-01T00:00:00+01:00", id="before-year-1-in-utc"),
        pytest.param("9999-12-31T23:59:59-14:00", id="after-year-9999-in-utc"),
        pytest.param("1970-01-01T00:00:00Z", id="before-2000"),
        pytest.param(10**30, id="a-number"),
    ],
)
def test_out_of_range_times_are_field_errors(platform, started):
    sent = dict(_run(), started=started)
    response = _api(platform, "vierstaedte_harvest_run_create", _token(platform, "mainz"), **sent)
    assert response.status_code == 409, (response.status_code, response.text[:300])
    assert "started" in response.json()["error"]


# --- a run dated in the future -----------------------------------------------------------------


def test_a_run_dated_in_the_future_is_refused(platform):
    token = _token(platform, "mainz")
    for field in ("started", "finished"):
        sent = _run(started=_now() - 30 * MINUTE)
        sent[field] = (_now() + 24 * 60 * MINUTE).isoformat()
        response = _api(platform, "vierstaedte_harvest_run_create", token, **sent)
        assert response.status_code == 409, response.text[:300]
        assert "Minuten nach der Uhrzeit des Portals" in response.json()["error"][field][0]
    # a harvester's clock two minutes fast is fine: it finished "in two minutes"
    sent = _run(started=_now() - 8 * MINUTE)
    assert _api(platform, "vierstaedte_harvest_run_create", token, **sent).status_code == 200


def test_a_run_stored_with_a_future_date_does_not_hide_later_runs(platform):
    """A run recorded before times were checked, dated 2099, and a real run recorded after it."""
    from ckan import model

    from ckanext.vierstaedte.model import HarvestRun

    year_2099 = datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)
    model.Session.add(
        HarvestRun(
            organization_id=model.Group.get("mainz").id,
            status="failed",
            counts=COUNTS,
            report={"city": "mainz"},
            started=year_2099,
            finished=year_2099 + MINUTE,
            created=_now() - 2 * 24 * 60 * MINUTE,
        )
    )
    model.Session.commit()
    sent = _run(datasets=[{"status": "rejected", "title": "Neuer Fehler", "errors": []}])
    later = _api(
        platform, "vierstaedte_harvest_run_create", _token(platform, "mainz"), **sent
    ).json()["result"]

    runs = _get(platform, RUNS, organization="mainz").json()["result"]
    assert [run["id"] for run in runs["results"]][0] == later["id"]
    assert "Neuer Fehler" in _get(platform, "/staedte/mainz/harvest").text  # the newest run's
    cards = _get(platform, "/staedte").text
    assert "Teilweise erfolgreich" in cards and "Fehlgeschlagen" not in cards
