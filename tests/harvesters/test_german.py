"""German numbers, markers, periods and dimensions; property-based where it pays."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vierstaedte_harvest import german


def german_format(value: float, decimals: int) -> str:
    text = f"{abs(value):,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")
    return ("-" if value < 0 else "") + text


def english_format(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), min_size=1, max_size=30),
    st.integers(min_value=0, max_value=3),
)
def test_german_numbers_round_trip(values, decimals):
    cells = pd.Series([german_format(v, decimals) for v in values])
    parsed = german.parse_numbers(cells)
    expected = [round(v, decimals) for v in values]
    assert (parsed.status == "reported").all()
    assert parsed.values.tolist() == pytest.approx(expected, rel=1e-12, abs=10**-decimals)
    assert parsed.number_format in (german.GERMAN, german.INTEGER)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=1, max_size=30))
def test_english_decimal_columns_are_recognised(values):
    cells = pd.Series(
        [english_format(v, 2) for v in values] + ["0.5"]
    )  # one cell proves the notation
    parsed = german.parse_numbers(cells)
    assert parsed.number_format == german.ENGLISH
    assert parsed.values.tolist() == pytest.approx([round(v, 2) for v in values] + [0.5], rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=1000, max_value=10**9), min_size=1, max_size=20),
    st.lists(st.floats(min_value=0.01, max_value=999, allow_nan=False), min_size=1, max_size=20),
)
def test_mixed_notations_are_errors_never_silent_misreads(thousands, decimals):
    """German thousands and English decimals in one column: the minority cells are invalid, not misread."""
    cells = [german_format(v, 0) for v in thousands if v >= 1_000_000] + [
        english_format(v, 2).replace(",", "") for v in decimals
    ]
    parsed = german.parse_numbers(pd.Series(cells))
    reported = parsed.values[parsed.status == "reported"]
    for text, value, status in zip(cells, parsed.values, parsed.status, strict=True):
        if status == "reported":
            english = (
                float(text.replace(",", "")) if parsed.number_format == german.ENGLISH else None
            )
            german_value = (
                float(text.replace(".", "").replace(",", "."))
                if parsed.number_format == german.GERMAN
                else None
            )
            assert value == (english if english is not None else german_value)
    if any(v >= 1_000_000 for v in thousands):
        assert (parsed.status == "invalid").any()
        assert parsed.note and "mixed" in parsed.note
    assert len(reported) + (parsed.status == "invalid").sum() == len(cells)


def test_one_thousand_two_hundred_thirty_four_is_decided_and_reported():
    parsed = german.parse_numbers(pd.Series(["1.234", "12", "999.000"]))
    assert parsed.values.tolist() == [1234.0, 12.0, 999000.0]
    assert parsed.number_format == german.GERMAN
    assert "ambiguous" in parsed.note

    proven = german.parse_numbers(
        pd.Series(["1.234", "2,5"])
    )  # a decimal comma proves German notation
    assert proven.values.tolist() == [1234.0, 2.5] and proven.note is None

    english = german.parse_numbers(
        pd.Series(["1.234", "2.50"])
    )  # a two-digit decimal proves English notation
    assert english.values.tolist() == [1.234, 2.5]


@pytest.mark.parametrize(
    "cell, status",
    [
        ("-", "missing"),
        ("–", "missing"),
        (".", "missing"),
        ("...", "missing"),
        ("", "missing"),
        ("x", "confidential"),
        ("X", "confidential"),
        ("abc", "invalid"),
        ("12a", "invalid"),
    ],
)
def test_markers(cell, status):
    parsed = german.parse_numbers(pd.Series([cell, "1"]))
    assert parsed.status[0] == status
    assert pd.isna(parsed.values[0])


def test_percent_negative_and_space_separators():
    parsed = german.parse_numbers(pd.Series(["12,5 %", "-3,25%", "–7", "1 234 567", "1\u00a0234"]))
    assert parsed.percent
    assert parsed.values.tolist() == [12.5, -3.25, -7.0, 1234567.0, 1234.0]


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_german_dates_round_trip(day):
    assert german.parse_period(day.strftime("%d.%m.%Y")) == day.isoformat()
    assert german.parse_period(f"{day.day}.{day.month}.{day.year}") == day.isoformat()
    assert german.parse_period("Stand: " + day.strftime("%d.%m.%Y")) == day.isoformat()


@pytest.mark.parametrize(
    "text, iso",
    [
        ("2023", "2023"),
        ("2023-06", "2023-06"),
        ("06/2023", "2023-06"),
        ("31.12.2012", "2012-12-31"),
        ("2022/2023", "2022/2023"),
        ("2022/23", "2022/2023"),
        ("2. Quartal 2023", "2023-04/2023-06"),
        ("2023-06-30", "2023-06-30"),
        ("31.02.2023", None),
        ("13/2023", None),
        ("Altstadt", None),
        ("0815", None),
    ],
)
def test_periods(text, iso):
    assert german.parse_period(text) == iso


@pytest.mark.parametrize(
    "text, group",
    [
        ("0 - 2", "0-2"),
        ("6 bis unter 10", "6-9"),
        ("unter 3", "0-2"),
        ("80 u. älter", "80+"),
        ("65 Jahre und älter", "65+"),
        ("80+", "80+"),
        ("Insgesamt", "total"),
        ("17", "17-17"),
        ("alt", None),
    ],
)
def test_age_groups(text, group):
    assert german.parse_age_group(text) == group


def test_sex_and_nationality():
    assert [german.parse_sex(v) for v in ("männlich", "Weiblich", "divers", "insgesamt", "?")] == [
        "male",
        "female",
        "diverse",
        "total",
        None,
    ]
    assert [
        german.parse_nationality(v) for v in ("deutsch", "Ausländer", "nichtdeutsch", "zusammen")
    ] == ["german", "foreign", "foreign", "total"]
