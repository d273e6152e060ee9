"""``data/indicators.csv`` read strictly: every row whole, every indicator defined in both languages.

``csv.DictReader`` forgives a row with an unquoted comma (the surplus lands under the key
``None``), which is how "Personen, die gewählt haben" once split a definition in two. So the
file is read here as plain rows and each one checked.
"""

from __future__ import annotations

import csv
import io
import re

import vierstaedte_contract
from vierstaedte_contract import colours, vocabularies

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
# the Table Schema's column names must not leak into text people read ("sex" and "party" are
# English words, so the English check looks for identifiers and the word "column" instead)
_INTERNAL = {
    "definition_de": re.compile(
        r"\b(sex|age_group|nationality|dimension(_value)?|party|land_use|budget_line|Spalten?)\b"
    ),
    "definition_en": re.compile(r"\b([a-z]+_[a-z_]+|dimension|columns?)\b"),
}


def problems(text: str) -> list[str]:
    """What is wrong with an indicators.csv, one sentence per problem; empty when nothing is."""
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    found = []
    if tuple(rows[0]) != vocabularies.INDICATOR_COLUMNS:
        found.append(f"header {rows[0]} is not {vocabularies.INDICATOR_COLUMNS}")
    seen = set()
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(vocabularies.INDICATOR_COLUMNS):
            found.append(f"line {line}: {len(row)} columns, not 6 (an unquoted comma?)")
            continue
        entry = dict(zip(vocabularies.INDICATOR_COLUMNS, row, strict=True))
        if not _IDENTIFIER.match(entry["id"]) or entry["id"] in seen:
            found.append(f"line {line}: id {entry['id']!r} is no new identifier")
        seen.add(entry["id"])
        for column in ("label_de", "label_en", "definition_de", "definition_en"):
            value = entry[column]
            if not value.strip() or value != value.strip():
                found.append(f"line {line}: {column} is empty or padded")
            if column in _INTERNAL and _INTERNAL[column].search(value):
                found.append(f"line {line}: {column} names a column: {value!r}")
        if entry["unit"] not in vocabularies.units():
            found.append(f"line {line}: unknown unit {entry['unit']!r}")
        if entry["definition_de"] == entry["definition_en"]:
            found.append(f"line {line}: the English definition is the German one")
    return found


def test_indicators_csv_is_strictly_well_formed():
    text = vierstaedte_contract.path("indicators.csv").read_text(encoding="utf-8")
    assert problems(text) == []
    assert list(vocabularies.indicators()) == [row[0] for row in csv.reader(io.StringIO(text))][1:]


def test_the_check_finds_a_split_definition_and_a_column_name():
    header = ",".join(vocabularies.INDICATOR_COLUMNS)
    text = (
        f"{header}\n"
        "voters,Wähler,Voters,persons,Personen, die gewählt haben,Persons who voted\n"
        "votes_by_party,Stimmen,Votes,count,Stimmen (dimension party),Votes\n"
    )
    assert problems(text) == [
        "line 2: 7 columns, not 6 (an unquoted comma?)",
        "line 3: definition_de names a column: 'Stimmen (dimension party)'",
    ]


def test_party_colours_are_customary_and_found_by_any_spelling():
    assert colours.party("CDU") == "#000000" and colours.party("SPD") == "#e3000f"
    assert colours.party("GRÜNE") == colours.party("Bündnis 90/Die Grünen") == "#1aa037"
    assert colours.party("Die Linke") == colours.party("DIE LINKE")
    # a party without a colour of its own is grey, never a colour another party wears
    assert colours.party("Tierschutzpartei") == "#8c8c8c"
    assert colours.series(0) != colours.series(1) and colours.series(8) == colours.series(0)
