"""docs/normalisation.md, "Your first mapping", runs as written.

Every block of the section is taken from the doc itself: ``yaml file=…`` and ``csv file=…``
are written, ``sh`` commands run (``vierstaedte-harvest validate`` over the real files named
in them, exit code 0), ``json report=…`` must be part of the report the command wrote, and a
``text source=…`` excerpt must be lines of that real file. A changed key, message or number
in the engine fails here instead of leaving the doc wrong.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.harvesters.doctables import ROOT
from tests.harvesters.paths import FIXTURES, REAL, with_koeln

CLI = str(Path(sys.executable).with_name("vierstaedte-harvest"))
SECTION = "## Your first mapping"
FENCE = re.compile(r"^```(\w+)((?: \w+=\S+)*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def section() -> str:
    text = (ROOT / "docs" / "normalisation.md").read_text(encoding="utf-8")
    assert SECTION in text, "docs/normalisation.md has no section 'Your first mapping'"
    part = text.split(SECTION, 1)[1]
    return part.split("\n## ", 1)[0]


def blocks() -> list[tuple[str, dict[str, str], str]]:
    """(language, attributes, body) of each fenced block, in the doc's order."""
    return [
        (lang, dict(a.split("=", 1) for a in attrs.split()), body)
        for lang, attrs, body in FENCE.findall(section())
    ]


def real(name: str) -> Path:
    for folder in (FIXTURES / "real", REAL):
        if (folder / name).is_file():
            return folder / name
    raise AssertionError(f"the doc names {name}, which is in no fixtures/real folder")


def contains(whole, part, where="report") -> None:
    """``part`` is ``whole`` with keys left out (objects); lists and values are equal."""
    if isinstance(part, dict):
        assert isinstance(whole, dict), f"{where}: {whole!r} is no object"
        for key, value in part.items():
            assert key in whole, f"{where}: no {key!r} in {sorted(whole)}"
            contains(whole[key], value, f"{where}.{key}")
    else:
        assert whole == part, f"{where}: {whole!r}, the doc says {part!r}"


def run_section(tmp_path: Path) -> list[str]:
    """Write, run and check every block; the names of the commands' report files."""
    env = with_koeln(tmp_path)
    checked = []
    for lang, attrs, body in blocks():
        if "file" in attrs:
            (tmp_path / attrs["file"]).write_text(body, encoding="utf-8")
        elif lang == "sh":
            for line in body.strip().splitlines():
                words = shlex.split(line)
                assert words[:2] == ["vierstaedte-harvest", "validate"], line
                table = words[2]
                shutil.copy(real(table), tmp_path / table)
                done = subprocess.run(
                    [CLI, *words[1:]], cwd=tmp_path, env=env, capture_output=True, text=True
                )
                assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        elif "report" in attrs:
            report = json.loads((tmp_path / attrs["report"]).read_text(encoding="utf-8"))
            contains(report, json.loads(body), attrs["report"])
            checked.append(attrs["report"])
        elif "source" in attrs:
            raw = real(attrs["source"]).read_bytes()
            try:
                lines = raw.decode("utf-8").splitlines()
            except UnicodeDecodeError:
                lines = raw.decode("cp1252").splitlines()
            for shown in body.splitlines():
                if shown != "…":
                    prefix = shown.removesuffix("…")
                    assert any(line.startswith(prefix) for line in lines), shown
    return checked


def test_every_block_of_your_first_mapping_runs_as_written(tmp_path):
    assert run_section(tmp_path) == ["report.json", "wahl-report.json"]


def test_what_the_section_says_happens_without_the_rows_rule(tmp_path):
    """ "with ``rows`` left out, the same mapping gives 525 ``unknown-area`` errors" and
    Leverkusen "every run is rejected with an ``unknown-area`` error for it"."""
    run_section(tmp_path)
    env = with_koeln(tmp_path / "again")
    for mapping, table, errors in (
        (
            "ludwigshafen-flaeche.yaml",
            "genesis_regionalstatistik_11111-01-01-4_flaeche_kreise.csv",
            525,
        ),
        ("koeln-btw2013.yaml", "csv_koeln_btw2013_ergebnis_stadt.csv", 1),
    ):
        rules = yaml.safe_load((tmp_path / mapping).read_text(encoding="utf-8"))
        del rules["rows"]
        (tmp_path / f"without-{mapping}").write_text(
            yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8"
        )
        done = subprocess.run(
            [CLI, "validate", table, "-m", f"without-{mapping}", "-r", "r.json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        assert (done.returncode, report["verdict"]) == (1, "rejected")
        assert report["error_counts"] == {"unknown-area": errors}


@pytest.mark.parametrize("party", ["Volt"])
def test_a_new_party_is_an_unmapped_column_not_a_silent_party(tmp_path, party):
    """ "A party the next election adds … the report names it as an ``unmapped-column`` error"."""
    run_section(tmp_path)
    source = (tmp_path / "csv_koeln_btw2013_ergebnis_stadt.csv").read_text(encoding="utf-8")
    header, *rows = source.splitlines()
    wider = [header.rstrip(";") + f";{party};", *(row.rstrip(";") + ";17;" for row in rows)]
    (tmp_path / "next.csv").write_text("\n".join(wider) + "\n", encoding="utf-8")
    done = subprocess.run(
        [CLI, "validate", "next.csv", "-m", "koeln-btw2013.yaml", "-r", "r.json"],
        cwd=tmp_path,
        env=with_koeln(tmp_path / "again"),
        capture_output=True,
        text=True,
    )
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert (done.returncode, report["error_counts"]) == (1, {"unmapped-column": 1})
    assert report["errors"][0]["field"] == party
