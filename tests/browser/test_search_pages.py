"""The search pages in a real browser: hits with their city, corrections, no hits at all.

The pages German search adds to (search/query.py, templates/package/): each must pass axe's
WCAG 2.1 AA check without serious or critical findings and run without a CSP violation (the
city badge's colour is a style attribute, which the policy allows; no script is inline).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import BLOCKING, axe_source, axe_violations  # noqa: F401
from tests.browser.test_csp import watched  # noqa: F401

PAGES = {
    "hits with their cities": ("/dataset/?q=Einwohner", ".vierstaedte-city-badge"),
    "a corrected typo": ("/dataset/?q=Bev%C3%B6lkrung", ".vierstaedte-search-searched"),
    "a suggestion": (
        "/dataset/?q=Stadtratswahl+Ergebnisse+Gonsenhiem",
        ".vierstaedte-search-suggestion",
    ),
    "some of the words": (
        "/dataset/?q=Stadtratswahl+Altersgruppen",
        ".vierstaedte-search-searched",
    ),
    "no hits": ("/dataset/?q=Xylophonbau", ".vierstaedte-search-empty"),
}


@pytest.mark.usefixtures("with_plugins", "harvested")
def test_search_pages_are_accessible_and_keep_the_csp(watched, platform, axe_source):  # noqa: F811
    blocking = {}
    for name, (path, shown) in PAGES.items():
        watched.goto(platform["url"] + path)
        watched.wait_for_load_state("load")
        expect(watched.locator(shown).first).to_be_visible()
        assert watched.violations() == [], name
        found = [v for v in axe_violations(watched, axe_source) if v["impact"] in BLOCKING]
        if found:
            blocking[name] = found
    assert blocking == {}, json.dumps(blocking, indent=1, ensure_ascii=False)
