"""Fuzzing the CSV reader and the German number parser (hypothesis, bounded: fixed example counts,
no database).

Properties: arbitrary bytes never crash the reader except with its own
:class:`TableRejected`; a well-formed table is read back cell for cell;
the number parser never raises, and every value it reports is exactly what
the cell says in the notation it decided for the column (an independent,
plain-Python reading) — never a silent misread.
"""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vierstaedte_harvest import german
from vierstaedte_harvest.reading import open_table
from vierstaedte_harvest.report import TableRejected

BOUNDED = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SPACES = ("\u00a0", "\u202f", " ")
GERMAN_NUMBER = re.compile(r"[0-9]{1,3}(\.[0-9]{3})*(,[0-9]+)?|[0-9]+(,[0-9]+)?")
ENGLISH_NUMBER = re.compile(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?|[0-9]+(\.[0-9]+)?")


def reference(cell: str, notation: str) -> float | None:
    """What ``cell`` says in ``notation``, read independently of the parser; None if it is no number there."""
    text = cell.strip()
    for space in SPACES:
        text = text.replace(space, "")
    if text.endswith("%"):
        text = text[:-1]
    negative = text[:1] in ("-", "\u2212", "\u2013")
    if text[:1] in ("-", "+", "\u2212", "\u2013"):
        text = text[1:]
    if notation == german.ENGLISH:
        value = float(text.replace(",", "")) if ENGLISH_NUMBER.fullmatch(text) else None
    else:  # German, and "integer" columns (digits only, or read the German way)
        value = (
            float(text.replace(".", "").replace(",", "."))
            if GERMAN_NUMBER.fullmatch(text)
            else None
        )
    return -value if value is not None and negative else value


number_like = st.text(alphabet="0123456789.,-+%  \u00a0\u2212\u2013xk.A/", min_size=0, max_size=14)
formatted = st.builds(
    lambda v, d, de: (
        f"{v:,.{d}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")
        if de
        else f"{v:,.{d}f}"
    ),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.integers(0, 3),
    st.booleans(),
)


@BOUNDED
@given(
    st.lists(
        st.one_of(number_like, formatted, st.sampled_from(sorted(german.MISSING_MARKERS))),
        min_size=1,
        max_size=25,
    )
)
def test_number_parser_never_misreads(cells):
    parsed = german.parse_numbers(pd.Series(cells, dtype=object))
    assert len(parsed.values) == len(parsed.status) == len(cells)
    assert set(parsed.status) <= set(german.STATUSES)
    for cell, value, status in zip(cells, parsed.values, parsed.status, strict=True):
        stripped = cell.strip()
        if stripped in german.MISSING_MARKERS:
            assert status == "missing", (cell, status)
        elif stripped in german.CONFIDENTIAL_MARKERS:
            assert status == "confidential", (cell, status)
        elif status == "reported":
            expected = reference(cell, parsed.number_format)
            assert expected is not None, (
                f"{cell!r} reported as {value} but is no {parsed.number_format} number"
            )
            assert value == expected, (cell, value, expected, parsed.number_format)
        else:
            assert status == "invalid" and value != value  # NaN: no value for an unreadable cell


csv_like = st.text(alphabet=';,\t"\n\r |abcxyzäöü0123456789.-©Quelle', max_size=2000)


@BOUNDED
@given(
    st.one_of(
        st.binary(max_size=3000),
        csv_like.map(lambda t: t.encode("utf-8")),
        csv_like.map(lambda t: t.encode("cp1252")),
        csv_like.map(lambda t: b"\xef\xbb\xbf" + t.encode()),
    )
)
def test_reader_survives_arbitrary_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "quelle.csv"
    path.write_bytes(data)
    try:
        table = open_table(path)
        for _ in table.chunks(1000):
            pass
    except TableRejected as rejected:
        assert rejected.issue.code and rejected.issue.message


word = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzäöüßABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10
)
cell = st.one_of(
    word,
    st.integers(0, 10**7).map(str),
    formatted.map(lambda t: t.replace(",", "").replace(";", "")),
)


@BOUNDED
@given(st.data())
def test_well_formed_table_is_read_back_exactly(tmp_path_factory, data):
    width = data.draw(st.integers(2, 6))
    headers = data.draw(
        st.lists(word.map(lambda w: "Spalte " + w), min_size=width, max_size=width, unique=True)
    )
    rows = data.draw(
        st.lists(st.lists(cell, min_size=width, max_size=width), min_size=1, max_size=30)
    )
    delimiter = data.draw(st.sampled_from([";", "\t", "|"]))
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    newline = data.draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(delimiter.join(r) for r in [headers, *rows]) + newline
    path = tmp_path_factory.mktemp("fuzz") / "tabelle.csv"
    path.write_bytes(text.encode(encoding))
    table = open_table(path)
    assert table.headers == headers
    read = [
        list(row)
        for chunk in table.chunks(7)
        for row in chunk.astype(str).itertuples(index=False, name=None)
    ]
    assert read == rows
