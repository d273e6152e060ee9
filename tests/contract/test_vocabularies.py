"""Indicators, units, DCAT-AP.de lists, licences (``vierstaedte_contract.vocabularies``)."""

from __future__ import annotations

import pytest

from vierstaedte_contract import vocabularies
from vierstaedte_contract.vocabularies import DEFAULT_LICENSE, canonical_dcatde_uri


def test_every_indicator_has_a_known_unit_and_both_labels():
    units = vocabularies.units()
    for indicator, row in vocabularies.indicators().items():
        assert row["unit"] in units, indicator
        assert row["label_de"] and row["label_en"], indicator
    assert tuple(next(iter(vocabularies.indicators().values()))) == vocabularies.INDICATOR_COLUMNS


def test_a_citys_own_indicators_are_added_and_an_unknown_unit_refused(tmp_path):
    header = ",".join(vocabularies.INDICATOR_COLUMNS)
    extra = tmp_path / "indicators.csv"
    extra.write_text(
        f"{header}\nbridges,Brücken,Bridges,count,Zahl der Brücken,Number of bridges\n",
        encoding="utf-8",
    )
    found = vocabularies.indicators(extra)
    assert found["bridges"]["unit"] == "count" and "population_total" in found
    assert "bridges" not in vocabularies.indicators()  # the shared list stays as it is
    extra.write_text(f"{header}\nbridges,Brücken,Bridges,spans,Zahl,Number\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match="indicator 'bridges' has unknown unit 'spans'; known units: persons"
    ):
        vocabularies.indicators(extra)


def test_indicator_and_unit_info_in_both_languages():
    info = vocabularies.indicator_info("population_total", "en")
    assert (info["label"], info["label_de"], info["unit"]) == (
        "Population total",
        "Einwohner insgesamt",
        "persons",
    )
    assert vocabularies.indicator_info("population_total")["label"] == "Einwohner insgesamt"
    assert vocabularies.unit_info("persons")["label"] == "Personen"
    assert vocabularies.unit_info("persons", "en")["label"] == "persons"
    assert vocabularies.unit_info("votes") == {
        "id": "votes",
        "label": "votes",
        "label_de": "votes",
        "label_en": "votes",
    }


@pytest.mark.parametrize(
    "uri, canonical",
    [
        pytest.param(
            "https://www.dcat-ap.de/def/licenses/dl-by-de/2_0",
            "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
            id="https-www-and-2_0",
        ),
        pytest.param(
            "https://dcat-ap.de/def/licenses/cc-by/4.0",
            "http://dcat-ap.de/def/licenses/cc-by/4.0",
            id="https",
        ),
        pytest.param(
            "http://www.dcat-ap.de/def/politicalGeocoding/regionalKey/073150000000",
            "http://dcat-ap.de/def/politicalGeocoding/regionalKey/073150000000",
            id="www",
        ),
        pytest.param(
            "HTTPS://WWW.DCAT-AP.DE/def/licenses/dl-zero-de/2_0",
            "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
            id="upper-case-host",
        ),
        pytest.param(
            " http://dcat-ap.de/def/licenses/dl-by-de/2.0\n", DEFAULT_LICENSE, id="trimmed"
        ),
        pytest.param(
            "http://dcat-ap.de/def/politicalGeocoding/Level/state_district",
            "http://dcat-ap.de/def/politicalGeocoding/Level/state_district",
            id="underscore-kept",
        ),
        pytest.param(
            "https://www.example.org/licenses/dl-by-de/2_0",
            "https://www.example.org/licenses/dl-by-de/2_0",
            id="other-host-untouched",
        ),
    ],
)
def test_canonical_dcatde_uri(uri, canonical):
    assert canonical_dcatde_uri(uri) == canonical
    assert canonical_dcatde_uri(canonical) == canonical


def test_licences_are_the_register_and_the_default_is_in_it():
    ids = [licence["id"] for licence in vocabularies.licences()]
    assert DEFAULT_LICENSE in ids and len(ids) == len(set(ids))
    active = [lic["id"] for lic in vocabularies.licences() if lic["status"] == "active"]
    assert vocabularies.values("licenses") == frozenset(active)
    assert all(canonical_dcatde_uri(i) == i for i in active)


@pytest.mark.parametrize(
    "name",
    [
        "themes",
        "frequencies",
        "geocoding_levels",
        "spatial_granularities",
        "validation_statuses",
        "licenses",
    ],
)
def test_every_vocabulary_entry_has_a_value_and_a_german_label(name):
    entries = vocabularies.vocabulary(name)
    assert entries and all(e["value"] and e["label"]["de"] for e in entries)


def test_labels_by_language_and_unknown_values_as_they_are():
    assert (
        vocabularies.label("validation_statuses", "valid_with_warnings") == "gültig mit Hinweisen"
    )
    assert (
        vocabularies.label("validation_statuses", "valid_with_warnings", "en")
        == "valid with warnings"
    )
    assert vocabularies.label("themes", "NOPE") == "NOPE"


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("MONTHLY", "MONTHLY"),
        ("https://publications.europa.eu/resource/authority/frequency/irreg/", "IRREG"),
        ("http://publications.europa.eu/resource/authority/frequency/IRREGULAR", "IRREG"),
        ("http://purl.org/cld/freq/annual", "ANNUAL"),
        ("annually", "ANNUAL"),  # ISO 19115 (Opendatasoft)
        ("asNeeded", "IRREG"),
        ("Vierteljährlich", "QUARTERLY"),
        ("quartalsweise", "QUARTERLY"),
        ("halbjährlich", "ANNUAL_2"),
        ("alle zwei Jahre", "BIENNIAL"),
        ("nie (abgeschlossen)", "NEVER"),
    ],
)
def test_every_reader_s_frequency_spelling_has_one_rule(given, code):
    assert vocabularies.canonical_frequency(given) == vocabularies.FREQUENCY_BASE + code


@pytest.mark.parametrize("given", ["biannual", "fortnightly", "bei Bedarf", "", None])
def test_a_frequency_whose_meaning_is_not_certain_names_none(given):
    assert vocabularies.canonical_frequency(given) is None
