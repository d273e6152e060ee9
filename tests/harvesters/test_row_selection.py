"""``rows``: which rows of a table count, and each row's indicator, by the text of a key column.

A municipal budget holds income lines, expenditure lines and their sums in one column; a
Germany-wide GENESIS table holds every Kreis. Without row rules the budget's expenditure was
published as income with the sums beside their parts, and the city could not narrow the
GENESIS table to its own row. Rows left out are counted in the report; a kept row no rule
places is an error, never quietly the column's one indicator.
"""

from __future__ import annotations

import pytest

from tests.harvesters.paths import FIXTURES
from tests.harvesters.test_genesis import BIRTHS, validate
from vierstaedte_harvest import mapping
from vierstaedte_harvest.normalise import normalise

BUDGET = FIXTURES / "real" / "koeln_gesamtergebnisplan.csv"
SUMS = r"\d+ = .*"
INCOME = r"(0[1-9]|19|23) - .*"
EXPENDITURE = r"(1[1-6]|20|24) - .*"


def budget_rules(**rows) -> dict:
    """Köln's Gesamtergebnisplan (real, KoelnAPI/data), mapped as a city would its own."""
    return {
        "id": "haushalt",
        "city": "mainz",
        "area": {"value": "Mainz"},
        "unit": "EUR",
        "dimensions": {"dimension": {"name": "budget_line", "column": "Wert"}},
        "rows": {"column": "Wert", **rows},
        "values": [{"match": r"Ergebnis (?P<period>\d{4})", "indicator": {"from": "rows"}}],
        "ignore_match": [r"Plan \d{4}"],
    }


def codes(result) -> dict[str, int]:
    return dict(result.report.error_counts)


def test_a_budgets_rows_pick_income_or_expenditure_and_its_sums_are_dropped():
    rules = budget_rules(
        drop_match=[SUMS], indicator={INCOME: "budget_income", EXPENDITURE: "budget_expenditure"}
    )
    result = normalise(BUDGET, mapping.parse(rules))
    assert result.ok, result.report.errors
    frame = result.frame
    by_line = dict(
        zip(
            frame["dimension_value"],
            zip(frame["indicator"], frame["value"], strict=True),
            strict=True,
        )
    )
    assert by_line["11 - Personalaufwendungen"] == ("budget_expenditure", 750_284_022)
    assert by_line["01 - Steuern und ähnliche Abgaben"] == ("budget_income", 1_596_852_249)
    assert by_line["19 - Finanzerträge"] == ("budget_income", 147_401_596)
    assert not any(" = " in line for line in by_line)  # no sum beside its parts
    assert len(frame) == 19 and set(frame["period"]) == {"2010"}
    dropped = result.report.reading["rows_dropped"]
    assert dropped["count"] == 7 and dropped["by_rule"] == {f"rows.drop_match[1] {SUMS!r}": 7}
    assert dropped["first"][0] == "10 = ordentliche Erträge"
    # the source's sums check the split: lines 01-09 add up to line 10 (Köln rounds each line)
    income = frame.loc[frame["indicator"] == "budget_income", "value"]
    lines = frame.loc[frame["indicator"] == "budget_income", "dimension_value"].astype(str)
    assert abs(income[lines.str.match(r"0\d")].sum() - 2_920_592_126) <= 1
    assert result.report.columns["Ergebnis 2010"]["indicator"] == "from rows"


def test_a_row_no_rule_places_is_an_error_not_the_columns_indicator():
    rules = budget_rules(indicator={INCOME: "budget_income", EXPENDITURE: "budget_expenditure"})
    result = normalise(BUDGET, mapping.parse(rules))
    assert codes(result) == {"unplaced-row": 7}  # the sum rows, one error each
    message = result.report.errors[0].message
    assert "'10 = ordentliche Erträge'" in message and "drop_match" in message
    assert "10 = ordentliche Erträge" not in set(result.frame["dimension_value"])


def test_rows_left_out_by_keep_match_are_counted():
    rules = budget_rules(keep_match=[INCOME])
    rules["values"] = [{"match": r"Ergebnis (?P<period>\d{4})", "indicator": "budget_income"}]
    result = normalise(BUDGET, mapping.parse(rules))
    assert result.ok, result.report.errors
    assert len(result.frame) == 11  # lines 01-09, 19 and 23
    assert result.report.reading["rows_dropped"]["by_rule"] == {"not kept by rows.keep_match": 15}


def test_a_germany_wide_genesis_table_narrowed_to_the_citys_row(tmp_path):
    """Regionalstatistik 12612-04-01-4 lists all 526 Kreise, Länder and Germany: keep_match on
    the Kreis key (a column without header) leaves Mainz's row, and no unknown-area at all."""
    rules = {
        "id": "mainz-geburten",
        "city": "mainz",
        "area": {"position": 3},
        "period": {"position": 1},
        "rows": {"position": 2, "keep_match": ["07315"]},
        "values": [
            {"header": "Lebend Geborene Legitimität Insgesamt Anzahl", "indicator": "births"}
        ],
        "ignore_match": ["Lebend Geborene Legitimität Eltern .*"],
    }
    report, rows = validate(tmp_path, BIRTHS, rules)
    assert report["verdict"] == "valid" and report["error_counts"] == {}
    assert report["rows_in"] == 526
    assert report["reading"]["rows_dropped"]["count"] == 525
    assert report["reading"]["rows_dropped"]["by_rule"] == {"not kept by rows.keep_match": 525}
    assert [(r["area_name"], r["period"], float(r["value"])) for r in rows] == [
        ("Mainz", "2015", 2131)
    ]


def test_a_selection_that_keeps_nothing_is_an_error():
    rules = budget_rules(keep_match=["99 - .*"], indicator={INCOME: "budget_income"})
    result = normalise(BUDGET, mapping.parse(rules))
    assert codes(result) == {"no-rows-kept": 1}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"rows": {"drop_match": [SUMS]}}, "rows: give the key column"),
        ({"rows": {"column": "Wert"}}, "give keep_match, drop_match or indicator"),
        ({"rows": {"column": "Wert", "drop_match": ["("]}}, r"drop_match\[1\]: invalid"),
        (
            {"rows": {"column": "Wert", "indicator": {".*": "nonsense"}}},
            "unknown indicator 'nonsense'",
        ),
        (
            {"rows": {"column": "Wert", "indicator": {"0.*": "budget_income", ".*": "voters"}}},
            "share its unit",
        ),
        ({"rows": {"column": "Wert", "drop_match": [SUMS]}}, r"indicator: \{from: rows\}"),
        (
            {
                "rows": {"column": "Wert", "indicator": {".*": "budget_income"}},
                "values": [{"header": "Ergebnis 2010", "indicator": "budget_income"}],
            },
            "no value rule takes it",
        ),
    ],
)
def test_row_rules_are_checked_when_loaded(change, message):
    with pytest.raises(mapping.MappingError, match=message):
        mapping.parse({**budget_rules(), **change})
