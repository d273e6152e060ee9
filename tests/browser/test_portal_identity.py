"""The portal's own face in Chromium at 1366 and 390 px: our header, navigation and footer, the
demo-data banner, no CKAN branding, German only, nothing scrolling sideways, on a phone the
main content first, axe-core without serious or critical findings.

Every page is photographed into the shared screenshots folder (tests/browser/screens.py) as
``identity-<page>-<width>.png``. The demo is harvested once for the module.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.screens import shoot
from tests.browser.test_accessibility import (  # noqa: F401
    BLOCKING,
    axe_source,
    axe_violations,
    no_horizontal_overflow,
)
from tests.live import harvest_demo

WIDTHS = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 1,
        "is_mobile": True,
        "has_touch": True,
    },
}
# English that CKAN leaves on German pages, in text and in screen-reader names
ENGLISH = re.compile(
    r"\b(Show more|Show less|Explore|Navigate to|Current resource|Resource URL|"
    r"list of downloadable|Groups|Followers?|Members|Powered by|Search datasets|Submit|"
    r"Toggle navigation|City|Skip to)\b"
)
BRANDING = re.compile(r"CKAN Association|Powered by|ckan\.org")


@pytest.fixture(scope="module")
def portal(ckan_server, reset_db, reset_index, migrate_db_for, tmp_path_factory):
    """The demo harvested into the live test CKAN (ckanext.vierstaedte.demo is true there)."""
    import ckan.plugins

    harvest_demo(
        ckan_server, reset_db, reset_index, migrate_db_for, tmp_path_factory.mktemp("identity")
    )
    yield ckan_server
    ckan.plugins.unload_all()


@pytest.fixture(scope="module")
def pages(portal) -> dict[str, str]:
    found = requests.get(
        portal + "/api/3/action/package_search",
        params={"fq": "organization:mainz", "q": "title:Einwohner"},
        timeout=30,
    ).json()["result"]["results"]
    dataset = next(d for d in found if any(r.get("role") == "normalised" for r in d["resources"]))
    normalised = next(r for r in dataset["resources"] if r.get("role") == "normalised")
    return {
        "home": "/",
        "search": "/dataset/?q=Einwohner",
        "dataset": f"/dataset/{dataset['name']}",
        "resource": f"/dataset/{dataset['name']}/resource/{normalised['id']}",
        "staedte": "/staedte",
        "vergleich": "/vergleich",
        "ueber": "/about",
        "api": "/entwickler",
        "impressum": "/impressum",
        "datenschutz": "/datenschutz",
        "barrierefreiheit": "/barrierefreiheit",
        "kontakt": "/kontakt",
    }


def _texts(page) -> str:
    """The page's visible text and every name a screen reader announces."""
    return page.evaluate("""() => {
        const parts = [document.body.innerText];
        for (const el of document.querySelectorAll('[aria-label],[title],[alt],[placeholder]')) {
            for (const a of ['aria-label', 'title', 'alt', 'placeholder']) {
                if (el.hasAttribute(a)) parts.push(el.getAttribute(a));
            }
        }
        return parts.join('\\n');
    }""")


def _top(page, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["y"]


def _nav_expected(portal: str) -> list[str]:
    council = requests.get(portal + "/rat", timeout=30, allow_redirects=False)
    return ["Daten", "Städte", "Vergleich", "API"] + (["Rat"] if council.status_code != 404 else [])


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_is_ours_german_and_fits(browser, portal, pages, axe_source, width):  # noqa: F811
    context = browser.new_context(locale="de-DE", **WIDTHS[width])
    page = context.new_page()
    page.set_default_timeout(15000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    problems: dict[str, list] = {}
    try:
        for name, path in pages.items():
            response = page.goto(portal + path)
            page.wait_for_load_state("networkidle")
            found = []
            if response.status != 200:
                found.append(f"HTTP {response.status}")
            shoot(page, f"identity-{name}-{WIDTHS[width]['viewport']['width']}")
            banner = page.locator(".vierstaedte-demo-banner")
            if not banner.is_visible() or "Demodaten" not in banner.inner_text():
                found.append("no demo banner")
            if page.locator("img[src*='ckan-logo'], .ckan-footer-logo").count():
                found.append("CKAN logo")
            text = _texts(page)
            if BRANDING.search(text) or (name != "api" and "CKAN" in page.inner_text("body")):
                found.append(
                    "CKAN branding: " + ", ".join(set(re.findall(r".{0,30}CKAN.{0,30}", text)))
                )
            english = sorted(set(ENGLISH.findall(text)))
            if english:
                found.append(f"English: {english}")
            overflow = no_horizontal_overflow(page)
            if overflow:
                found.append(f"scrolls sideways: {overflow}")
            blocking = [v for v in axe_violations(page, axe_source) if v["impact"] in BLOCKING]
            if blocking:
                found.append(blocking)
            if width == "phone":
                # the page's title is on the first screen
                if _top(page, "h1") > WIDTHS[width]["viewport"]["height"]:
                    found.append("h1 below the fold")
            if found:
                problems[name] = found
        assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)
        assert errors == []
    finally:
        context.close()


def test_header_footer_and_phone_order(browser, portal, pages):
    context = browser.new_context(locale="de-DE", **WIDTHS["desktop"])
    page = context.new_page()
    try:
        page.goto(portal + "/")
        nav = page.locator("#main-navigation-toggle .navbar-nav .nav-link")
        expect(nav).to_have_text(_nav_expected(portal))
        page.goto(portal + pages["dataset"])
        expect(page.locator("#main-navigation-toggle .nav-link.active")).to_have_text("Daten")
        expect(page.locator("footer .vierstaedte-footer-links a")).to_have_text(
            [
                "Über das Portal",
                "Impressum",
                "Datenschutz",
                "Erklärung zur Barrierefreiheit",
                "Kontakt",
            ]
        )
        page.get_by_role("link", name="Impressum").click()
        expect(page.locator("h1")).to_have_text("Impressum")
        expect(page.locator(".vierstaedte-placeholder")).to_contain_text("Platzhalter")
        page.goto(portal + "/about")
        expect(page.locator("h1")).to_have_text("Über Vier Städte Open Data")
    finally:
        context.close()

    phone = browser.new_context(locale="de-DE", **WIDTHS["phone"])
    page = phone.new_page()
    fold = WIDTHS["phone"]["viewport"]["height"]
    try:
        # dataset: title, description and field table before the sidebar; no cut-off column
        page.goto(portal + pages["dataset"])
        assert _top(page, "h1") < fold
        dictionary = page.locator("section.vierstaedte-data-dictionary")
        assert _top(page, "section.vierstaedte-data-dictionary") < _top(page, "aside.secondary")
        for cell in dictionary.locator("tbody tr").first.locator("th, td").all():
            box = cell.bounding_box()
            if box and box["width"]:
                assert box["x"] >= 0 and box["x"] + box["width"] <= 391, cell.inner_text()
        # resource: title and the download button on the first screen
        page.goto(portal + pages["resource"])
        assert _top(page, "h1") < fold
        download = page.get_by_role("link", name="Herunterladen").first
        assert download.bounding_box()["y"] < fold
        # /staedte: the keys table fits (cards or its own scroll box), the page does not scroll
        page.goto(portal + "/staedte")
        assert no_horizontal_overflow(page) is None
    finally:
        phone.close()


def test_groups_and_followers_are_not_public(portal, pages):
    dataset = pages["dataset"]
    name = dataset.rsplit("/", 1)[1]
    for path, lands_on in (
        ("/group/", "/dataset/"),
        ("/group/irgendeine", "/dataset/"),
        (f"/dataset/groups/{name}", dataset),
        (f"/dataset/followers/{name}", dataset),
        ("/organization/followers/mainz", "/staedte/mainz"),
        ("/organization/members/mainz", "/staedte/mainz"),
        ("/organization/about/mainz", "/staedte/mainz"),
    ):
        response = requests.get(portal + path, timeout=30, allow_redirects=False)
        assert response.status_code in (301, 302), (path, response.status_code)
        assert response.headers["Location"].endswith(lands_on), (path, response.headers)
    html = requests.get(portal + dataset, timeout=30).text
    assert "/group" not in html and "Follower" not in html and "Gruppen" not in html
    org = requests.get(portal + "/organization/mainz", timeout=30).text
    assert "Follower" not in org and "Mitglieder" not in org
