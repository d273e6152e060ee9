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
