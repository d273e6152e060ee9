"""A harvested table is shown as a table on its resource page, in Chromium at 1366 and 390 px.

After a real harvest of Mainz (the harvester's own ``datastore_create`` adds the view, no one
else): the resource page frames the view, DataTables fills it with German column labels and
German controls, a column filter narrows the rows, a click on a header sorts them; the view
passes axe-core without serious or critical findings, loads no missing file, says that the
figures are demo data and does not scroll sideways on a phone.
Screenshots ``table-preview-<page>-<width>.png`` go to the shared folder (screens.py).
"""

from __future__ import annotations

import json

import requests
from playwright.sync_api import expect

from tests.browser.screens import shoot
from tests.browser.test_accessibility import (  # noqa: F401
    BLOCKING,
    axe_source,
    axe_violations,
    no_horizontal_overflow,
)
from vierstaedte_contract.dataset import NORMALISED, resource_with_role

WIDTHS = {
    1366: {"viewport": {"width": 1366, "height": 900}},
    390: {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


def _table(platform) -> tuple[str, str, str]:
    """Resource page and view page of Mainz's population table, and the view's id."""
    found = requests.get(
        platform["url"] + "/api/3/action/package_search",
        params={"fq": "organization:mainz", "q": "title:Einwohner"},
        timeout=30,
    ).json()["result"]["results"]
    dataset = next(d for d in found if resource_with_role(d, NORMALISED))
    resource = resource_with_role(dataset, NORMALISED)
    views = requests.get(
        platform["url"] + "/api/3/action/resource_view_list",
        params={"id": resource["id"]},
        timeout=30,
    ).json()["result"]
    assert [v["view_type"] for v in views] == ["datatables_view"]  # the harvest made it
    base = f"/dataset/{dataset['name']}/resource/{resource['id']}"
    return base, f"{base}/view/{views[0]['id']}", views[0]["id"]


def test_table_preview_sorts_filters_and_reads_german(browser, platform, harvest, axe_source):  # noqa: F811
    assert harvest("mainz").returncode == 0
    resource_page, view_page, _view = _table(platform)
    problems: dict[str, list] = {}
    for width, options in WIDTHS.items():
        context = browser.new_context(locale="de-DE", **options)
        page = context.new_page()
        page.set_default_timeout(20000)
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.on(  # every file the view loads exists (CKAN's own CSS once pointed at a 404)
            "response",
            lambda r, errors=errors: (
                errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
            ),
        )
        try:
            page.goto(platform["url"] + resource_page)
            frame = page.frame_locator("iframe").first
            expect(frame.locator("#dtprv tbody tr").first).to_be_visible()
            page.wait_for_load_state("networkidle")
            shoot(page, f"table-preview-resource-{width}")

            page.goto(platform["url"] + view_page)
            rows = page.locator("#dtprv tbody tr")
            expect(rows.first).to_be_visible()
            page.wait_for_load_state("networkidle")
            header = page.locator(
                ".dataTables_scrollHead thead tr:first-child th, #dtprv thead tr:first-child th"
            ).all_inner_texts()
            labels = " ".join(header)
            found = []
            if "Stadt" not in labels or "Stadt / City" in labels or "Wert" not in labels:
                found.append(f"column labels: {header}")
            resource_info = page.locator("#dtprv_wrapper .resourceinfo").first.inner_text()
            if "(Demodaten)" not in resource_info:
                found.append(f"the frame does not say demo data: {resource_info!r}")
            info = page.locator(".dataTables_info").first.inner_text()
            if "Einträge" not in info:  # DataTables' German language file
                found.append(f"not German: {info}")
            # a click on a header sorts by it, a second the other way (the first column; on a
            # narrow screen the others fold into each row's details)
            column = page.locator("th.sorting:not(.dtr-hidden)", has_text="Stadt").first
            column.click()
            expect(column).to_have_attribute("aria-sort", "ascending")
            column.click()
            expect(column).to_have_attribute("aria-sort", "descending")
            # a column filter narrows the rows (to none: Mainz's table has no row of Trier)
            city = page.locator("input[aria-label='Filter: Stadt']").first
            city.fill("trier")
            city.press("Enter")
            expect(page.locator(".dataTables_info").first).to_contain_text(
                "Keine Daten vorhanden (gefiltert"
            )
            city.fill("")
            city.press("Enter")
            expect(page.locator(".dataTables_info").first).to_contain_text(info.split("\n")[0])
            shoot(page, f"table-preview-view-{width}")
            overflow = no_horizontal_overflow(page)
            if overflow:
                found.append(f"scrolls sideways: {overflow}")
            blocking = [v for v in axe_violations(page, axe_source) if v["impact"] in BLOCKING]
            if blocking:
                found.append(blocking)
            if errors:
                found.append(errors)
            if found:
                problems[str(width)] = found
        finally:
            context.close()
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)
