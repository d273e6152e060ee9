"""Every page of the portal carries the security headers; no page holds inline script.

Over HTTP against the live CKAN, after a real harvest of Mainz: a Content-Security-Policy that
runs only the portal's own script files and forbids framing by anyone (the resource views, which
the dataset page frames, by the portal's own pages only), ``nosniff``, a Referrer-Policy. The
browser test (``tests/browser/test_csp.py``) proves the pages still work under the policy.
"""

from __future__ import annotations

import re

import pytest
import requests

from vierstaedte_contract.dataset import NORMALISED, resource_with_role

PAGES = [
    "/",
    "/dataset/",
    "/organization/mainz",
    "/vergleich",
    "/staedte",
    "/staedte/mainz/harvest",
    "/user/login",
    "/en/",
    "/api/3/action/status_show",
    "/nicht-vorhanden",
]
# a script element without src that is not a JSON data block; an event handler attribute
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>"
    r"|<[^>]+\son[a-z]+\s*=",
    re.I,
)


def policy(response: requests.Response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    directives = (d.strip().split(None, 1) for d in header.split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d}


@pytest.fixture
def pages(platform, harvest) -> list[str]:
    """The main pages, and a harvested dataset's page, resource page and DataTables view."""
    assert harvest("mainz").returncode == 0
    url = platform["url"]
    found = requests.get(
        url + "/api/3/action/package_search", params={"q": "title:Einwohner"}, timeout=30
    ).json()["result"]["results"]
    dataset = next(d for d in found if resource_with_role(d, NORMALISED))
    resource = resource_with_role(dataset, NORMALISED)
    # the view a city adds to show a table on its resource page (the harvest adds none)
    view = requests.post(
        url + "/api/3/action/resource_view_create",
        timeout=30,
        headers={"Authorization": platform["admin_token"]},
        json={"resource_id": resource["id"], "view_type": "datatables_view", "title": "Tabelle"},
    ).json()["result"]
    base = f"/dataset/{dataset['name']}/resource/{resource['id']}"
    return {
        "pages": [*PAGES, f"/dataset/{dataset['name']}", base],
        "view": f"{base}/view/{view['id']}",
    }


@pytest.mark.usefixtures("with_plugins")
def test_pages_carry_the_policy_and_no_inline_script(platform, pages):
    for path in pages["pages"]:
        answer = requests.get(platform["url"] + path, timeout=30)
        assert answer.status_code in (200, 404), (path, answer.status_code)
        csp = policy(answer)
        assert csp["script-src"] == "'self'", (path, csp)  # no 'unsafe-inline', no 'unsafe-eval'
        assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'", (path, csp)
        assert csp["frame-ancestors"] == "'none'", path
        assert answer.headers["X-Frame-Options"] == "DENY", path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        if answer.headers["Content-Type"].startswith("text/html"):
            assert not INLINE.findall(answer.text), (path, INLINE.findall(answer.text))


@pytest.mark.usefixtures("with_plugins")
def test_resource_views_may_be_framed_by_the_portal_only(platform, pages):
    answer = requests.get(platform["url"] + pages["view"], timeout=30)
    assert answer.status_code == 200 and 'data-module="datatables_view"' in answer.text
    csp = policy(answer)
    assert csp["frame-ancestors"] == "'self'"
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert csp["script-src"] == "'self'"
    assert not INLINE.findall(answer.text), INLINE.findall(answer.text)


ORIGIN = {"Origin": "https://app.example.org"}
PREFLIGHT = {**ORIGIN, "Access-Control-Request-Method": "GET"}


def _cors(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.usefixtures("with_plugins", "clean_db")
class TestCors:
    """Browser apps on other sites may read the API, never write it, never with credentials."""

    def test_a_read_action_is_shared_with_any_site(self, app):
        answer = app.get("/api/3/action/package_search?rows=1", headers=ORIGIN)
        assert answer.status_code == 200
        assert _cors(answer) == {"Access-Control-Allow-Origin": "*"}

    def test_the_preflight_names_the_read_methods_and_no_credentials(self, app):
        answer = app.options("/api/3/action/datastore_search", headers=PREFLIGHT)
        assert answer.status_code == 200
        assert _cors(answer) == {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Max-Age": "86400",
        }

    @pytest.mark.parametrize(
        "method, path",
        [
            ("post", "/api/3/action/package_search"),  # a POST is never shared, even of a read
            ("get", "/api/3/action/package_create"),  # a write action
            ("options", "/api/3/action/package_create"),
            ("get", "/api/3/action/no_such_action"),
            ("get", "/dataset/"),  # pages are not API
        ],
    )
    def test_writes_and_pages_are_not_shared(self, app, method, path):
        answer = getattr(app, method)(path, headers=PREFLIGHT)
        assert _cors(answer) == {}, (method, path)

    @pytest.mark.parametrize("path", ["/catalog.ttl", "/vergleich.csv", "/katalog.jsonl"])
    def test_the_open_data_files_are_shared_for_reading(self, app, path):
        answer = app.get(path, headers=ORIGIN)
        assert answer.status_code == 200, path
        assert _cors(answer) == {"Access-Control-Allow-Origin": "*"}, path
        assert _cors(app.post(path, headers=ORIGIN)) == {}, path

    def test_without_an_origin_nothing_is_added(self, app):
        assert _cors(app.get("/api/3/action/package_search")) == {}

    @pytest.mark.ckan_config(
        "ckanext.vierstaedte.cors.origins", "https://app.example.org https://karte.example.org"
    )
    def test_configured_origins_only(self, app):
        answer = app.get("/api/3/action/status_show", headers=ORIGIN)
        assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
        assert "Origin" in answer.headers["Vary"].split(", ")  # CKAN adds Cookie to it
        other = app.get("/api/3/action/status_show", headers={"Origin": "https://evil.example"})
        assert _cors(other) == {}

    @pytest.mark.ckan_config("ckanext.vierstaedte.cors.origins", "")
    def test_empty_switches_cors_off(self, app):
        assert _cors(app.get("/api/3/action/status_show", headers=ORIGIN)) == {}
