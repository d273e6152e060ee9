"""The command as city IT runs it, in a process of its own.

It never loads CKAN, also where CKAN is installed beside it (as in this venv), and ``validate -o``
writes a rejected table only when asked to.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from tests.harvesters.paths import FIXTURES, MAPPINGS
from vierstaedte_contract import table
from vierstaedte_harvest.validate import frictionless_errors

PROBE = """
import json, sys
from vierstaedte_harvest import cli
cli._keep_ckan_out()
import ckanapi
import vierstaedte_harvest.run
print(json.dumps({"ckan_modules": sorted(m for m in sys.modules if m == "ckan" or m.startswith("ckan.")
                                         if sys.modules[m] is not None),
                  "not_found": ckanapi.NotFound.__module__,
                  "search_index_error_is_ckanapi_error": issubclass(ckanapi.SearchIndexError,
                                                                     ckanapi.CKANAPIError)}))
"""


def test_the_harvester_process_runs_without_ckan_even_where_it_is_installed():
    import ckan  # noqa: F401  (this venv has CKAN: the probe would import it, but for the CLI's guard)

    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(probe.stdout)
    assert loaded == {
        "ckan_modules": [],
        "not_found": "ckanapi.errors",
        "search_index_error_is_ckanapi_error": True,
    }


def test_a_process_that_runs_ckan_keeps_it():
    from vierstaedte_harvest import cli

    cli._keep_ckan_out()  # pytest runs inside CKAN
    import ckan.logic

    assert sys.modules["ckan"] is not None
    assert ckan.logic.NotFound


# --- validate -o: a rejected table is written only when asked -----------------------------------

CLI = str(Path(sys.executable).with_name("vierstaedte-harvest"))
MAINZ_POPULATION = MAPPINGS / "mainz-einwohner-ortsbezirke.yaml"
# one cell ("1.2.3") is no number in German notation: the table is rejected (invalid-number)
ONE_BAD_CELL = "Ortsbezirk;2022;2023\nAltstadt;21.400;21.512\nNeustadt;29.500;1.2.3\n"


def harvest(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *arguments], capture_output=True, text=True, timeout=120)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_validate_o_writes_no_file_for_a_rejected_table(tmp_path):
    source = tmp_path / "einwohner.csv"
    source.write_text(ONE_BAD_CELL, encoding="utf-8")
    out = tmp_path / "out.csv"
    done = harvest("validate", str(source), "-m", str(MAINZ_POPULATION), "-o", str(out))
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["verdict"] == "rejected"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["einwohner.csv"]  # no partial file
    assert f"rejected: {out} not written" in done.stderr
    assert "--write-rejected" in done.stderr


def test_validate_o_write_rejected_writes_the_rows_with_invalid_cells_marked(tmp_path):
    source = tmp_path / "einwohner.csv"
    source.write_text(ONE_BAD_CELL, encoding="utf-8")
    out = tmp_path / "out.csv"
    done = harvest(
        "validate", str(source), "-m", str(MAINZ_POPULATION), "-o", str(out), "--write-rejected"
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["error_counts"] == {"invalid-number": 1}
    assert f"rejected: {out} written anyway" in done.stderr
    cells = {(r["area_name"], r["period"]): (r["value"], r["value_status"]) for r in rows(out)}
    assert cells == {
        ("Altstadt", "2022"): ("21400", "reported"),
        ("Altstadt", "2023"): ("21512", "reported"),
        ("Neustadt", "2022"): ("29500", "reported"),
        ("Neustadt", "2023"): ("", "invalid"),  # failed to parse: neither a value nor "missing"
    }
    # the written table follows the Table Schema: invalid is one of its value statuses
    assert frictionless_errors(str(out), table.descriptor()) == []


def test_validate_o_writes_an_accepted_table_and_says_nothing(tmp_path):
    out = tmp_path / "out.csv"
    done = harvest(
        "validate",
        str(FIXTURES / "mainz_einwohner_ortsbezirke.csv"),
        "-m",
        str(MAINZ_POPULATION),
        "-o",
        str(out),
        "-r",
        str(tmp_path / "report.json"),
        "--frictionless",  # reads the file before it is moved into place
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads((tmp_path / "report.json").read_text())["frictionless_errors"] == []
    assert {r["value_status"] for r in rows(out)} == {"reported", "missing", "confidential"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "report.json"]


def test_every_status_the_number_parser_gives_is_one_of_the_schema():
    from vierstaedte_harvest import german

    assert german.STATUSES == table.enum("value_status")
