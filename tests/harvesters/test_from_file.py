"""``list-sources``: a config without a city argument, and ``--from-file``, a saved payload read
by the real readers without a server.

Each case runs the real command in a process of its own, as someone writing a city's config or
mapping would, over real payloads (``../shared/fixtures/real/``, provenance in SOURCES.md there)
where they exist: Rostock's DCAT catalogue page, a GovData CKAN record, Köln's election table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.harvesters.paths import FIXTURES
from vierstaedte_harvest import config

CLI = str(Path(sys.executable).with_name("vierstaedte-harvest"))
DEMO_MANIFEST = Path(__file__).resolve().parents[2] / "demo/payloads/files/koblenz-manifest.yaml"
GOVDATA_RECORD = "352a646f-e170-49c7-9d1e-53bdef9392fc"


def harvest(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "list-sources", *arguments], capture_output=True, text=True, timeout=120
    )


def listed(done: subprocess.CompletedProcess) -> list[list[str]]:
    """The lines of a listing: source id, title, how a run would handle it."""
    return [line.split("\t") for line in done.stdout.splitlines()]


def write(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


# --- a config names its city ---------------------------------------------------------------------


@pytest.fixture
def koblenz_config(tmp_path) -> Path:
    """Koblenz from a local manifest: a listing without any server."""
    return write(
        tmp_path / "koblenz.yaml",
        {"city": "koblenz", "source": {"protocol": "manifest", "path": str(DEMO_MANIFEST)}},
    )


def test_list_sources_takes_the_city_from_the_config(koblenz_config):
    done = harvest("--config", str(koblenz_config))
    assert done.returncode == 0, done.stderr
    assert [line[0] for line in listed(done)] == ["manifest:koblenz:einwohner-stadtteile"]
    assert done.stdout == harvest("koblenz", "--config", str(koblenz_config)).stdout


def test_a_config_without_a_city_is_a_usage_error(tmp_path):
    nameless = write(tmp_path / "x.yaml", {"source": {"protocol": "manifest", "path": "m.yaml"}})
    done = harvest("--config", str(nameless))
    assert done.returncode == 2
    assert f"{nameless} names no city" in done.stderr
    other = write(tmp_path / "y.yaml", {"city": "koeln", "source": {}})
    assert "unknown city 'koeln'" in harvest("--config", str(other)).stderr


def test_list_sources_needs_a_city_a_config_or_a_file():
    done = harvest()
    assert done.returncode == 2
    assert "needs a CITY, --config FILE or --from-file PATH" in done.stderr


# --- catalogues and API answers ------------------------------------------------------------------


def test_a_saved_dcat_page_lists_what_the_dcat_reader_reads(real_fixture):
    page = real_fixture("dcat_rostock_opendata-hro_catalog_page1.rdf")
    done = harvest("--from-file", str(page))
    assert done.returncode == 0, done.stderr
    lines = listed(done)
    assert len(lines) == 100  # the page's 100 dcat:Dataset
    assert all(guid.startswith("dcat:") for guid, _, _ in lines)
    assert [
        "Gerätespielanlagen",
        "no city config; files: XLSX, KML, ?, WMS, CSV, WFS, GML, GEOJSON",
    ] in [line[1:] for line in lines]
    assert "a DCAT catalogue page (RDF/XML), read by the dcat reader" in done.stderr
    # page 1 of 3 (hydra:nextPage): the file cannot show the whole catalogue, and says so
    assert "https://www.opendata-hro.de/catalog.rdf?page=2" in done.stderr
    assert "the listing is incomplete" in done.stderr


def test_a_dcat_page_read_with_the_config_of_its_catalogue(tmp_path, real_fixture):
    """The config's source names the datasets as a run would; the next page is its to read."""
    rostock = {"protocol": "dcat", "url": "https://www.opendata-hro.de/catalog.rdf?page=1"}
    trier = write(tmp_path / "trier.yaml", {"city": "trier", "source": rostock})
    page = real_fixture("dcat_rostock_opendata-hro_catalog_page1.rdf")
    done = harvest("--config", str(trier), "--from-file", str(page))
    assert done.returncode == 0, done.stderr
    lines = listed(done)
    assert len(lines) == 100
    assert all(guid.startswith("dcat:www.opendata-hro.de:") for guid, _, _ in lines)
    assert {how for _, _, how in lines} == {"metadata and links only"}
    assert (
        "holds one page of a longer listing; the next one "
        "(https://www.opendata-hro.de/catalog.rdf?page=2) is not read" in done.stderr
    )


def test_a_config_filter_applies_to_the_file_as_in_a_run(tmp_path, real_fixture):
    rostock = {"protocol": "dcat", "url": "https://www.opendata-hro.de/catalog.rdf?page=1"}
    trier = write(
        tmp_path / "trier.yaml", {"city": "trier", "source": {**rostock, "publisher": "trier"}}
    )
    page = real_fixture("dcat_rostock_opendata-hro_catalog_page1.rdf")
    done = harvest("--config", str(trier), "--from-file", str(page))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # no dataset of Rostock's is published by "trier"


def test_a_saved_ckan_package_show_answer_is_read_as_one_record(real_fixture):
    done = harvest(
        "--from-file", str(real_fixture("ckan_govdata_package_show_harvested_from_daten-rlp.json"))
    )
    assert done.returncode == 0, done.stderr
    [(guid, title, _)] = listed(done)
    # the site comes from the answer's own "help" link
    assert guid == f"ckan:mtest3.gd.swe.seitenbau.net:5000:{GOVDATA_RECORD}"
    assert title == "LGB: HGW Chrom - Ebene: LGB: HGW Chrom"
    assert "a CKAN package_show answer, read by the ckan reader" in done.stderr


def test_a_saved_search_page_says_the_next_page_is_not_in_the_file(tmp_path):
    packages = [
        {"id": f"id-{n}", "name": f"einwohner-{n}", "title": f"Einwohner {n}", "resources": []}
        for n in (1, 2)
    ]
    page = tmp_path / "search.json"
    page.write_text(
        json.dumps({"success": True, "result": {"count": 3, "results": packages}}),
        encoding="utf-8",
    )
    done = harvest("mainz", "--from-file", str(page))
    assert done.returncode == 0, done.stderr
    assert [line[0] for line in listed(done)] == [
        "ckan:daten.rlp.de:id-1",  # named after the config's source, as a run would
        "ckan:daten.rlp.de:id-2",
    ]
    assert "holds one page of a longer listing" in done.stderr
    assert "package_search?fq=" in done.stderr and "&start=2&" in done.stderr
    assert "the listing is incomplete" in done.stderr


def test_a_package_list_has_only_names(tmp_path):
    names = tmp_path / "list.json"
    names.write_text(json.dumps({"success": True, "result": ["a", "b"]}), encoding="utf-8")
    done = harvest("--from-file", str(names))
    assert done.returncode == 0, done.stderr
    assert listed(done) == [
        ["a", "", "only its name: package_list holds no metadata"],
        ["b", "", "only its name: package_list holds no metadata"],
    ]


def test_an_opendatasoft_record_and_a_manifest(tmp_path):
    record = FIXTURES.parent / "payloads/ods/datasets/bevoelkerung-nach-stadtteilen.json"
    done = harvest("--from-file", str(record))
    assert done.returncode == 0, done.stderr
    assert listed(done)[0][:2] == [
        "ods::bevoelkerung-nach-stadtteilen",
        "Bevölkerung nach Stadtteilen",
    ]
    done = harvest("koblenz", "--from-file", str(DEMO_MANIFEST))
    assert done.returncode == 0, done.stderr
    assert listed(done)[0][0] == "manifest:koblenz:einwohner-stadtteile"
    assert listed(done)[0][2].startswith("normalised with koblenz-einwohner-stadtteile from ")


# --- tables ----------------------------------------------------------------------------------------


def test_a_table_shows_what_the_reader_sees(real_fixture):
    done = harvest("--from-file", str(real_fixture("csv_koeln_btw2013_ergebnis_stadtteil.csv")))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith("csv_koeln_btw2013_ergebnis_stadtteil.csv: a text table, read as csv")
    assert lines[1:7] == [
        "  encoding: 'utf-8'",
        "  delimiter: ';'",
        "  title block: 0 row(s)",
        "  header: row 1, 1 row(s) deep",
        "  columns: 102",
        "     1  Nr",
    ]
    assert "    26  GRÜNE" in lines and "    31  DIE LINKE_Proz" in lines


def test_a_table_rule_of_the_config_shows_how_each_column_classifies(tmp_path, real_fixture):
    mapping = {
        "id": "koeln-btw-2013",
        "city": "mainz",
        "area": {"column": "Name", "level": "ortsbezirk"},
        "period": {"value": "2013-09-22"},
        "ignore": ["Nr"],
        "values": [
            {"header": "Wahlberechtigte", "indicator": "eligible_voters"},
            {
                "match": "(?P<dimension_value>CDU|SPD)",
                "indicator": "votes_by_party",
                "dimension": "party",
            },
        ],
    }
    rules = [{"match": {"name": "koeln", "format": "CSV"}, "mapping": mapping}]
    mainz = write(
        tmp_path / "mainz.yaml",
        {"city": "mainz", "source": {"protocol": "manifest", "path": "m.yaml"}, "tables": rules},
    )
    done = harvest(
        "--config",
        str(mainz),
        "--from-file",
        str(real_fixture("csv_koeln_btw2013_ergebnis_stadtteil.csv")),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "     1  Nr\tignored" in lines
    assert "     2  Name\tarea" in lines
    assert "     3  MaxSchnellmeldungen\tunmapped" in lines
    [cdu] = [line for line in lines if line.startswith("    14  CDU\t")]
    assert "indicator votes_by_party" in cdu and "dimension_value CDU" in cdu
    assert f"  table rule 1 of {mainz} (mapping koeln-btw-2013): rejected" in done.stdout
    assert "    unmapped-column: Column 'MaxSchnellmeldungen'" in done.stdout


def test_a_spreadsheet_and_its_rule(tmp_path):
    workbook = tmp_path / "Einwohner_Ortsbezirke.xlsx"
    frame = pd.DataFrame({"Ortsbezirk": ["Altstadt", "Neustadt"], "2023": [21512, 29800]})
    frame.to_excel(workbook, index=False)
    shipped = config.default_path("mainz").parent.parent / "mappings"
    rule = {
        "match": {"title": "Einwohner.*Ortsbez", "format": "XLSX"},
        "mapping": str(shipped / "mainz-einwohner-ortsbezirke.yaml"),
    }
    source = {"protocol": "manifest", "path": "m.yaml"}
    mainz = write(tmp_path / "mainz.yaml", {"city": "mainz", "source": source, "tables": [rule]})
    done = harvest("--config", str(mainz), "--from-file", str(workbook))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith("a spreadsheet (XLSX), read as xlsx")
    assert "     1  Ortsbezirk\tarea" in lines
    assert "mapping mainz-einwohner-ortsbezirke): valid; 2 rows in, 2 observations out" in lines[-1]


# --- what is not read ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.csv", b"", "is empty"),
        ("page.html", b"<!DOCTYPE html><html><body>Wartung</body></html>", "is an HTML page"),
        ("x.json", b'{"a": 1}', "is JSON, but none of"),
        ("x.json", b'{"a": ', "looks like JSON but is not valid JSON"),
        ("feed.xml", b'<?xml version="1.0"?><rss></rss>', "is XML but not RDF"),
    ],
)
def test_a_file_of_no_known_kind_is_a_usage_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    done = harvest("--from-file", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"error: {path} {message}" in done.stderr


def test_an_unreadable_file_is_a_usage_error(tmp_path):
    done = harvest("--from-file", str(tmp_path / "nowhere.csv"))
    assert done.returncode == 2
    assert (
        f"error: cannot read {tmp_path / 'nowhere.csv'}: No such file or directory" in done.stderr
    )


def test_a_file_a_reader_refuses_fails_with_its_reason(tmp_path):
    old_excel = tmp_path / "tabelle.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    done = harvest("--from-file", str(old_excel))
    assert done.returncode == 1
    assert "the table reader refuses it: unsupported-format: Old Excel format" in done.stderr
    broken = tmp_path / "catalog.ttl"
    broken.write_text("@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<a> a dcat:Dataset\n")
    done = harvest("--from-file", str(broken))
    assert done.returncode == 1
    assert "is not valid RDF (turtle)" in done.stderr
