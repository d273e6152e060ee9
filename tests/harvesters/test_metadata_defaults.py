"""Defaults fill only what the source lacks, and the report names every field they filled.

A catalogue that says MONTHLY must not become the config's ANNUAL; a source's own political
geocoding and publisher URI must reach the portal, not be replaced by the city's.
"""

from __future__ import annotations

from vierstaedte_contract import cities
from vierstaedte_harvest import metadata
from vierstaedte_harvest.sources import SourceDataset

FREQ = "http://publications.europa.eu/resource/authority/frequency/"
GEO = "http://dcat-ap.de/def/politicalGeocoding/"
DEFAULTS = {"frequency": "ANNUAL", "themes": ["SOCI"], "license": "dl-by-de/2.0"}


def _build(source: SourceDataset, defaults: dict | None = None) -> tuple[dict, list, list]:
    problems: list[tuple[str, str]] = []
    defaulted: list[dict] = []
    data = metadata.dataset_dict(
        source, "mainz", DEFAULTS if defaults is None else defaults, "n", None, problems, defaulted
    )
    return data, problems, defaulted


def test_the_source_s_own_fields_win_over_defaults():
    source = SourceDataset(
        guid="dcat:x:1",
        name="a",
        title="A",
        description="Beschreibung",
        themes=["ECON"],
        license="cc-by/4.0",
        frequency="http://publications.europa.eu/resource/authority/frequency/MONTHLY",
        political_geocoding=[GEO + "municipalityKey/07211000"],
        publisher="Stadt Trier",
        publisher_uri="https://www.trier.de/",
    )
    data, problems, defaulted = _build(source)
    assert data["frequency"] == FREQ + "MONTHLY"
    assert data["political_geocoding_uri"] == GEO + "municipalityKey/07211000"
    assert data["political_geocoding_level_uri"] == GEO + "Level/municipality"
    assert data["publisher"] == [{"name": "Stadt Trier", "uri": "https://www.trier.de/"}]
    assert data["theme"] == ["http://publications.europa.eu/resource/authority/data-theme/ECON"]
    assert data["license_id"] == "http://dcat-ap.de/def/licenses/cc-by/4.0"
    assert [d["field"] for d in defaulted] == ["spatial_granularity"]
    assert problems == []


def test_every_defaulted_field_is_named_with_its_value_and_origin():
    data, problems, defaulted = _build(SourceDataset(guid="ckan:x:1", name="a", title="A"))
    by_field = {d["field"]: d for d in defaulted}
    mainz = cities.get("mainz")
    assert by_field["frequency"] == {"field": "frequency", "value": FREQ + "ANNUAL", "by": "config"}
    assert by_field["license_id"]["by"] == "config"
    assert by_field["theme"]["by"] == "config"
    assert by_field["notes"] == {"field": "notes", "value": "A", "by": "title"}
    assert by_field["political_geocoding_uri"] == {
        "field": "political_geocoding_uri",
        "value": mainz.geocoding_uri,
        "by": "portal",
    }
    assert by_field["political_geocoding_level_uri"]["by"] == "portal"
    # the portal fills the geocoding itself: the harvester does not send it
    assert "political_geocoding_uri" not in data
    assert data["frequency"] == FREQ + "ANNUAL"
    assert problems == []


def test_without_a_configured_default_nothing_is_filled_or_reported():
    _, _, defaulted = _build(SourceDataset(guid="ckan:x:1", name="a", title="A"), defaults={})
    assert {d["field"] for d in defaulted} == {
        "notes",
        "spatial_granularity",
        "political_geocoding_uri",
        "political_geocoding_level_uri",
    }


def test_unusable_source_values_are_left_out_reported_and_then_defaulted():
    source = SourceDataset(
        guid="dcat:x:1",
        name="a",
        title="A",
        frequency="alle paar Jahre",
        political_geocoding=["http://example.org/mainz", GEO + "stateKey/07"],
        political_geocoding_level="http://example.org/level",
    )
    data, problems, defaulted = _build(source)
    assert data["frequency"] == FREQ + "ANNUAL"
    assert data["political_geocoding_uri"] == GEO + "stateKey/07"
    assert data["political_geocoding_level_uri"] == GEO + "Level/state"
    messages = " | ".join(text for _, text in problems)
    assert "alle paar Jahre" in messages
    assert "example.org/mainz" in messages and "example.org/level" in messages
    assert {d["field"] for d in defaulted} >= {"frequency"}


def test_of_several_geocodings_the_city_s_own_is_kept_and_the_rest_reported():
    mainz = cities.get("mainz")
    source = SourceDataset(
        guid="dcat:x:1",
        name="a",
        title="A",
        political_geocoding=[GEO + "stateKey/07", mainz.geocoding_uri.replace("http:", "https:")],
    )
    data, problems, _ = _build(source)
    assert data["political_geocoding_uri"] == mainz.geocoding_uri
    assert problems == [
        ("field-left-out", f"political geocoding: the portal keeps one, left out: {GEO}stateKey/07")
    ]


def test_frequency_codes_and_uri_spellings_are_read():
    for given in (
        "MONTHLY",
        "monthly",
        "https://publications.europa.eu/resource/authority/frequency/MONTHLY/",
    ):
        data, _, _ = _build(SourceDataset(guid="x:y:1", name="a", title="A", frequency=given))
        assert data["frequency"] == FREQ + "MONTHLY", given


def test_a_theme_that_is_no_eu_data_theme_is_left_out_and_named():
    source = SourceDataset(
        guid="ckan:x:1", name="a", title="A", themes=["SOCI", "Verwaltung", "https://x.org/t/ECON"]
    )
    data, problems, defaulted = _build(source)
    assert data["theme"] == [
        "http://publications.europa.eu/resource/authority/data-theme/SOCI",
        "http://publications.europa.eu/resource/authority/data-theme/ECON",
    ]
    assert problems == [("field-left-out", "theme: no EU data theme, left out: 'Verwaltung'")]
    assert "theme" not in {d["field"] for d in defaulted}
