"""The engine end to end: raw table + mapping → tidy table + report, checked cell by cell."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import vierstaedte_contract
from tests.harvesters.paths import FIXTURES, MAPPINGS
from vierstaedte_contract import table
from vierstaedte_harvest import mapping
from vierstaedte_harvest.normalise import normalise
from vierstaedte_harvest.validate import frictionless_errors


def observations(frame: pd.DataFrame, **where) -> dict:
    selected = frame
    for field, value in where.items():
        selected = selected[selected[field].astype(str) == value]
    return selected


def test_wide_years_with_markers(fixture_mapping):
    result = normalise(
        FIXTURES / "mainz_einwohner_ortsbezirke.csv", fixture_mapping("mainz-einwohner-ortsbezirke")
    )
    report = result.report.as_dict()
    assert report["verdict"] == "valid", report
    assert report["rows_in"] == 6 and report["rows_out"] == 18
    frame = result.frame
    gonsenheim = observations(frame, area_name="Gonsenheim", period="2023")
    assert gonsenheim["value"].tolist() == [25301.0] and gonsenheim["area_code"].tolist() == ["06"]
    assert observations(frame, area_name="Altstadt", period="2021")["value"].tolist() == [
        21345.0
    ]  # "01 Altstadt"
    assert observations(frame, area_name="Oberstadt", period="2023")["value_status"].tolist() == [
        "missing"
    ]
    assert observations(frame, area_name="Hartenberg-Münchfeld", period="2023")[
        "value_status"
    ].tolist() == ["confidential"]
    city = observations(frame, area_level="stadt", period="2022")
    assert city["area_name"].tolist() == ["Mainz"] and city["value"].tolist() == [221000.0]
    assert set(frame["indicator"].astype(str)) == {"population_total"}
    assert set(frame["unit"].astype(str)) == {"persons"}
    assert report["columns"]["2023"]["number_format"] == "de"
    assert report["coverage"] == {
        "start": "2021-01-01",
        "end": "2023-12-31",
    }  # from the year columns 2021…2023


def test_genesis_export_with_stacked_header(fixture_mapping):
    result = normalise(
        FIXTURES / "trier_bevoelkerung_alter_genesis.csv",
        fixture_mapping("trier-bevoelkerung-alter"),
    )
    assert result.report.verdict == "valid", result.report.as_dict()
    frame = result.frame
    assert len(frame) == 8 * 6
    old_women = observations(frame, sex="female", age_group="80+", indicator="population_total")
    assert old_women["value"].tolist() == [4600.0] and old_women["period"].tolist() == [
        "2023-12-31"
    ]
    share = observations(frame, sex="male", age_group="6-9", indicator="population_share")
    assert share["value"].tolist() == [3.4] and share["unit"].tolist() == ["percent"]
    assert observations(frame, sex="total", age_group="total", indicator="population_total")[
        "value"
    ].tolist() == [111316.0]
    assert set(frame["dimension"].astype(str)) == {"none"}
    assert set(frame["area_name"].astype(str)) == {"Trier"} and set(
        frame["area_level"].astype(str)
    ) == {"stadt"}
    assert result.report.reading["footer_rows"] == [
        "© Statistisches Landesamt Rheinland-Pfalz, Bad Ems, 2024"
    ]
    assert result.report.coverage == {"start": "2023-12-31", "end": "2023-12-31"}


def test_party_columns_with_share_columns(fixture_mapping):
    result = normalise(
        FIXTURES / "mainz_wahl_ortsbezirke.csv", fixture_mapping("mainz-wahl-ortsbezirke")
    )
    assert result.report.verdict == "valid", result.report.as_dict()
    frame = result.frame
    greens = observations(frame, area_name="Gonsenheim", dimension_value="GRÜNE")
    assert dict(zip(greens["indicator"].astype(str), greens["value"], strict=True)) == {
        "votes_by_party": 3300.0,
        "vote_share_by_party": 22.9,
    }
    assert observations(frame, area_name="Weisenau", indicator="election_turnout")[
        "value"
    ].tolist() == [65.95]
    assert set(observations(frame, indicator="votes_by_party")["dimension"].astype(str)) == {
        "party"
    }
    assert observations(frame, indicator="eligible_voters")["dimension"].astype(
        str
    ).unique().tolist() == ["none"]
    assert "Bemerkung" not in set(frame["source_column"].astype(str))


def test_excel_source(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Stadtteil", "Arbeitslose 2023", "Arbeitslose 2024"])
    book.active.append(["Lützel", 512, 530])
    book.active.append(["Karthause Nord", 301, 290])
    book.save(tmp_path / "k.xlsx")
    rules = mapping.parse(
        {
            "id": "koblenz-arbeitslose",
            "city": "koblenz",
            "area": {"column": "Stadtteil", "level": "stadtteil"},
            "values": [{"match": "Arbeitslose (?P<period>\\d{4})", "indicator": "unemployed"}],
        }
    )
    result = normalise(tmp_path / "k.xlsx", rules)
    assert result.report.verdict == "valid", result.report.as_dict()
    assert observations(result.frame, area_name="Karthäuserhofgelände", period="2024")[
        "value"
    ].tolist() == [290.0]


def test_streams_to_csv_in_chunks_and_frictionless_agrees(tmp_path, fixture_mapping):
    out = tmp_path / "tidy.csv"
    result = normalise(
        FIXTURES / "mainz_wahl_ortsbezirke.csv",
        fixture_mapping("mainz-wahl-ortsbezirke"),
        out=out,
        chunk_rows=1,
    )
    assert result.ok and result.frame is None
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(written.columns) == table.field_names()
    assert len(written) == result.report.rows_out == 3 * 11
    assert frictionless_errors(out, table.descriptor()) == []


def test_frictionless_and_fast_validator_reject_the_same_file(tmp_path):
    bad = tmp_path / "bad.csv"
    good = normalise(
        FIXTURES / "mainz_einwohner_ortsbezirke.csv",
        mapping.load(MAPPINGS / "mainz-einwohner-ortsbezirke.yaml"),
    )
    rows = good.frame.astype(object).copy()
    rows.loc[rows.index[0], "ags"] = "7315000"  # 7 digits
    rows.iloc[1, rows.columns.get_loc("sex")] = "männlich"  # not in the enum
    rows.to_csv(bad, index=False)
    reference = {(e["type"], e["field"]) for e in frictionless_errors(bad, table.descriptor())}
    assert reference == {("constraint-error", "ags"), ("constraint-error", "sex")}
    from vierstaedte_harvest.report import Report
    from vierstaedte_harvest.validate import SchemaValidator

    report = Report("x", vierstaedte_contract.SCHEMA_VERSION)
    frame = pd.read_csv(bad, dtype=str, keep_default_na=False)
    frame["value"] = pd.to_numeric(frame["value"])
    SchemaValidator(table.descriptor()).check(frame, report)
    assert {(e.rule, e.field) for e in report.errors} == {("pattern", "ags"), ("enum", "sex")}


def test_late_english_evidence_restarts_with_english_notation(tmp_path):
    path = tmp_path / "t.csv"
    rows = ["Ortsbezirk;Jahr;Quote"] + ["Altstadt;2023;1.234"] * 5 + ["Neustadt;2023;2.50"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rules = mapping.parse(
        {
            "id": "t",
            "city": "mainz",
            "area": {"column": "Ortsbezirk", "level": "ortsbezirk"},
            "period": {"column": "Jahr"},
            "values": [{"header": "Quote", "indicator": "unemployment_rate"}],
        }
    )
    result = normalise(path, rules, chunk_rows=2)
    assert result.report.columns["Quote"]["number_format"] == "en"
    assert (
        result.frame["value"].tolist()[:2] == [1.234, 1.234]
        and result.frame["value"].tolist()[-1] == 2.5
    )
    # five identical keys: the primary key check catches it
    assert result.report.error_counts["primary-key-duplicate"] == 4


@pytest.mark.parametrize(
    "table, code, field",
    [
        ("Ortsbezirk;2023\nAltstadt;1\nAtlantis;2\n", "unknown-area", "Ortsbezirk"),
        ("Ortsbezirk;2023;Bemerkung\nAltstadt;1;ok\n", "unmapped-column", "Bemerkung"),
        ("Stadtteil;2023\nAltstadt;1\n", "missing-column", "Ortsbezirk"),
        ("Ortsbezirk;2023\nAltstadt;1\nNeustadt;viele\n", "invalid-number", "2023"),
        ("Ortsbezirk;2023\n", "empty-file", None),
        ("<html><body>Wartungsarbeiten</body></html>", "html-instead-of-csv", None),
    ],
)
def test_failure_modes_in_the_report(tmp_path, table, code, field):
    path = tmp_path / "t.csv"
    path.write_text(table, encoding="utf-8")
    rules = mapping.parse(
        {
            "id": "t",
            "city": "mainz",
            "area": {"column": "Ortsbezirk", "level": "ortsbezirk"},
            "values": [{"match": "(?P<period>\\d{4})", "indicator": "population_total"}],
        }
    )
    report = normalise(path, rules).report.as_dict()
    assert report["verdict"] == "rejected"
    issue = next(e for e in report["errors"] if e["code"] == code)
    assert issue.get("field") == field
    json.dumps(report)  # machine-readable


def test_unknown_area_names_value_row_and_count(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Ortsbezirk;2022;2023\nAltstadt;1;2\nAtlantis;3;4\n", encoding="utf-8")
    rules = mapping.parse(
        {
            "id": "t",
            "city": "mainz",
            "area": {"column": "Ortsbezirk", "level": "ortsbezirk"},
            "values": [{"match": "(?P<period>\\d{4})", "indicator": "population_total"}],
        }
    )
    report = normalise(path, rules).report
    unknown = [e for e in report.errors if e.code == "unknown-area"]
    assert [(e.value, e.row) for e in unknown] == [("Atlantis", 2)]
    assert report.error_counts == {
        "unknown-area": 1
    }  # reported once, not again as schema or key errors


@pytest.mark.parametrize(
    "data, message",
    [
        ({"id": "t", "city": "berlin", "area": {"value": "Berlin"}, "values": []}, "unknown city"),
        (
            {
                "id": "t",
                "city": "mainz",
                "area": {"value": "Mainz"},
                "values": [{"header": "x", "indicator": "happiness"}],
            },
            "unknown indicator",
        ),
        (
            {
                "id": "t",
                "city": "mainz",
                "area": {"value": "Mainz"},
                "values": [{"match": "(?P<year>\\d+)", "indicator": "births"}],
            },
            "unknown group",
        ),
        (
            {"id": "t", "city": "mainz", "area": {"value": "Mainz", "column": "x"}, "values": []},
            "exactly one",
        ),
        ({"id": "t", "city": "mainz", "area": {"value": "Mainz"}, "colums": []}, "unknown key"),
        (
            {
                "id": "t",
                "city": "mainz",
                "area": {"value": "Mainz"},
                "period": {"value": "letztes Jahr"},
                "values": [],
            },
            "not a period",
        ),
    ],
)
def test_mapping_errors_say_where(data, message):
    with pytest.raises(mapping.MappingError, match=message):
        mapping.parse(data)


def test_city_indicator_extension_without_code(tmp_path):
    (tmp_path / "extra.csv").write_text(
        "id,label_de,label_en,unit,definition_de,definition_en\n"
        "kita_places,Kita-Plätze,Daycare places,count,Genehmigte Plätze,Approved places\n",
        encoding="utf-8",
    )
    (tmp_path / "m.yaml").write_text(
        "id: t\ncity: trier\narea: {column: Stadt}\nindicators: extra.csv\n"
        "values: [{match: '(?P<period>\\d{4})', indicator: kita_places}]\n",
        encoding="utf-8",
    )
    (tmp_path / "t.csv").write_text("Stadt;2023\nTrier;4.100\n", encoding="utf-8")
    rules = mapping.load(tmp_path / "m.yaml")
    result = normalise(tmp_path / "t.csv", rules)
    assert (
        result.report.verdict == "valid_with_warnings"
    )  # '4.100' alone: the notation is a guess, and says so
    assert result.report.warning_counts == {"number-format-decision": 1}
    assert result.frame["indicator"].astype(str).tolist() == ["kita_places"]
    assert result.frame["value"].tolist() == [4100.0] and result.frame["unit"].astype(
        str
    ).tolist() == ["count"]
