"""The council pages in a real Chromium: a desktop and a phone width, axe-core, no sideways scroll.

The corpus (``tests/council_corpus.py``) is stored once for the module through the real actions;
the search, a paper (the longest page: consultations table, file excerpt) and a meeting are
opened at 1366 and 390 px.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import (  # noqa: F401
    BLOCKING,
    axe_source,
    axe_violations,
    no_horizontal_overflow,
)
from tests.council_corpus import council_portal

WIDTHS = {"desktop": 1366, "phone": 390}


@pytest.fixture(scope="module")
def portal(ckan_server, reset_db, reset_index, migrate_db_for):
    import ckan.plugins

    yield council_portal(ckan_server, reset_db, reset_index, migrate_db_for)
    ckan.plugins.unload_all()


def council_pages(portal: dict) -> dict[str, str]:
    keys = portal["corpus"]["mainz"]["keys"]
    return {
        "search": "/rat?q=Bebauungsplan+Zollhafen",
        "search filtered": "/rat?q=Radverkehr&city=trier&sort=date",
        "paper": f"/rat/vorlage/{keys['paper']}",
        "hostile paper": f"/rat/vorlage/{keys['hostile']}",
        "meeting": f"/rat/sitzung/{keys['meeting']}",
        "committee": f"/rat/gremium/{keys['committee']}",
        "english search": "/en/rat?q=Zollhafen",
    }


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_council_pages_fit_and_pass_axe(browser, portal, axe_source, width, screenshots):  # noqa: F811
    context = browser.new_context(locale="de-DE", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    overflow, blocking = {}, {}
    try:
        for name, path in council_pages(portal).items():
            page.goto(portal["url"] + path)
            expect(page.locator("h1").first).to_be_visible()
            page.screenshot(path=screenshots / f"council-{name}-{width}.png", full_page=True)
            overflow[name] = no_horizontal_overflow(page)
            found = [v for v in axe_violations(page, axe_source) if v["impact"] in BLOCKING]
            blocking[name] = found
    finally:
        context.close()
    assert {k: v for k, v in overflow.items() if v} == {}
    found = {k: v for k, v in blocking.items() if v}
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)
    assert errors == []


def test_search_by_keyboard_and_hit_links(browser, portal):
    context = browser.new_context(locale="de-DE", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(portal["url"] + "/rat")
        page.get_by_label("Suchwörter").fill("Zollhafen")
        page.get_by_label("Suchwörter").press("Enter")
        hit = page.locator("li.vierstaedte-council-hit", has_text="Aufstellungsbeschluss")
        expect(hit.locator("mark").first).to_have_text("Zollhafen", ignore_case=True)
        hit.get_by_role(
            "link", name="Bebauungsplan „Am Zollhafen“ (N 84) – Aufstellungsbeschluss"
        ).click()
        expect(page.locator("h1")).to_contain_text("Aufstellungsbeschluss")
        expect(
            page.get_by_role("link", name="Sitzung des Bau- und Sanierungsausschusses")
        ).to_be_visible()
    finally:
        context.close()
