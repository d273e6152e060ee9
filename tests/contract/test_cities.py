"""The member cities, one list in ``cities.json`` (``vierstaedte_contract.cities``)."""

from __future__ import annotations

import dataclasses

import pytest

from vierstaedte_contract import cities
from vierstaedte_contract.cities import City

MAINZ = cities.get("mainz")


def test_the_four_cities_coordinator_first():
    assert cities.names() == ["mainz", "trier", "koblenz", "ludwigshafen"]
    assert [c.name for c in cities.members() if c.coordinator] == ["mainz"]
    assert {c.ags for c in cities.members()} == {"07315000", "07211000", "07111000", "07314000"}


def test_get_names_the_known_cities_and_find_answers_none():
    assert (MAINZ.title, MAINZ.ags, MAINZ.regional_key) == (
        "Landeshauptstadt Mainz",
        "07315000",
        "073150000000",
    )
    with pytest.raises(
        KeyError, match="unknown city 'berlin'; one of mainz, trier, koblenz, ludwigshafen"
    ):
        cities.get("berlin")
    assert cities.find("berlin") is None and cities.as_dict("berlin") is None
    assert cities.find("trier") is cities.get("trier")


def test_geocoding_uris_from_the_regional_key():
    assert (
        MAINZ.geocoding_uri == "http://dcat-ap.de/def/politicalGeocoding/regionalKey/073150000000"
    )
    shown = cities.as_dict("mainz")
    assert shown["political_geocoding_uri"] == MAINZ.geocoding_uri
    assert (
        shown["political_geocoding_level_uri"]
        == "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
    )
    assert [c["name"] for c in cities.as_dicts()] == cities.names()


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param(
            {"ags": "0731500"}, "mainz: ags '0731500' must have 8 digits", id="ags-too-short"
        ),
        pytest.param({"ags": "0731500X"}, "ags '0731500X' must have 8 digits", id="ags-not-digits"),
        pytest.param(
            {"regional_key": "07315000000"},
            "mainz: regional_key must have 12 digits",
            id="ars-short",
        ),
        pytest.param(
            {"regional_key": "072110000000"},
            "regional_key and ags disagree",
            id="ars-of-another-city",
        ),
        pytest.param(
            {"name": "Mainz"}, "city name 'Mainz' must be lower-case", id="name-upper-case"
        ),
        pytest.param(
            {"name": "mainz am rhein"}, "city name 'mainz am rhein' must be", id="name-with-blank"
        ),
    ],
)
def test_a_bad_entry_is_refused_naming_what_is_wrong(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(MAINZ, **change)


def test_a_fifth_city_is_an_entry_of_data():
    kaiserslautern = City(
        name="kaiserslautern",
        title="Stadt Kaiserslautern",
        short_title="Kaiserslautern",
        ags="07312000",
        regional_key="073120000000",
    )
    assert kaiserslautern.geocoding_uri.endswith("/regionalKey/073120000000")
    assert not kaiserslautern.coordinator
