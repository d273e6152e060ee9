"""Every CSV we publish is safe to open in a spreadsheet, by one rule in both wings.

The harvester's normalised table (``vierstaedte_contract.csvsafe.spreadsheet_safe``,
written by Arrow) and the portal's comparison download ``/vergleich.csv``
(``ckanext.vierstaedte.logic.indicators``) apply the same rule: a text cell
whose first non-blank character is ``= + - @``, or that starts with a tab or
CR, gets a leading apostrophe; a text cell that is only a plain number stays;
numbers are written as numbers (``-3.5`` is data) and every text cell is
quoted, so a spreadsheet that splits on another delimiter (``;``) keeps it whole.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml

import vierstaedte_harvest
from tests.factories import HarvestedDataset, Observation
from vierstaedte_contract.csvsafe import spreadsheet_safe
from vierstaedte_harvest import mapping
from vierstaedte_harvest.normalise import normalise

RULE = [
    ("=1+1", "'=1+1"),
    (" =1+1", "' =1+1"),
    ("  @SUM(A1)", "'  @SUM(A1)"),
    ("-2+3", "'-2+3"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("\t=1", "'\t=1"),
    ("\tText", "'\tText"),
    ("\rText", "'\rText"),
    ("-", "'-"),
    ("-3.5", "-3.5"),
    ("+2", "+2"),
    ("-3,5", "-3,5"),
    ("Liste;=2+2", "Liste;=2+2"),
    ("Gonsenheim", "Gonsenheim"),
    ("", ""),
]


@pytest.mark.parametrize("text, safe", RULE)
def test_the_rule(text, safe):
    assert spreadsheet_safe(text) == safe


PARTIES = [" =1+1", "@SUM(A1)", "Liste;=2+2", "-2+3", "-3.5"]


def _cells(text: str) -> list[list]:
    """The header, then the rows with each unquoted cell read as a number (raises if one is not)."""
    header, body = text.split("\n", 1)
    return [
        next(csv.reader([header])),
        *csv.reader(io.StringIO(body), quoting=csv.QUOTE_NONNUMERIC),
    ]


def test_the_normalised_csv_quotes_text_neutralises_formulas_and_keeps_numbers(tmp_path):
    source = tmp_path / "wahl.csv"
    header = ["Wahlbezirk/Ortsbezirk", "Wahlberechtigte", "Wähler", "Wahlbeteiligung", *PARTIES]
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerow(["Altstadt", "15.234", "10.998", "-3,5", "1", "2", "3", "4", "5"])
    shipped = Path(vierstaedte_harvest.__file__).parent / "mappings/mainz-wahl-ortsbezirke.yaml"
    data = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    # the shipped mapping names its parties; any header reaches the table through a catch-all
    catch_all = {"match": "(?P<dimension_value>.+)", "indicator": "votes_by_party"}
    data["values"].append({**catch_all, "dimension": "party"})
    rules = mapping.parse(data)
    result = normalise(source, rules, out=tmp_path / "normalisiert.csv")
    assert result.ok, result.report.as_dict()

    text = (tmp_path / "normalisiert.csv").read_text(encoding="utf-8")
    rows = _cells(text)
    names = rows[0]
    records = [dict(zip(names, cells, strict=True)) for cells in rows[1:]]
    assert all(
        isinstance(r["value"], float) for r in records
    )  # numbers unquoted, everything else quoted
    assert all(isinstance(r[name], str) for r in records for name in names if name != "value")
    assert -3.5 in {r["value"] for r in records}  # a negative number is data
    by_party = {r["dimension_value"] for r in records if r["dimension"] == "party"}
    assert by_party == {
        "'=1+1",
        "'@SUM(A1)",
        "Liste;=2+2",
        "'-2+3",
        "-3.5",
    }  # headers arrive stripped
    assert '"Liste;=2+2"' in text and '"\'=1+1"' in text


@pytest.mark.usefixtures("with_plugins")
def test_the_comparison_csv_quotes_text_neutralises_formulas_and_keeps_numbers(
    app, clean_datastore, cities
):
    HarvestedDataset(
        name="mainz-wahl",
        title="Wahl",
        records=[
            Observation(
                period="2024",
                value=value,
                indicator="votes_by_party",
                dimension="party",
                dimension_value=party,
                unit="votes",
            )
            for party, value in zip([*PARTIES, "\tTab"], [1, 2, -3.5, 4, 5, 6], strict=True)
        ],
    )
    response = app.get(
        "/vergleich.csv", query_string={"indicator": "votes_by_party", "cities": "mainz"}
    )
    assert response.status_code == 200
    rows = _cells(response.body)
    header, body = rows[0], rows[1:]
    values = [cells[header.index("Wert")] for cells in body]
    assert sorted(values) == [-3.5, 1, 2, 4, 5, 6]  # numbers, unquoted, the negative one untouched
    assert all(
        isinstance(cell, str)
        for cells in body
        for i, cell in enumerate(cells)
        if i != header.index("Wert")
    )
    parties = {cells[header.index("Partei")] for cells in body}
    assert parties == {"' =1+1", "'@SUM(A1)", "Liste;=2+2", "'-2+3", "-3.5", "'\tTab"}
    assert '"Liste;=2+2"' in response.body
