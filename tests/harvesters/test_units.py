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


def test_a_title_stating_several_units_of_the_column_s_kind_is_never_assumed(tmp_path):
    text = "Flächenerhebung\nFläche in ha bzw. in ar\nGebiet;Insgesamt\nTrier;1171400\n"
    rule = {"header": "Insgesamt", "indicator": "area_total"}
    result = run(tmp_path, text, [rule], ignore=["Gebiet"])
    assert not result.ok and codes(result) == {"unit-conflict": 1}, result.report.as_dict()
    assert "'ha'" in result.report.errors[0].message
    assert "'ar'" in result.report.errors[0].message
    declared = run(tmp_path, text, [{**rule, "unit": "ar"}], ignore=["Gebiet"])
    assert declared.ok, declared.report.as_dict()
    assert declared.frame["value"].tolist() == [11714.0]
    # units of other kinds in the title speak of other columns
    other = "Flächenerhebung\nBetrag in 1000 EUR, Anteil in %\nGebiet;Insgesamt\nTrier;11714\n"
    assert run(tmp_path, other, [rule], ignore=["Gebiet"]).ok


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


# A: a unit written where units are written, but unknown, is an error, never the indicator's


@pytest.mark.parametrize(
    ("header", "spelling"),
    [
        ("Ertrag (dt/ha)", "dt/ha"),
        ("Ertrag [dt/ha]", "dt/ha"),
        ("Ertrag in dt/ha", "dt/ha"),
        ("Fläche (ha je Betrieb)", "ha je Betrieb"),
        ("Fläche in Tsd. ha", "Tsd. ha"),
        ("Fläche (in 1000)", "1000"),
        ("Fläche (Euro pro qm)", "Euro pro qm"),
        ("Fläche (US-$)", "US-$"),
    ],
)
def test_an_unknown_unit_in_the_header_is_an_error_not_the_indicators(tmp_path, header, spelling):
    result = run(
        tmp_path,
        f"Gebiet;{header}\nTrier;90,7\n",
        [{"header": header, "indicator": "area_total"}],
        ignore=["Gebiet"],
    )
    assert not result.ok and codes(result) == {"unknown-unit": 1}, result.report.as_dict()
    error = result.report.errors[0]
    assert error.field == header and error.value == spelling
    assert f"{spelling!r}" in error.message and "'unit:'" in error.message
    assert "units.csv" in error.message


@pytest.mark.parametrize(
    "title",
    ["Hektarerträge (dt/ha)", "Einheit: Dezitonnen", "Angaben in Euro je Einwohner"],
)
def test_an_unknown_unit_in_the_title_is_an_error_for_columns_that_state_none(tmp_path, title):
    result = run(
        tmp_path,
        f"Erntestatistik\n{title}\nGebiet;Winterweizen\nTrier;90,7\n",
        [{"header": "Winterweizen", "indicator": "area_total"}],
        ignore=["Gebiet"],
    )
    assert not result.ok and codes(result) == {"unknown-unit": 1}, result.report.as_dict()
    assert "title" in result.report.errors[0].message


def test_an_unknown_unit_in_a_genesis_unit_row_is_an_error(tmp_path):
    result = run(
        tmp_path,
        "Gebiet;Winterweizen\n;dt/ha\nTrier;90,7\n",
        [{"match": "Winterweizen.*", "indicator": "area_total"}],
        ignore=["Gebiet"],
    )
    assert not result.ok and codes(result) == {"unknown-unit": 1}, result.report.as_dict()


@pytest.mark.parametrize(
    "header",
    [
        "Einwohner (A)",
        "Einwohner (BF)",
        "Einwohner (Hauptwohnsitz)",
        "Einwohner (insgesamt)",
        "Einwohner (m/w)",
        "Einwohner in Trier-Nord",
    ],
)
def test_codes_and_words_in_brackets_state_no_unit(tmp_path, header):
    result = run(
        tmp_path,
        f"Gebiet;{header}\nTrier;1480\n",
        [{"header": header, "indicator": "population_total"}],
        ignore=["Gebiet"],
    )
    assert result.ok, result.report.as_dict()
    assert "unit_conversion" not in result.report.columns[header]


def test_a_declared_unit_beats_an_unknown_spelling_and_the_report_names_both(tmp_path):
    result = run(
        tmp_path,
        "Gebiet;Fläche (ha ges.)\nTrier;11714\n",
        [{"header": "Fläche (ha ges.)", "indicator": "area_total", "unit": "ha"}],
        ignore=["Gebiet"],
    )
    assert result.ok, result.report.as_dict()
    assert result.report.columns["Fläche (ha ges.)"]["unit_override"] == {
        "unit": "hectare",
        "over": [{"stated_by": "header", "spelling": "ha ges.", "unit": None}],
    }


# D: a guess never blocks a declaration; a certain statement contradicting one is a conflict


def test_a_lone_letter_in_brackets_is_no_unit_and_a_declaration_needs_no_override(tmp_path):
    header = "Wahlberechtigte gesamt (A)"
    for rule in ({}, {"unit": "Personen"}):
        result = run(
            tmp_path,
            f"Gebiet;{header}\nTrier;1480\n",
            [{"header": header, "indicator": "eligible_voters", **rule}],
            ignore=["Gebiet"],
        )
        assert result.ok, result.report.as_dict()
        assert result.frame["value"].tolist() == [1480.0]
        assert "unit_override" not in result.report.columns[header]


def test_a_declaration_overrides_a_lone_letter_guess_and_says_so(tmp_path):
    result = run(
        tmp_path,
        "Gebiet;Fläche in a\nTrier;11714\n",
        [{"header": "Fläche in a", "indicator": "area_total", "unit": "ha"}],
        ignore=["Gebiet"],
    )
    assert result.ok, result.report.as_dict()
    assert result.frame["value"].tolist() == [11714.0]
    assert result.report.columns["Fläche in a"]["unit_override"] == {
        "unit": "hectare",
        "over": [{"stated_by": "header", "spelling": "a", "unit": "ar"}],
    }


def test_a_declaration_overrides_a_unit_row_guess_but_not_a_certain_title(tmp_path):
    guess = run(
        tmp_path,
        "Gebiet;Fläche\n;ar\nTrier;11714\n",
        [{"match": "Fläche.*", "indicator": "area_total", "unit": "ha"}],
        ignore=["Gebiet"],
    )
    assert guess.ok and guess.frame["value"].tolist() == [11714.0], guess.report.as_dict()
    over = guess.report.columns["Fläche ar"]["unit_override"]["over"]
    assert over == [{"stated_by": "header", "spelling": "ar", "unit": "ar"}]
    certain = run(
        tmp_path,
        "Einheit: ha\nGebiet;Fläche\nTrier;11714\n",
        [{"header": "Fläche", "indicator": "area_total", "unit": "ar"}],
        ignore=["Gebiet"],
    )
    assert codes(certain) == {"unit-conflict": 1}


# B: an XLSX cell's percent number format states percent; the stored fraction is ×100


def workbook(tmp_path: Path, header: str, cells: list[tuple[float, str]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Gebiet", header])
    for number, (value, number_format) in enumerate(cells, start=1):
        sheet.append([f"Ort {number}", value])
        sheet.cell(row=number + 1, column=2).number_format = number_format
    book.save(tmp_path / "tabelle.xlsx")
    return tmp_path / "tabelle.xlsx"


def test_xlsx_percent_format_is_read_as_shown_and_states_percent(tmp_path):
    path = workbook(
        tmp_path,
        "Anteil Ausländer",
        [(0.097, "0.0%"), (0.213, "0.0 %"), (1, "0%"), (0.702382639503986, "0.0%")],
    )
    rules = mapping.parse(
        {
            **AREA,
            "area": {"value": "Trier"},
            "dimensions": {"dimension": {"name": "ort", "column": "Gebiet"}},
            "values": [{"header": "Anteil Ausländer", "indicator": "population_share"}],
        }
    )
    result = normalise(path, rules)
    assert result.ok, result.report.as_dict()
    # exact: 0.097 × 100 is 9.700000000000001 in floats; the stored value, not the shown 70.2
    assert result.frame["value"].tolist() == [9.7, 21.3, 100.0, 70.2382639503986]
    assert set(result.frame["unit"].astype(str)) == {"percent"}


def test_xlsx_percent_format_in_a_count_column_is_refused(tmp_path):
    path = workbook(tmp_path, "Einwohner", [(0.097, "0.0%")])
    result = normalise(
        path,
        mapping.parse(
            {
                **AREA,
                "ignore": ["Gebiet"],
                "values": [{"header": "Einwohner", "indicator": "population_total"}],
            }
        ),
    )
    assert not result.ok and codes(result) == {"unit-mismatch": 1}


def test_xlsx_numbers_without_percent_format_keep_their_stored_value(tmp_path):
    path = workbook(tmp_path, "Anteil", [(9.7, "0.0"), (70.2382639503986, "0.0"), (5, "0\\%")])
    rules = mapping.parse(
        {
            **AREA,
            "dimensions": {"dimension": {"name": "ort", "column": "Gebiet"}},
            "values": [{"header": "Anteil", "indicator": "population_share"}],
        }
    )
    result = normalise(path, rules)
    assert result.ok, result.report.as_dict()
    assert result.frame["value"].tolist() == [9.7, 70.2382639503986, 5.0]  # \% is a literal


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Ausländeranteil in % Anteil an der Bevölkerung", 14.1),  # Hamburg's stacked header
        ("Fläche in ha insgesamt", 14.1),
    ],
)
def test_a_known_unit_after_in_is_read_before_the_words_that_follow(tmp_path, header, value):
    indicator = "population_share" if "%" in header else "area_total"
    result = run(
        tmp_path,
        f"Gebiet;{header}\nTrier;14,1\n",
        [{"header": header, "indicator": indicator}],
        ignore=["Gebiet"],
    )
    assert result.ok, result.report.as_dict()
    assert result.frame["value"].tolist() == [value]
    per_head = run(
        tmp_path,
        "Gebiet;Ausgaben in Tsd. EUR je Einwohner\nTrier;14,1\n",
        [{"header": "Ausgaben in Tsd. EUR je Einwohner", "indicator": "budget_income"}],
        ignore=["Gebiet"],
    )
    assert codes(per_head) == {"unknown-unit": 1}  # not thousand euros
