"""Real GENESIS exports through ``vierstaedte-harvest validate``, as city IT runs it.

The Regionalstatistik tables (tests/harvesters/fixtures/real/SOURCES.md) list every Kreis of
Germany under key columns without a header; a city's mapping names them by position. Only
the city's own row resolves (its official spelling or its Kreis key), every other Kreis is
refused by name, and the city's figures come through unchanged.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.harvesters.paths import with_koeln

REAL = Path(__file__).parent / "fixtures" / "real"
CLI = str(Path(sys.executable).with_name("vierstaedte-harvest"))
BIRTHS = REAL / "genesis_regionalstatistik_12612-04-01-4_geburten_kreise.csv"
POPULATION = REAL / "genesis_regionalstatistik_12411-01-01-4_bevoelkerung_kreise.csv"
LAND_AREA = REAL / "genesis_regionalstatistik_11111-01-01-4_flaeche_kreise.csv"
KOELN_LAND_USE = REAL / "genesis_itnrw_33111-02ir_koeln_flaeche_ar.csv"


def validate(tmp_path: Path, table: Path, rules: dict, env: dict | None = None):
    """``validate --write-rejected -o``: the report, and the rows the city's mapping could map."""
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    out = tmp_path / "out.csv"
    done = subprocess.run(
        [CLI, "validate", str(table), "-m", str(tmp_path / "mapping.yaml"), "-o", str(out)]
        + ["--write-rejected"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode in (0, 1), done.stderr
    with out.open(encoding="utf-8") as handle:
        return json.loads(done.stdout), list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "city, births",
    [("mainz", 2131), ("trier", 1028), ("koblenz", 1042), ("ludwigshafen", 1751)],
)
def test_each_city_finds_its_own_row_by_its_genesis_name(tmp_path, city, births):
    """``Mainz, Kreisfreie Stadt``, ``Ludwigshafen am Rhein, Kreisfreie Stadt`` resolve;
    ``Koblenz, Stat. Region``, ``Mayen-Koblenz, Landkreis``, ``Trier-Saarburg, Landkreis``
    and ``Mainz-Bingen, Landkreis`` do not."""
    rules = {
        "id": f"{city}-geburten",
        "city": city,
        "area": {"position": 3},  # the Kreis's name; the column has no header
        "period": {"position": 1},  # the year, no header either
        "values": [
            {"header": "Lebend Geborene Legitimität Insgesamt Anzahl", "indicator": "births"}
        ],
        "ignore_match": ["Lebend Geborene Legitimität Eltern .*"],
    }
    report, rows = validate(tmp_path, BIRTHS, rules)
    assert report["reading"]["skipped_title_rows"] == 5 and report["reading"]["header_rows"] == 4
    assert report["rows_in"] == 526  # Deutschland, the Länder, Regionen and Kreise
    assert report["error_counts"] == {"unknown-area": 525}  # every row but the city's
    refused = {e["value"].strip() for e in report["errors"]}
    assert not any(city in name.lower() and "Kreisfreie" in name for name in refused)
    assert [(r["area_level"], r["period"], r["indicator"], float(r["value"])) for r in rows] == [
        ("stadt", "2015", "births", births)
    ]
    assert report["reading"]["footer_rows"][0] == "__________"  # GENESIS footnotes: a footer


def test_the_kreis_key_in_a_column_without_header_finds_the_city(tmp_path):
    rules = {
        "id": "trier-bevoelkerung",
        "city": "trier",
        "area": {"position": 1},  # 07211
        "values": [
            {
                "match": r"(?P<period>31\.12\.\d{4}) (?P<sex>Insgesamt|männlich|weiblich)",
                "indicator": "population_total",
            }
        ],
    }
    report, rows = validate(tmp_path, POPULATION, rules)
    assert report["reading"]["encoding"] == "cp1252"
    # the row of dates over the row of sexes, both after empty key cells, is the header
    assert report["reading"]["header_rows"] == 2
    assert report["reading"]["columns"][2] == "31.12.2015 Insgesamt"
    assert report["error_counts"] == {"unknown-area": 525}
    assert sorted((r["sex"], r["period"], float(r["value"])) for r in rows) == [
        ("female", "2015-12-31", 57404),
        ("male", "2015-12-31", 57510),
        ("total", "2015-12-31", 114914),
    ]


def test_a_land_area_in_square_kilometres(tmp_path):
    rules = {
        "id": "ludwigshafen-flaeche",
        "city": "ludwigshafen",
        "period": {"position": 1},
        "area": {"position": 3},
        "values": [{"header": "Gebietsfläche qkm", "indicator": "area_total"}],
    }
    report, rows = validate(tmp_path, LAND_AREA, rules)
    # ";;;Gebietsfläche" over ";;;qkm": header rows, though each fills one cell
    assert report["reading"]["columns"] == ["", "", "", "Gebietsfläche qkm"]
    assert report["error_counts"] == {"unknown-area": 525}  # of 526 rows
    assert [(r["area_name"], r["period"], float(r["value"]), r["unit"]) for r in rows] == [
        ("Ludwigshafen am Rhein", "2015-12-31", 7755, "hectare")  # 77,55 km²
    ]


def test_the_area_from_the_title_of_a_real_export(tmp_path):
    """IT.NRW's export for Köln names the city only in its title (``Köln, krfr. Stadt``) and
    has its dates in a column without a header; Köln joins as a fifth city, with nothing but
    its entry in cities.json."""
    rules = {
        "id": "koeln-flaeche",
        "city": "koeln",
        "area": {"from": "title"},
        "period": {"position": 1},
        "values": [
            {
                "header": "Flächennutzungsarten Bodenfläche insgesamt Insgesamt",
                "indicator": "area_total",
            }
        ],
        "ignore_match": ["Flächennutzungsarten (?!Bodenfläche insgesamt).*"],
    }
    report, rows = validate(tmp_path, KOELN_LAND_USE, rules, env=with_koeln(tmp_path))
    assert report["verdict"] in ("valid", "valid_with_warnings"), report["errors"]
    assert report["reading"]["area_from_title"] == "Köln, krfr. Stadt"
    assert {(r["city"], r["ags"], r["area_level"], r["area_name"]) for r in rows} == {
        ("koeln", "05315000", "stadt", "Köln")
    }
    assert ("2012-12-31", 40516.41) in {(r["period"], float(r["value"])) for r in rows}
