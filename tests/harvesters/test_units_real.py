"""A real GENESIS export in ar through the command, as city IT runs it.

IT.NRW's land use of Köln (``fixtures/real/genesis_itnrw_33111-02ir_koeln_flaeche_ar.csv``, see
SOURCES.md there) states its unit only in the title block: ``Bodenfläche (Katasterfläche) (ar)``.
``vierstaedte-harvest validate`` publishes it in hectares and says so, or refuses it with a reason
and a non-zero exit code.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import vierstaedte_contract

KOELN_AR = (
    Path(__file__).parent / "fixtures" / "real" / "genesis_itnrw_33111-02ir_koeln_flaeche_ar.csv"
)
CLI = str(Path(sys.executable).with_name("vierstaedte-harvest"))
LAND_USE = """\
id: koeln-flaechennutzung
city: koeln
area: {value: Köln}
period: {position: 1}   # GENESIS leaves the key column's heading empty
UNIT
values:
  - header: Flächennutzungsarten Bodenfläche insgesamt Insgesamt
    indicator: INDICATOR
  - match: 'Flächennutzungsarten (?P<dimension_value>.+)'
    indicator: land_use_area
    dimension: land_use
"""


@pytest.fixture
def koeln(tmp_path):
    """Köln as a member city (the file is Köln's), handed to the command as city IT would."""
    members = json.loads(vierstaedte_contract.path("cities.json").read_text(encoding="utf-8"))
    members["cities"].append(
        {
            "name": "koeln",
            "title": "Stadt Köln",
            "short_title": "Köln",
            "ags": "05315000",
            "regional_key": "053150000000",
            "website": "https://www.stadt-koeln.de",
            "colour": "#e2001a",
        }
    )
    contract = tmp_path / "contract"
    contract.mkdir()
    (contract / "cities.json").write_text(json.dumps(members), encoding="utf-8")

    def validate(unit: str = "", indicator: str = "area_total", *extra: str):
        rules = tmp_path / "mapping.yaml"
        rules.write_text(
            LAND_USE.replace("UNIT", unit).replace("INDICATOR", indicator), encoding="utf-8"
        )
        out = tmp_path / "tidy.csv"
        done = subprocess.run(
            [CLI, "validate", str(KOELN_AR), "-m", str(rules), "-o", str(out), *extra],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, vierstaedte_contract.DATA_OVERRIDE: str(contract)},
        )
        return done, out

    return validate


def tidy_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(("unit", "stated_by"), [("", "title"), ("unit: ar", "mapping")])
def test_real_genesis_export_in_ar_is_published_in_hectares(koeln, unit, stated_by):
    done, out = koeln(unit)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["verdict"] == "valid" and report["rows_in"] == 19
    total = "Flächennutzungsarten Bodenfläche insgesamt Insgesamt"
    assert report["columns"][total]["unit_conversion"] == {
        "from": "ar",
        "to": "hectare",
        "factor": "0.01",
        "stated_by": stated_by,
    }
    rows = tidy_rows(out)
    assert {r["unit"] for r in rows} == {"hectare"}
    area = {r["period"]: r["value"] for r in rows if r["indicator"] == "area_total"}
    assert area["2012-12-31"] == "40516.41" and area["1994-12-31"] == "40513.44"  # ar: 4051641
    moor = [r for r in rows if r["dimension_value"] == "Landwirtschaftsfläche Moor"]
    assert {r["value_status"] for r in moor if r["period"] < "2010"} == {"missing"}  # "-"


def test_real_genesis_export_with_a_contradicting_unit_is_rejected(koeln):
    done, out = koeln("unit: ha")  # the title says ar
    assert done.returncode == 1 and not out.exists()
    report = json.loads(done.stdout)
    assert report["verdict"] == "rejected" and report["error_counts"] == {"unit-conflict": 21}


def test_real_genesis_export_mapped_to_an_indicator_of_another_dimension_is_rejected(koeln):
    done, out = koeln("", "population_total")  # ar are no persons: refused, not relabelled
    assert done.returncode == 1 and not out.exists()
    report = json.loads(done.stdout)
    assert report["error_counts"] == {"unit-mismatch": 1}
    assert "different dimensions" in report["errors"][0]["message"]


def test_real_genesis_export_with_an_unknown_unit_is_a_mapping_error(koeln):
    done, out = koeln("unit: Ar.")
    assert done.returncode == 2 and not out.exists()
    assert "unknown unit 'Ar.' (did you mean" in done.stderr
