"""The city pages and the comparison in Chromium at 1366 px and on a 390 px phone: nothing scrolls
sideways, the main content is on a phone's first screen, no table cell there is a column's name
without a value, axe finds nothing serious, and the chart draws what the page promises (bars or
a time axis, German numbers, party colours)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import AXE, BLOCKING, axe_violations, no_horizontal_overflow
from vierstaedte_contract import colours

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
PAGES = {
    "stadt-mainz": "/staedte/mainz",
    "staedte": "/staedte",
    "vergleich": "/vergleich",
    "vergleich-wahl": "/vergleich?indicator=vote_share_by_party&area_level=ortsbezirk",
}
# what must be on a phone's first screen, per page
FIRST_SCREEN = {
    "stadt-mainz": ["h1", ".vierstaedte-key-figure"],
    "vergleich": ["h1", "canvas#vierstaedte-compare-canvas", ".vierstaedte-compare-downloads a"],
    "vergleich-wahl": ["h1", "canvas#vierstaedte-compare-canvas"],
}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run the suite with scripts/test")
    return AXE.read_text(encoding="utf-8")


def chart_state(page) -> dict:
    return page.evaluate("""() => {
        const chart = Chart.getChart('vierstaedte-compare-canvas');
        return {
            type: chart.config.type,
            x: chart.options.scales.x.type || 'category',
            xTicks: chart.scales.x.ticks.map(t => t.label).filter(Boolean),
            yTicks: chart.scales.y.ticks.map(t => t.label),
            colours: Object.fromEntries(chart.data.datasets.map(d => [d.label, d.backgroundColor])),
            points: chart.data.datasets.map(d => [d.pointStyle, d.pointRadius]),
        };
    }""")


def out_of_first_screen(page, selectors: list[str]) -> dict[str, float]:
    """Each selector whose first element ends below the first screen, with where it ends."""
    height = page.viewport_size["height"]
    found = {}
    for selector in selectors:
        box = page.locator(selector).first.bounding_box()
        if box is None or box["y"] + min(box["height"], 120) > height:
            found[selector] = box and box["y"] + box["height"]
    return found


def labels_without_value(page) -> list[str]:
    """On a phone each cell is a line "column: value"; the shown cells that have no value."""
    return page.evaluate("""() => [...document.querySelectorAll('td[data-label]')]
        .filter(td => !td.textContent.trim() && td.getClientRects().length)
        .map(td => td.dataset.label)""")


@pytest.mark.usefixtures("with_plugins")
def test_city_and_comparison_pages_at_two_widths(
    browser, platform, harvested, screenshots, axe_source
):
    problems: dict[str, object] = {}
    for width, options in VIEWPORTS.items():
        context = browser.new_context(locale="de-DE", **options)
        page = context.new_page()
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))  # noqa: B023
        try:
            for name, path in PAGES.items():
                page.goto(platform["url"] + path)
                page.wait_for_load_state("load")
                expect(page.locator("h1").first).to_be_visible()
                key = f"{width} {name}"
                overflow = no_horizontal_overflow(page)
                if overflow:
                    problems[f"{key}: scrolls sideways"] = overflow
                if width == "phone" and (empty := labels_without_value(page)):
                    problems[f"{key}: a column's name without a value"] = empty
                if width == "phone" and name in FIRST_SCREEN:
                    below = out_of_first_screen(page, FIRST_SCREEN[name])
                    if below:
                        problems[f"{key}: below the first screen"] = below
                # the first screen and the whole page, named <part>-<page>-<width>.png
                px = options["viewport"]["width"]
                page.screenshot(path=screenshots / f"cities-{name}-{px}-first-screen.png")
                page.screenshot(path=screenshots / f"cities-{name}-{px}.png", full_page=True)
                blocking = [v for v in axe_violations(page, axe_source) if v["impact"] in BLOCKING]
                if blocking:
                    problems[f"{key}: axe"] = blocking
                if name == "vergleich":
                    state = chart_state(page)
                    assert (state["type"], state["x"]) == ("line", "linear")
                    assert "2021" in state["xTicks"] and "2.021" not in state["xTicks"]
                    assert "200.000" in state["yTicks"], state["yTicks"]
                    # equal values of two cities stay two points: own shapes, the earlier larger
                    shapes, radii = zip(*state["points"], strict=True)
                    assert len(set(shapes)) == len(shapes) > 1, state["points"]
                    assert list(radii) == sorted(radii, reverse=True) and radii[0] > radii[-1]
                if name == "vergleich-wahl":
                    state = chart_state(page)
                    assert state["type"] == "bar"
                    assert state["colours"]["CDU"] == colours.party("CDU")
                    assert state["colours"]["SPD"] == colours.party("SPD")
            assert errors == []
        finally:
            context.close()
    print(f"screenshots in {screenshots}")
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)


@pytest.mark.usefixtures("with_plugins")
def test_from_the_city_list_to_the_comparison_of_that_city(page, platform, harvested):
    page.goto(platform["url"] + "/staedte")
    page.get_by_role("link", name="Stadt Koblenz").first.click()
    expect(page.locator("h1")).to_have_text("Stadt Koblenz")
    assert "Koblenz" in page.title()
    page.get_by_role("link", name="Koblenz im Städtevergleich").click()
    expect(page.get_by_label("Koblenz")).to_be_checked()
    expect(page.get_by_label("Mainz")).not_to_be_checked()
    cities_in_table = page.locator("table.vierstaedte-compare-table tbody th").all_text_contents()
    assert cities_in_table and {city.strip() for city in cities_in_table} == {"Koblenz"}
