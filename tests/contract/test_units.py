"""Units with a dimension and a factor (``vierstaedte_contract.units``, ``data/units.csv``)."""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal

import pytest

import vierstaedte_contract
from vierstaedte_contract import units, vocabularies
from vierstaedte_contract.units import UnitError


def test_units_csv_is_the_one_home_with_dimension_factor_and_symbols():
    text = vierstaedte_contract.path("units.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == units.COLUMNS
    assert [row["id"] for row in rows] == list(units.catalogue()) == list(vocabularies.units())
    for row in rows:
        assert row["dimension"] and Decimal(row["factor"]) > 0, row["id"]
    # every indicator's unit is one of them, and the old callers still read labels
    assert {row["unit"] for row in vocabularies.indicators().values()} <= set(units.catalogue())
    assert vocabularies.unit_info("ar", "en")["label"] == "ares"
    assert vocabularies.unit_info("hectare")["label"] == "Hektar"


@pytest.mark.parametrize(
    ("spelling", "unit"),
    [
        ("ar", "ar"),
        ("a", "ar"),
        ("ha", "hectare"),
        ("Hektar", "hectare"),
        ("hectare", "hectare"),
        ("km²", "square_km"),
        ("km2", "square_km"),
        ("qkm", "square_km"),
        ("m²", "square_metre"),
        ("qm", "square_metre"),
        ("EUR", "eur"),
        ("€", "eur"),
        ("Tsd. EUR", "thousand_eur"),
        ("Tsd.EUR", "thousand_eur"),
        ("1000 EUR", "thousand_eur"),
        ("1 000 EUR", "thousand_eur"),
        ("TEUR", "thousand_eur"),
        ("Mio. EUR", "million_eur"),
        ("%", "percent"),
        ("Prozent", "percent"),
        ("‰", "per_mille"),
        ("Promille", "per_mille"),
        ("Personen", "persons"),
        ("Anzahl", "count"),
        ("Einwohner je km²", "persons_per_square_km"),
        ("EW/ha", "persons_per_hectare"),
    ],
)
def test_spellings_found_in_real_files(spelling, unit):
    assert units.find(spelling).id == unit


def test_no_spelling_names_two_units_and_unknown_ones_get_a_suggestion():
    keys = [units.key(s) for unit in units.catalogue().values() for s in set(unit.spellings())]
    owners = {}
    for unit in units.catalogue().values():
        for spelling in unit.spellings():
            assert owners.setdefault(units.key(spelling), unit.id) == unit.id, spelling
    assert keys
    assert units.find("Hektare") is None and units.find("") is None
    with pytest.raises(UnitError, match=r"unknown unit 'Hektare' \(did you mean 'Hektar'\?\)"):
        units.get("Hektare")
    with pytest.raises(UnitError, match="unknown unit 'Zentner'; known units: persons, "):
        units.get("Zentner")


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (12345, "ar", "ha", 123.45),
        (4051641.0, "ar", "hectare", 40516.41),
        (1.1, "TEUR", "EUR", 1100.0),
        (1.1, "ha", "ar", 110.0),
        (0.07, "km²", "ha", 7.0),
        (3, "m²", "ha", 0.0003),
        (2.5, "Mio. EUR", "Tsd. EUR", 2500.0),
        (12.5, "%", "‰", 125.0),
        (1234, "Einwohner je km²", "Einwohner je ha", 12.34),
        (7, "Anzahl", "Personen", 7.0),
        (12.3, "1000 Personen", "persons", 12300.0),
    ],
)
def test_conversion_is_decimal_exact(value, source, target, expected):
    assert units.convert(value, source, target) == expected  # ==, not approx: no float noise
    assert units.convert(Decimal(str(value)), source, target) == Decimal(str(expected))


def test_conversion_of_a_list_keeps_missing_values():
    converted = units.convert([12345.0, None, float("nan"), 1.0], "ar", "ha")
    assert converted[0] == 123.45 and converted[1] is None and converted[3] == 0.01
    assert converted[2] != converted[2]


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("ar", "persons"),
        ("%", "ha"),
        ("EUR", "Personen"),
        ("Personen", "Haushalte"),
        ("Personen", "Anzahl"),  # a count of persons is not any count: only the bare one widens
        ("Jahre", "%"),
    ],
)
def test_different_dimensions_never_convert(source, target):
    assert not units.convertible(source, target)
    with pytest.raises(UnitError, match="cannot be converted into .*: different dimensions"):
        units.convert(1, source, target)


def test_agree_means_the_same_figures():
    assert units.agree("Anzahl", "Personen") and units.agree("Personen", "Anzahl")
    assert units.agree("ha", "Hektar")
    assert not units.agree("ar", "ha") and not units.agree("%", "ha")


def test_every_factor_pair_round_trips_exactly():
    generator = random.Random(14)
    by_dimension: dict[str, list[str]] = {}
    for unit in units.catalogue().values():
        by_dimension.setdefault(unit.dimension, []).append(unit.id)
    for members in by_dimension.values():
        for source in members:
            for target in members:
                value = generator.randint(1, 10**9) / 10 ** generator.randint(0, 4)
                there = units.convert(value, source, target)
                assert units.convert(there, target, source) == value, (source, target, value)


def test_a_lone_letter_names_a_unit_only_in_its_exact_case():
    # votemanager labels columns with field codes: 'Wahlberechtigte gesamt (A)' is no ar
    assert units.find("a").id == "ar" and units.find(" a ").id == "ar"
    assert units.find("A") is None
    assert units.find("AR").id == "ar" and units.find("HA").id == "hectare"  # words: any case
