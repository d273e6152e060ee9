"""Accessibility in a real browser: axe-core on the portal's pages, the comparison form by keyboard,
a phone's width.

axe-core comes from the npm registry, pinned in ``tests/browser/axe/package-lock.json``;
``scripts/test`` installs it into ``.stack/npm`` (``install_test_tools`` in ``scripts/lib.sh``).
It is injected into the page; nothing is loaded from the network at run time.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
AXE = (
    Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack"))
    / "npm"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
# WCAG 2.1 A and AA; the impacts that must not occur at all
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(
            f"axe-core is missing at {AXE}: run the suite with scripts/test "
            "(scripts/lib.sh install_test_tools)"
        )
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def pages(platform, harvested) -> dict[str, str]:
    """The pages people open: home, a city, a dataset with a normalised table, the comparison."""
    found = requests.get(
        platform["url"] + "/api/3/action/package_search",
        timeout=10,
        params={"fq": "organization:mainz", "q": "title:Einwohner"},
    ).json()["result"]["results"]
    dataset = next(
        d["name"] for d in found if any(r.get("role") == "normalised" for r in d["resources"])
    )
    return {
        "home": "/",
        "city": "/organization/mainz",
        "dataset": f"/dataset/{dataset}",
        "comparison": "/vergleich",
        "cities": "/staedte",
        "harvest": "/staedte/mainz/harvest",
        "english home": "/en/",
    }


def axe_violations(page, axe_source: str) -> list[dict]:
    # a script file of the page's own origin, answered by the browser itself: the portal's
    # Content-Security-Policy (rightly) refuses inline script, and the check runs under it
    axe_url = re.match(r"https?://[^/]+", page.url).group(0) + "/__axe-core.js"
    page.route(
        axe_url, lambda route: route.fulfill(body=axe_source, content_type="text/javascript")
    )
    page.add_script_tag(url=axe_url)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def no_horizontal_overflow(page) -> dict | None:
    """None if nothing sticks out to the right of a phone's screen; else the widest element."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= width) return null;
        let widest = null;
        for (const el of document.body.querySelectorAll('*')) {
            const right = el.getBoundingClientRect().right;
            if (right > width + 1 && (!widest || right > widest.right)) {
                widest = {tag: el.tagName, cls: el.className, right};
            }
        }
        return {scrollWidth: document.documentElement.scrollWidth, width, widest};
    }""")


@pytest.mark.usefixtures("with_plugins")
class TestAccessibility:
    def test_no_serious_or_critical_axe_violations(self, page, platform, pages, axe_source):
        checked, blocking, minor = [], {}, {}
        for name, path in pages.items():
            page.goto(platform["url"] + path)
            expect(page.locator("main, [role=main]").first).to_be_visible()
            violations = axe_violations(page, axe_source)
            checked.append(name)
            blocking[name] = [v for v in violations if v["impact"] in BLOCKING]
            minor[name] = [
                f"{v['id']} ({v['impact']})" for v in violations if v["impact"] not in BLOCKING
            ]
        assert checked == list(pages)
        print("moderate/minor axe findings:", minor)
        found = {name: violations for name, violations in blocking.items() if violations}
        assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)

    def test_axe_finds_what_it_should(self, page, platform, axe_source, pages):
        """The check itself works: an image without alt text on a real page is a critical violation."""
        page.goto(platform["url"] + "/")
        page.evaluate(
            "() => { const img = document.createElement('img'); img.src = '/base/images/ckan-logo.png';"
            " document.querySelector('main, [role=main]').append(img); }"
        )
        assert "image-alt" in {
            v["id"] for v in axe_violations(page, axe_source) if v["impact"] == "critical"
        }

    def test_comparison_form_by_keyboard(self, page, platform, pages):
        """Tab reaches every control; choosing by keyboard does not reload the page; the button
        shows the choice."""
        page.goto(platform["url"] + "/vergleich")
        url = page.url
        reached = []
        for _ in range(80):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => document.activeElement.id || document.activeElement.textContent.trim()"
            )
            reached.append(focused)
            if focused == "vergleich-indicator":
                break
        assert reached[-1] == "vergleich-indicator", reached
        # arrow keys walk through the options without a change of context (WCAG 3.2.2)
        for _ in range(20):
            if page.locator("#vergleich-indicator").input_value() == "households":
                break
            page.keyboard.press("ArrowDown")
        expect(page.locator("#vergleich-indicator")).to_have_value("households")
        assert page.url == url
        page.keyboard.press("Tab")
        expect(page.locator("#vergleich-area-level")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_label("Mainz")).to_be_focused()
        page.keyboard.press("Space")
        expect(page.get_by_label("Mainz")).not_to_be_checked()
        assert page.url == url
        # the other three cities, then the group pickers the indicator has (sex, age group …)
        pickers = page.locator(".vierstaedte-compare-form select").count() - 2
        for _ in range(3 + pickers + 1):
            page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Anzeigen")).to_be_focused()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "indicator=households" in page.url and "mainz" not in page.url
        expect(page.locator("table.vierstaedte-compare-table caption")).to_contain_text(
            "Privathaushalte"
        )

    def test_phone_width_has_no_horizontal_overflow(
        self, browser, platform, pages, screenshots, axe_source
    ):
        """At a phone's width nothing scrolls sideways but the tables' own (focusable) scroll boxes;
        axe agrees."""
        context = browser.new_context(
            locale="de-DE",
            viewport={"width": 360, "height": 740},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        phone = context.new_page()
        try:
            overflowing, blocking = {}, {}
            for name, path in pages.items():
                phone.goto(platform["url"] + path)
                phone.wait_for_load_state("load")
                overflow = no_horizontal_overflow(phone)
                if overflow:
                    overflowing[name] = overflow
                phone.screenshot(
                    path=screenshots / f"phone-{name.replace(' ', '-')}.png", full_page=True
                )
                found = [v for v in axe_violations(phone, axe_source) if v["impact"] in BLOCKING]
                if found:
                    blocking[name] = found
            assert overflowing == {}, json.dumps(overflowing, indent=1)
            assert blocking == {}, json.dumps(blocking, indent=1, ensure_ascii=False)
        finally:
            context.close()
