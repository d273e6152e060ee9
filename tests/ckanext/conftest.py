"""Fixtures of the extension's tests: Mainz's Gonsenheim tables, for the exports and the tools."""

from __future__ import annotations

import pytest

from tests.factories import HarvestedDataset, Observation

GONSENHEIM = {"area_level": "ortsbezirk", "area_code": "06", "area_name": "Gonsenheim"}


@pytest.fixture
def gonsenheim() -> list[dict]:
    """A Mainz table: Gonsenheim's population 2022–2023 and households, the city's total."""
    return [
        Observation(**GONSENHEIM, period="2022", value=25012),
        Observation(**GONSENHEIM, period="2023", value=25301),
        Observation(**GONSENHEIM, period="2023", value=12001, indicator="households"),
        Observation(period="2023", value=221000),
    ]


@pytest.fixture
def published(clean_datastore, cities, gonsenheim) -> dict:
    """A public Mainz table with Gonsenheim's rows, and a private one that must never show."""
    public = HarvestedDataset(records=gonsenheim, temporal_start=None, temporal_end=None)
    private = HarvestedDataset(
        records=[Observation(**GONSENHEIM, value=1)],
        name="mainz-geheim",
        title="Geheime Zahlen",
        private=True,
    )
    return {"public": public, "private": private}
