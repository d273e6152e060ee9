"""Source units: declared by the mapping or read from the header or title, converted, or refused.

A figure is published in its indicator's unit (``indicators.csv``). Whatever unit the source
states, the engine converts it exactly and says so in the report, or refuses the column: a
unit is never relabelled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vierstaedte_contract import units as contract_units
from vierstaedte_harvest import mapping, units
from vierstaedte_harvest.normalise import normalise

AREA = {"id": "flaechen", "city": "trier", "area": {"value": "Trier"}, "period": {"value": 2023}}


def table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tabelle.csv"
    path.write_text(text, encoding="utf-8")
    return path


def run(tmp_path: Path, text: str, values: list[dict], **extra):
    return normalise(table(tmp_path, text), mapping.parse({**AREA, **extra, "values": values}))


def codes(result) -> dict[str, int]:
    return dict(result.report.error_counts)


def test_header_in_ar_is_converted_into_hectares_exactly(tmp_path):
    result = run(
        tmp_path,
        "Nutzung;Fläche in ar\nWald;12345\nWasser;1,1\n",
        [{"header": "Fläche in ar", "indicator": "land_use_area", "dimension": "land_use"}],
        dimensions={"dimension": {"name": "land_use", "column": "Nutzung"}},
    )
    assert result.ok, result.report.as_dict()
    assert result.frame["value"].tolist() == [123.45, 0.011]  # ==: no float noise
    assert set(result.frame["unit"].astype(str)) == {"hectare"}
    column = result.report.as_dict()["columns"]["Fläche in ar"]
    assert column["unit"] == "hectare"
    assert column["unit_conversion"] == {
        "from": "ar",
        "to": "hectare",
        "factor": "0.01",
        "stated_by": "header",
    }


@pytest.mark.parametrize(
    "text",
    [
        "Gebiet;Fläche (ar)\nTrier;12345\n",
        "Gebiet;Fläche [ar]\nTrier;12345\n",
        "Gebiet;Fläche (in ar)\nTrier;12345\n",
        "Gebiet;Fläche in a\nTrier;12345\n",
        "Gebiet;Fläche\n;ar\nTrier;12345\n",  # GENESIS: a unit row under the headings
    ],
)
def test_header_spellings_of_a_unit(tmp_path, text):
    result = run(
        tmp_path, text, [{"match": "Fläche.*", "indicator": "area_total"}], ignore=["Gebiet"]
    )
    assert result.ok, result.report.as_dict()
    assert result.frame["value"].tolist() == [123.45]


def test_title_block_unit_applies_to_columns_that_state_none(tmp_path):
    result = run(
        tmp_path,
        "Flächenerhebung\nBodenfläche (Katasterfläche) (ar)\nGebiet;Insgesamt\nTrier;1171400\n",
        [{"header": "Insgesamt", "indicator": "area_total"}],
        ignore=["Gebiet"],
    )
    assert result.ok, result.report.as_dict()
    assert result.frame["value"].tolist() == [11714.0]
    conversion = result.report.columns["Insgesamt"]["unit_conversion"]
    assert conversion["stated_by"] == "title" and conversion["from"] == "ar"


def test_mapping_declares_the_unit_for_the_table_or_per_rule(tmp_path):
    text = "Posten;Erträge;Aufwendungen\nSteuern;1,5;2\n"
    values = [
        {"header": "Erträge", "indicator": "budget_income"},
        {"header": "Aufwendungen", "indicator": "budget_expenditure", "unit": "Mio. EUR"},
    ]
    dims = {"dimension": {"name": "budget_line", "column": "Posten"}}
    result = run(tmp_path, text, values, unit="Tsd. EUR", dimensions=dims)
    assert result.ok, result.report.as_dict()
    by_indicator = dict(
        zip(result.frame["indicator"].astype(str), result.frame["value"], strict=True)
    )
    assert by_indicator == {"budget_income": 1500.0, "budget_expenditure": 2000000.0}
    conversion = result.report.columns["Aufwendungen"]["unit_conversion"]
    assert conversion == {"from": "million_eur", "to": "eur", "factor": "1000000"} | {
        "stated_by": "mapping"
    }


def test_a_unit_the_indicator_already_has_is_no_conversion(tmp_path):
    result = run(
        tmp_path,
        "Gebiet;Fläche (ha)\nTrier;11714\n",
        [{"header": "Fläche (ha)", "indicator": "area_total", "unit": "Hektar"}],
        ignore=["Gebiet"],
    )
    assert result.ok and result.frame["value"].tolist() == [11714.0]
    assert "unit_conversion" not in result.report.columns["Fläche (ha)"]


def test_a_declared_unit_that_contradicts_the_header_is_an_error(tmp_path):
    result = run(
        tmp_path,
        "Gebiet;Fläche in ar\nTrier;1171400\n",
        [{"header": "Fläche in ar", "indicator": "area_total", "unit": "ha"}],
        ignore=["Gebiet"],
    )
    assert not result.ok and codes(result) == {"unit-conflict": 1}
    error = result.report.errors[0]
    assert error.field == "Fläche in ar" and "'ar'" in error.message and "hectare" in error.message


def test_a_declared_unit_that_contradicts_the_title_is_an_error(tmp_path):
    result = run(
        tmp_path,
        "Einheit: ar\nGebiet;Insgesamt\nTrier;1171400\n",
        [{"header": "Insgesamt", "indicator": "area_total"}],
        ignore=["Gebiet"],
        unit="ha",
    )
    assert not result.ok and codes(result) == {"unit-conflict": 1}


def test_a_header_unit_of_another_dimension_is_refused_not_relabelled(tmp_path):
    result = run(
        tmp_path,
        "Gebiet;Einwohner (%)\nTrier;12,5\n",
        [{"header": "Einwohner (%)", "indicator": "population_total"}],
        ignore=["Gebiet"],
    )
    assert not result.ok and codes(result) == {"unit-mismatch": 1}
    assert "different dimensions" in result.report.errors[0].message
    assert result.frame is None or result.frame.empty


def test_percent_cells_in_a_count_column_are_refused_not_relabelled(tmp_path):
    result = run(
        tmp_path,
        "Gebiet;Einwohner\nTrier;12,5 %\n",
        [{"header": "Einwohner", "indicator": "population_total"}],
        ignore=["Gebiet"],
    )
    assert not result.ok and codes(result) == {"unit-mismatch": 1}
    share = run(
        tmp_path,
        "Gebiet;Anteil\nTrier;12,5 %\n",
        [{"header": "Anteil", "indicator": "population_share"}],
        ignore=["Gebiet"],
    )
    assert share.ok and share.frame["value"].tolist() == [12.5]


def test_mapping_units_are_checked_when_it_is_loaded():
    def load(unit, where="rule"):
        rule = {"header": "Fläche", "indicator": "area_total"}
        extra = {"unit": unit} if where == "mapping" else {}
        if where == "rule":
            rule["unit"] = unit
        return mapping.parse({**AREA, **extra, "values": [rule]})

    with pytest.raises(mapping.MappingError, match=r"values\[1\]: unknown unit 'Hektare' \(did"):
        load("Hektare")
    with pytest.raises(mapping.MappingError, match=r"mapping flaechen: unknown unit 'qkmm'"):
        load("qkmm", where="mapping")
    with pytest.raises(mapping.MappingError, match="cannot be converted into Hektar"):
        load("%")
    assert load("ar").values[0].unit == "ar"
    assert load(None, where="none").values[0].unit is None  # the indicator's unit is assumed


def test_vectorised_scaling_equals_the_contracts_decimal_conversion():
    generator = np.random.default_rng(14)
    digits = generator.integers(1, 10**12, 20_000)
    values = digits / 10.0 ** generator.integers(0, 6, 20_000)
    values = np.concatenate([values, [1e-30, 3.3e-12, 4.2e25, 0.0, -1.1, np.nan]])
    for source, target in [("ar", "ha"), ("TEUR", "EUR"), ("ha", "ar"), ("qm", "km²")]:
        factor = contract_units.factor(source, target)
        scaled = units.scale(values, factor)
        expected = contract_units.convert(values.tolist(), source, target)
        assert np.array_equal(scaled, np.array(expected), equal_nan=True), (source, target)
