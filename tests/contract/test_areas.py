"""Each city's areas and the one resolver of their names (``vierstaedte_contract.areas``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import vierstaedte_contract
from vierstaedte_contract import areas
from vierstaedte_contract.names import name_key

MAINZ = areas.resolver("mainz")


def _found(area: areas.Area | None) -> tuple[str, str, str] | None:
    return None if area is None else (area.level, area.code, area.name)


@pytest.mark.parametrize(
    "spelling, level, expected",
    [
        pytest.param("Altstadt", "ortsbezirk", ("ortsbezirk", "01", "Altstadt"), id="name"),
        pytest.param("Mainz-Altstadt", "ortsbezirk", ("ortsbezirk", "01", "Altstadt"), id="alias"),
        pytest.param(
            "mainz altstadt", "ortsbezirk", ("ortsbezirk", "01", "Altstadt"), id="alias-any-case"
        ),
        pytest.param("01", "ortsbezirk", ("ortsbezirk", "01", "Altstadt"), id="code"),
        pytest.param("1", "ortsbezirk", ("ortsbezirk", "01", "Altstadt"), id="code-without-zero"),
        pytest.param(
            "01 Altstadt", "ortsbezirk", ("ortsbezirk", "01", "Altstadt"), id="code-and-name"
        ),
        pytest.param("02 Altstadt", "ortsbezirk", None, id="code-and-name-disagree"),
        pytest.param("Atlantis", "ortsbezirk", None, id="unknown-stays-unknown"),
        pytest.param("Altstadt", "stadtteil", None, id="other-level"),
        pytest.param("Mainz", "ortsbezirk", ("stadt", "", "Mainz"), id="city-at-any-level"),
        pytest.param("Insgesamt", "wahlbezirk", ("stadt", "", "Mainz"), id="total-word"),
        pytest.param("Landeshauptstadt Mainz", "stadt", ("stadt", "", "Mainz"), id="city-alias"),
    ],
)
def test_mainz_resolves(spelling, level, expected):
    assert _found(MAINZ.resolve(spelling, level)) == expected


@pytest.mark.parametrize("spelling", ["Güls", "Guels", "GÜLS", "güls "])
def test_umlaut_spellings_are_one_name(spelling):
    assert _found(areas.resolver("koblenz").resolve(spelling, "stadtteil")) == (
        "stadtteil",
        "",
        "Güls",
    )


def test_the_name_key():
    assert name_key("Mainz-Gonsenheim") == name_key("mainz gonsenheim") == "mainz gonsenheim"
    assert name_key("Horchheimer Höhe") == name_key("Horchheimer Hoehe") == "horchheimer hoehe"
    assert name_key("Straße") == "strasse" and name_key("Nord/Süd") == "nord sued"
    assert name_key("Gonsenheim") != name_key("Gonsenhaim")  # no fuzzy matching


def test_find_at_any_level_and_the_city_without_a_name():
    assert [_found(a) for a in MAINZ.find("mainz-altstadt")] == [("ortsbezirk", "01", "Altstadt")]
    assert [_found(a) for a in MAINZ.find(None)] == [("stadt", "", "Mainz")]
    assert MAINZ.find("Atlantis") == []


def test_levels_city_first():
    assert areas.levels("mainz")[0] == areas.CITY_LEVEL
    assert "ortsbezirk" in areas.levels("mainz") and "stadtteil" in areas.levels("koblenz")


def test_an_unknown_city_has_no_resolver():
    with pytest.raises(ValueError, match="unknown city 'berlin'; expected one of mainz, trier"):
        areas.AreaResolver("berlin")


_FIFTH_CITY = """
import json
from vierstaedte_contract import areas
resolver = areas.resolver("kaiserslautern")
print(json.dumps({"areas": [a.as_dict() for a in areas.areas("kaiserslautern")],
                  "levels": areas.levels("kaiserslautern"),
                  "total": resolver.resolve("Stadt Kaiserslautern", "stadtteil").name,
                  "district": resolver.resolve("Innenstadt", "stadtteil"),
                  "official": resolver.resolve("07312000 Kaiserslautern, krfr. Stadt", "stadt").name,
                  "kreis_key": resolver.resolve("07312", "stadt").name,
                  "not_its_kreis": areas.resolver("andernach").resolve("07137", "stadt"),
                  "own_key": areas.resolver("andernach").resolve("07137003", "stadt").name}))
"""


def test_a_city_without_an_areas_file_has_its_total_only(tmp_path):
    """A new city publishes city-wide tables before anyone lists its districts."""
    listed = json.loads(vierstaedte_contract.path("cities.json").read_text(encoding="utf-8"))
    listed["cities"].append(
        {
            "name": "kaiserslautern",
            "title": "Stadt Kaiserslautern",
            "short_title": "Kaiserslautern",
            "ags": "07312000",
            "regional_key": "073120000000",
        }
    )
    listed["cities"].append(  # a town within a Landkreis: 07137 is the Landkreis Mayen-Koblenz
        {
            "name": "andernach",
            "title": "Stadt Andernach",
            "short_title": "Andernach",
            "ags": "07137003",
            "regional_key": "071375005003",
        }
    )
    (tmp_path / "cities.json").write_text(json.dumps(listed), encoding="utf-8")
    env = dict(os.environ, **{vierstaedte_contract.DATA_OVERRIDE: str(tmp_path)})
    done = subprocess.run(
        [sys.executable, "-c", _FIFTH_CITY], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "areas": [
            {
                "level": "stadt",
                "code": "",
                "name": "Kaiserslautern",
                "aliases": "Stadt Kaiserslautern",
            }
        ],
        "levels": ["stadt"],
        "total": "Kaiserslautern",
        "district": None,
        "official": "Kaiserslautern",  # the official spellings follow from cities.json alone
        "kreis_key": "Kaiserslautern",
        "not_its_kreis": None,
        "own_key": "Andernach",
    }


@pytest.mark.parametrize(
    "city, spelling",
    [
        ("mainz", "Mainz, kreisfreie Stadt"),
        ("mainz", "Mainz, Kreisfreie Stadt"),
        ("mainz", "07315000 Mainz, kreisfreie Stadt"),
        ("mainz", "073150000000 Mainz, kreisfreie Stadt"),
        ("mainz", "07315 Mainz, krfr. Stadt"),
        ("mainz", "Mainz, Landeshauptstadt, kreisfreie Stadt"),
        ("mainz", "Stadt Mainz"),
        ("mainz", "Kreisfreie Stadt Mainz"),
        ("mainz", "Mainz, Krfr.St."),
        ("mainz", "07315000"),
        ("trier", "Trier, krfr. Stadt"),
        ("trier", "Kreisfreie Stadt Trier"),
        ("trier", "07211000 Trier, kreisfr. St."),
        ("koblenz", "Koblenz, kreisfreie Stadt"),
        ("koblenz", "071110000000"),
        ("ludwigshafen", "Ludwigshafen am Rhein, kreisfreie Stadt"),
        ("ludwigshafen", "Ludwigshafen a.Rh., Stadt"),
        ("ludwigshafen", "07314000 Ludwigshafen a. Rh., krfr. Stadt"),
        ("ludwigshafen", "SK Ludwigshafen"),
    ],
)
def test_official_spellings_of_a_city_resolve_to_the_city(city, spelling):
    """GENESIS and the statistical offices add the kind of municipality and its key to the name."""
    found = areas.resolver(city).resolve(spelling, "stadt")
    assert found is not None and found.level == "stadt", spelling


@pytest.mark.parametrize(
    "spelling",
    [
        "07111000 Mainz, kreisfreie Stadt",  # Koblenz's key with Mainz's name
        "Mainz-Bingen, Landkreis",
        "Mainz, Landkreis",
        "Mainz-Stadt",
        "Stadt",
        "kreisfreie Stadt",
        "Mainz, kreisfreie Stadt, Altstadt",
        "07315001",
        "Ludwigshafen a.Rh., Stadt",  # another city's name
        "M., Stadt",
    ],
)
def test_official_spellings_never_guess(spelling):
    assert MAINZ.resolve(spelling, "stadt") is None, spelling
    assert MAINZ.resolve(spelling, "ortsbezirk") is None, spelling


def test_a_resolver_takes_added_areas_and_aliases():
    resolver = areas.AreaResolver(
        "mainz",
        added=[areas.Area("stadtteil", "", "Kisselberg", ("Am Kisselberg",))],
        aliases={"Gonsenh.": ("ortsbezirk", "Gonsenheim")},
    )
    assert _found(resolver.resolve("Gonsenh.", "ortsbezirk")) == ("ortsbezirk", "06", "Gonsenheim")
    assert _found(resolver.resolve("am kisselberg", "stadtteil")) == ("stadtteil", "", "Kisselberg")
    assert MAINZ.resolve("Gonsenh.", "ortsbezirk") is None  # the shared resolver is untouched
    with pytest.raises(ValueError, match="'Atlantis' is not an area of mainz at level ortsbezirk"):
        areas.AreaResolver("mainz", aliases={"Atl.": ("ortsbezirk", "Atlantis")})
    with pytest.raises(ValueError, match="'Altstadt' is already an area of mainz"):
        areas.AreaResolver("mainz", added=[areas.Area("ortsbezirk", "", "Altstadt")])
    with pytest.raises(ValueError, match="'Mainz-Neustadt' already names"):
        areas.AreaResolver("mainz", aliases={"Mainz-Neustadt": ("ortsbezirk", "Altstadt")})
