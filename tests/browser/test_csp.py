"""The portal works in a real browser under its Content-Security-Policy, and nothing violates it.

Chromium reports every blocked script, style, frame or eval as a ``securitypolicyviolation`` event
and on the console; both are collected from every frame (the DataTables view is an iframe). The
pages must also still do their work: the view shows the table's rows, the chart draws, the
resource form's buttons (wired by our files, not CKAN's onclick attributes) switch file and link.
"""

from __future__ import annotations

import pytest
import requests
from ckan.tests import factories
from playwright.sync_api import expect

LISTEN = """document.addEventListener('securitypolicyviolation', e => {
    window.__violations = window.__violations || [];
    window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});"""


@pytest.fixture
def watched(page):
    """The page, and the CSP violations it and its frames report (events and console messages)."""
    found = []
    page.context.add_init_script(LISTEN)
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: found.append(str(error)))

    def violations() -> list[str]:
        events = [
            v for frame in page.frames for v in frame.evaluate("() => window.__violations || []")
        ]
        return found + events

    page.violations = violations
    return page


def normalised_dataset(platform) -> tuple[str, str]:
    """A harvested table's dataset and resource, with the DataTables view a city would add."""
    url = platform["url"]
    found = requests.get(
        url + "/api/3/action/package_search", params={"q": "title:Einwohner"}, timeout=30
    ).json()["result"]["results"]
    dataset = next(d for d in found if any(r.get("role") == "normalised" for r in d["resources"]))
    resource = next(r for r in dataset["resources"] if r.get("role") == "normalised")
    requests.post(
        url + "/api/3/action/resource_view_create",
        timeout=30,
        headers={"Authorization": platform["admin_token"]},
        json={"resource_id": resource["id"], "view_type": "datatables_view", "title": "Tabelle"},
    ).raise_for_status()
    return dataset["name"], resource["id"]


@pytest.mark.usefixtures("with_plugins")
def test_main_pages_run_without_csp_violations(watched, platform, harvested):
    url = platform["url"]
    dataset, resource = normalised_dataset(platform)
    for path in (
        "/",
        "/dataset/",
        "/organization/mainz",
        "/staedte",
        "/staedte/mainz/harvest",
        "/user/login",
        "/en/",
        "/vergleich",
    ):
        watched.goto(url + path)
        watched.wait_for_load_state("load")
        assert watched.violations() == [], path
    expect(watched.locator("canvas#vierstaedte-compare-canvas")).to_be_visible()  # the chart drew
    watched.goto(url + f"/dataset/{dataset}")
    watched.wait_for_load_state("load")
    assert watched.violations() == [], "dataset"
    watched.goto(url + f"/dataset/{dataset}/resource/{resource}")  # the DataTables view's iframe
    view = watched.frame_locator("iframe").first
    expect(view.locator("#dtprv tbody tr").first).to_be_visible()  # DataTables ran
    view.locator("#refit-button").click()
    assert watched.violations() == [], "resource"


@pytest.mark.usefixtures("with_plugins")
def test_resource_form_buttons_work_under_the_policy(watched, platform, harvested):
    url = platform["url"]
    user = factories.Sysadmin()
    dataset, _ = normalised_dataset(platform)
    # signed in by API token, which CKAN accepts on its pages too
    token = factories.APIToken(user=user["name"])["token"]
    watched.context.set_extra_http_headers({"Authorization": token})
    watched.goto(url + f"/dataset/{dataset}/resource/new")
    expect(watched.locator("#resource-link-button")).to_be_visible()
    watched.locator("#resource-link-button").click()
    expect(watched.locator("#resource-url-link")).to_be_checked()
    expect(watched.locator("#field-resource-url")).to_be_focused()
    watched.fill("#field-resource-url", "https://example.org/daten.csv")
    watched.locator("[data-vierstaedte-remove=url]").click()
    expect(watched.locator("#resource-url-none")).to_be_checked()
    expect(watched.locator("#field-resource-url")).to_have_value("")
    assert watched.violations() == []


@pytest.mark.usefixtures("with_plugins")
def test_injected_inline_script_is_blocked_and_reported(watched, platform):
    """The policy is in force, and the watch above sees what it blocks: a script an attacker got
    into a page (here added by hand) does not run."""
    watched.goto(platform["url"] + "/")
    ran = watched.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.__ran = true';
        document.body.append(script);
        return window.__ran === true;
    }""")
    assert not ran
    assert any("script-src" in v for v in watched.violations()), watched.violations()
