"""A real GENESIS export in ar through the command, as city IT runs it.

IT.NRW's land use of Köln (``fixtures/real/genesis_itnrw_33111-02ir_koeln_flaeche_ar.csv``, see
SOURCES.md there) states its unit only in the title block: ``Bodenfläche (Katasterfläche) (ar)``.
``vierstaedte-harvest validate`` publishes it in hectares and says so, or refuses it with a reason
and a non-zero exit code.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harvesters.paths import with_koeln

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
    env = with_koeln(tmp_path)

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
            env=env,
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


REAL = Path(__file__).parent / "fixtures" / "real"
YIELDS = REAL / "genesis_regionalstatistik_41241-01-03-4_hektarertraege_excerpt.csv"
VOTEMANAGER = REAL / "votemanager_vaterstetten_btw2025_excerpt.csv"


def cli(tmp_path: Path, table: Path, rules: str, *files: tuple[str, str]):
    for name, text in files:
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "mapping.yaml").write_text(rules, encoding="utf-8")
    out, report = tmp_path / "tidy.csv", tmp_path / "report.json"
    done = subprocess.run(
        [CLI, "validate", str(table), "-m", str(tmp_path / "mapping.yaml")]
        + ["-o", str(out), "-r", str(report)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, out, (json.loads(report.read_text()) if report.exists() else None)


WHEAT = """\
id: weizen
city: mainz
area: {value: Mainz}
period: {position: 1}
ignore_match: ['']
unmapped: warn
values:
  - match: 'Feldfruchtarten Winterweizen'
    indicator: INDICATOR
"""


def test_real_genesis_title_unit_unknown_to_the_contract_is_refused(tmp_path):
    # 'Hektarerträge (dt/ha)': 90.7 dt/ha were published as 90.7 hectare
    done, out, report = cli(tmp_path, YIELDS, WHEAT.replace("INDICATOR", "land_use_area"))
    assert done.returncode == 1 and not out.exists(), done.stdout + done.stderr
    assert report["error_counts"] == {"unknown-unit": 1}
    message = report["errors"][0]["message"]
    assert "'dt/ha'" in message and "title" in message and "'unit:'" in message


def test_real_indicators_file_with_an_unknown_unit_is_a_mapping_error(tmp_path):
    indicators = (
        "id,label_de,label_en,unit,definition_de,definition_en\n"
        "crop_yield,Hektarertrag,Crop yield,dt_per_ha,Ertrag je Hektar,Yield per hectare\n"
    )
    rules = "indicators: ind.csv\n" + WHEAT.replace("INDICATOR", "crop_yield")
    done, out, _ = cli(tmp_path, YIELDS, rules, ("ind.csv", indicators))
    assert done.returncode == 2 and not out.exists()
    assert "Traceback" not in done.stderr
    assert "ind.csv line 2" in done.stderr and "'crop_yield'" in done.stderr
    assert "'dt_per_ha'" in done.stderr and "known units: persons," in done.stderr


VOTES = """\
id: btw
city: mainz
area: {value: Mainz}
period: {value: 23.02.2025}
unmapped: warn  # 48 columns: the other counts and parties
values:
  - header: Wahlberechtigte gesamt (A)
    indicator: eligible_voters
    UNIT
  - header: Waehler gesamt (B)
    indicator: voters
"""


@pytest.mark.parametrize("unit", ["", "unit: Personen"])
def test_real_votemanager_field_codes_are_no_units(tmp_path, unit):
    done, out, report = cli(tmp_path, VOTEMANAGER, VOTES.replace("UNIT", unit))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {r["indicator"]: r["value"] for r in tidy_rows(out)}
    assert rows == {"eligible_voters": "3124", "voters": "2809"}
    assert "unit_override" not in report["columns"]["Wahlberechtigte gesamt (A)"]
