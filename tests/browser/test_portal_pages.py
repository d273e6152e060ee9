"""The portal in a real browser: the pages people open, and the city comparison with its chart."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


def chart_series(page) -> list[str]:
    """The series Chart.js actually draws on the comparison canvas."""
    return page.evaluate(
        "() => Chart.getChart('vierstaedte-compare-canvas').data.datasets.map(d => d.label)"
    )


def chart_points(page) -> dict:
    """The x axis' type and the Mainz and Trier points (year, value) Chart.js draws."""
    return page.evaluate("""() => {
        const chart = Chart.getChart('vierstaedte-compare-canvas');
        const points = {x: chart.options.scales.x.type};
        chart.data.datasets.filter(d => ['Mainz', 'Trier'].includes(d.label))\
.forEach(d => { points[d.label] = d.data.map(p => [p.x, p.y]); });
        return points;
    }""")


def table_rows(page) -> list[list[str]]:
    return page.locator("table.vierstaedte-compare-table tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )


@pytest.mark.usefixtures("with_plugins")
class TestInTheBrowser:
    def test_home_city_and_dataset_pages(self, page, platform, harvested, screenshots):
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(platform["url"] + "/")
        expect(page.locator("h1.page-heading")).to_be_visible()
        expect(page.get_by_role("link", name="Städte vergleichen")).to_be_visible()
        page.screenshot(path=screenshots / "home.png", full_page=True)

        page.goto(platform["url"] + "/organization/mainz")
        expect(page).to_have_title(re.compile("Mainz"))
        dataset = page.get_by_role("link", name="Einwohner nach Ortsbezirken").first
        dataset.click()
        expect(page.locator("h1")).to_contain_text("Einwohner nach Ortsbezirken")
        # the harvested table's data dictionary and validation status on the dataset page itself
        status = page.locator(".vierstaedte-validation-status")
        expect(status).to_contain_text("Prüfstatus")
        expect(status.locator(".badge")).to_have_text("gültig")
        dictionary = page.locator("section.vierstaedte-data-dictionary")
        expect(dictionary.get_by_role("heading", name="Datenfelder")).to_be_visible()
        value_row = dictionary.locator(
            "tbody tr", has=page.locator("th", has_text=re.compile("^value$"))
        )
        expect(value_row.locator("td")).to_have_text(
            ["Wert", "Zahl", "Personen", re.compile("^Wert; leer")]
        )
        expect(dictionary.locator(".vierstaedte-data-dictionary-indicators li")).to_have_text(
            ["Einwohner insgesamt (population_total): Personen"]
        )
        dictionary.screenshot(path=screenshots / "dataset-datenfelder.png")
        page.screenshot(path=screenshots / "dataset.png", full_page=True)

        page.goto(page.url.replace(platform["url"], platform["url"] + "/en"))
        expect(page.locator(".vierstaedte-validation-status .badge")).to_have_text("valid")
        expect(page.locator("section.vierstaedte-data-dictionary h2")).to_have_text("Data fields")
        assert errors == []

    def test_comparison_chart_and_table_follow_the_indicator(
        self, page, platform, harvested, screenshots
    ):
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(platform["url"] + "/")
        page.get_by_role("link", name="Städte vergleichen").click()
        page.wait_for_url("**/vergleich")
        expect(page.get_by_label("Indikator")).to_have_value("population_total")
        canvas = page.locator("canvas#vierstaedte-compare-canvas")
        expect(canvas).to_be_visible()
        assert chart_series(page) == ["Mainz", "Trier", "Koblenz"]
        rows = table_rows(page)
        assert [r[:5] for r in rows if r[0] in ("Mainz", "Trier")] == [
            ["Mainz", "Mainz", "2021", "2021", "220.000"],
            ["Mainz", "Mainz", "2022", "2022", "221.000"],
            ["Mainz", "Mainz", "2023", "2023", "222.000"],
            ["Trier", "Trier", "2023", "2023-12-31", "111.316"],
        ]
        # one numeric axis of years: Mainz's year header and Trier's reference date meet at 2023
        assert chart_points(page) == {
            "x": "linear",
            "Mainz": [[2021, 220000], [2022, 221000], [2023, 222000]],
            "Trier": [[2023, 111316]],
        }
        assert canvas.bounding_box()["height"] > 200
        page.screenshot(path=screenshots / "vergleich-einwohner.png", full_page=True)

        with page.expect_navigation():
            page.get_by_label("Indikator").select_option(
                "households"
            )  # compare.js submits the form
        assert "indicator=households" in page.url
        expect(page.get_by_label("Gebietsebene")).to_have_value("stadtteil")
        expect(page.locator("table.vierstaedte-compare-table caption")).to_contain_text(
            "Privathaushalte"
        )
        assert {r[0] for r in table_rows(page)} == {"Ludwigshafen am Rhein"}
        assert "Ludwigshafen am Rhein – Friesenheim" in chart_series(page)
        page.screenshot(path=screenshots / "vergleich-haushalte.png", full_page=True)

        page.get_by_label("Indikator").select_option("population_total")
        page.wait_for_url("**indicator=population_total**")
        with page.expect_navigation():
            page.get_by_label("Trier").uncheck()
        assert {r[0] for r in table_rows(page)} == {"Koblenz"}  # Stadtteil level, without Trier
        assert errors == []
        print(f"screenshots in {screenshots}")
