"""A real headless Chromium (Debian's, never a downloaded one) driven by Playwright, against the
live test CKAN.

The live CKAN, the cities and the harvest come from `tests/live.py`.

Screenshots: every browser test writes its pictures to ONE folder, `.stack/screenshots/`
(`tests/browser/screens.py`: `SCREENSHOTS_DIR`, `shoot(page, name)`; fixture `screenshots`),
emptied when a session starts and printed at its end, so a reviewer finds all pages in one place.
Name files `<part>-<page>-<width>.png` (e.g. `identity-home-390.png`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser.screens import SCREENSHOTS_DIR
from tests.harvesting import DEMO_CITIES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One Chromium for the session; a missing Chromium fails the tests, it never skips them."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's packages chromium and chromium-driver "
            "(scripts/test does so through scripts/lib.sh install_system_packages)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab in German with a phone-ish width."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1000, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The shared screenshots folder (tests/browser/screens.py), emptied once per session."""
    if SCREENSHOTS_DIR.exists():
        shutil.rmtree(SCREENSHOTS_DIR)
    SCREENSHOTS_DIR.mkdir(parents=True)
    return SCREENSHOTS_DIR


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS_DIR.exists() and any(SCREENSHOTS_DIR.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS_DIR}")


@pytest.fixture
def harvested(harvest):
    """The demo's cities harvested from the replay server, as after `scripts/stack up`."""
    for city in DEMO_CITIES:
        done = harvest(city)
        assert done.returncode == 0, done.stdout + done.stderr
    return harvest
