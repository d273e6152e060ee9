"""Typed settings: a misspelled, missing or mistyped key in a city config stops the command.

Each case writes a real config file and runs the real ``vierstaedte-harvest`` command, as city
IT would after editing it: exit code 2 (usage error) and a message naming the key, the protocol
and the allowed keys. Before, ``organisation:`` was ignored and the CKAN reader listed the whole
state portal. The tables in docs/harvesters.md are checked against the dataclasses.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml

from tests.harvesting import DEMO
from vierstaedte_harvest import config, settings
from vierstaedte_harvest.fetch import HttpSettings
from vierstaedte_harvest.sources import PROTOCOLS, SourceSettings, settings_class

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).with_name("vierstaedte-harvest"))
SOURCES = {
    "ckan": {"protocol": "ckan", "url": "https://daten.rlp.de", "organization": "stadt_mainz"},
    "dcat": {"protocol": "dcat", "url": "https://daten.rlp.de/catalog.rdf", "publisher": "x"},
    "opendatasoft": {"protocol": "opendatasoft", "url": "https://ods.example.de"},
    "manifest": {"protocol": "manifest", "url": "https://example.de/manifest.yaml"},
}


def harvest(tmp_path: Path, document: dict, *command: str) -> subprocess.CompletedProcess:
    """``vierstaedte-harvest COMMAND mainz --config FILE`` with ``document`` as the file."""
    path = tmp_path / "mainz.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VIERSTAEDTE_")}
    return subprocess.run(
        [CLI, *(command or ("list-sources",)), "mainz", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )


def refused(tmp_path: Path, document: dict, *command: str) -> str:
    """The error line of a command that refused the config as a usage error."""
    done = harvest(tmp_path, document, *command)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    return done.stderr.strip()


def mainz(base: dict | None = None, **source: typing.Any) -> dict:
    return {"city": "mainz", "source": {**(base or {}), **source}}


@pytest.mark.parametrize(
    "protocol, typo, meant",
    [
        ("ckan", "organisation", "organization"),
        ("dcat", "publsher", "publisher"),
        ("opendatasoft", "were", "where"),
        ("manifest", "pth", "path"),
    ],
)
def test_a_misspelled_source_key_is_a_usage_error(tmp_path, protocol, typo, meant):
    source = dict(SOURCES[protocol], **{typo: "stadt_mainz"})
    allowed = ", ".join(sorted(["protocol", *settings.keys(settings_class(protocol))]))
    assert refused(tmp_path, mainz(**source)) == (
        f"error: {tmp_path / 'mainz.yaml'}: unknown key source.{typo} for protocol {protocol} "
        f"(did you mean {meant}?); allowed: {allowed}"
    )


def test_the_run_command_refuses_it_too_before_anything_else(tmp_path):
    source = dict(SOURCES["ckan"], organisation="stadt_mainz")
    del source["organization"]
    message = refused(tmp_path, mainz(**source), "run")  # no token, no CKAN: the config comes first
    assert (
        "unknown key source.organisation for protocol ckan (did you mean organization?)" in message
    )


@pytest.mark.parametrize(
    "document, message",
    [
        (
            dict(mainz(SOURCES["ckan"]), tabels=[]),
            "unknown key tabels (did you mean tables?); allowed: city, council, defaults, http, "
            "source, tables",
        ),
        (
            dict(mainz(SOURCES["ckan"]), http={"timout": 5}),
            "unknown key http.timout (did you mean timeout?); allowed: allow_private_addresses, "
            "backoff, max_bytes, retries, timeout",
        ),
        (
            dict(mainz(SOURCES["ckan"]), defaults={"licence": "dl-by-de/2.0"}),
            "unknown key defaults.licence (did you mean license?); allowed: frequency, license, "
            "non_open_licences, spatial_granularity, themes",
        ),
        (
            dict(
                mainz(SOURCES["ckan"]),
                tables=[{"match": {"title": "x"}, "mapping": "m.yaml", "granularity": "stadtteil"}],
            ),
            "unknown key tables[1].granularity (did you mean spatial_granularity?); allowed: mapping, "
            "match, spatial_granularity",
        ),
        (
            dict(mainz(SOURCES["ckan"]), tables=[{"match": {"titel": "x"}, "mapping": "m.yaml"}]),
            "unknown key tables[1].match.titel (did you mean title?); allowed: format, name, resource, "
            "title, url",
        ),
        (
            dict(mainz(SOURCES["ckan"]), colour="red"),
            "unknown key colour; allowed: city, council, defaults, http, source, tables",
        ),
    ],
    ids=["top-level", "http", "defaults", "tables", "tables-match", "no-close-match"],
)
def test_a_misspelled_key_elsewhere_is_a_usage_error(tmp_path, document, message):
    assert refused(tmp_path, document) == f"error: {tmp_path / 'mainz.yaml'}: {message}"


@pytest.mark.parametrize(
    "document, message",
    [
        (
            mainz(SOURCES["ckan"], rows="100"),
            "source.rows must be a whole number from 1 to 1000, not '100'",
        ),
        (mainz(SOURCES["ckan"], max_pages=0), "source.max_pages must be a whole number ≥ 1, not 0"),
        (
            mainz(SOURCES["ckan"], max_datasets=True),
            "source.max_datasets must be a whole number ≥ 1, not True",
        ),
        (
            mainz(SOURCES["dcat"], format="json-ld"),
            "source.format must be one of xml, turtle, not 'json-ld'",
        ),
        (
            mainz(SOURCES["dcat"], publisher=["a", "b"]),
            "source.publisher must be text, not ['a', 'b']",
        ),
        (
            mainz(SOURCES["opendatasoft"], refine=3),
            "source.refine must be text or a list (text each), not 3",
        ),
        (
            mainz(SOURCES["manifest"], max_withdraw="half"),
            "source.max_withdraw must be a share from 1% to 100% or a whole number ≥ 0 of datasets, "
            "not 'half'",
        ),
        (
            dict(mainz(SOURCES["ckan"]), http={"retries": "many"}),
            "http.retries must be a whole number ≥ 0, not 'many'",
        ),
        (
            dict(mainz(SOURCES["ckan"]), defaults={"themes": "REGI"}),
            "defaults.themes must be a list (text each), not 'REGI'",
        ),
        (
            dict(mainz(SOURCES["ckan"]), defaults={"frequency": "YEARLY"}),
            "defaults.frequency must be one of ANNUAL, ANNUAL_2, BIENNIAL, DAILY, IRREG, MONTHLY, NEVER, "
            "QUARTERLY, UNKNOWN, WEEKLY, not 'YEARLY'",
        ),
        (
            dict(mainz(SOURCES["ckan"]), tables={"match": {"title": "x"}, "mapping": "m.yaml"}),
            "tables must be a list (a mapping of keys to values each), not {'mapping': 'm.yaml', "
            "'match': {'title': 'x'}}",
        ),
        (
            {"city": "mainz", "source": "ckan"},
            "source must be a mapping of keys to values, not 'ckan'",
        ),
    ],
    ids=[
        "rows-text",
        "max-pages-0",
        "max-datasets-bool",
        "dcat-format",
        "publisher-list",
        "refine-number",
        "max-withdraw",
        "http-retries",
        "themes-text",
        "frequency",
        "tables-dict",
        "source-text",
    ],
)
def test_a_value_of_the_wrong_type_is_a_usage_error(tmp_path, document, message):
    assert refused(tmp_path, document) == f"error: {tmp_path / 'mainz.yaml'}: {message}"


@pytest.mark.parametrize(
    "document, message",
    [
        (
            mainz(protocol="ckan", organization="stadt_mainz"),
            "source.url is required for protocol ckan",
        ),
        (mainz(protocol="dcat"), "source.url is required for protocol dcat"),
        (mainz(protocol="opendatasoft"), "source.url is required for protocol opendatasoft"),
        (mainz(protocol="manifest"), "source.path or source.url is required for protocol manifest"),
        (
            mainz(SOURCES["manifest"], path="manifest.yaml"),
            "source.path and source.url: give one, not both",
        ),
        (
            mainz(protocol="ckan", url="https://x", organization="a", fq="groups:b"),
            "source.organization and source.fq: give one, not both (to filter by both, "
            "fq: 'organization:a AND …')",
        ),
        ({"source": SOURCES["ckan"]}, "city is required"),
        ({"city": "mainz"}, "source is required"),
        (
            dict(mainz(SOURCES["ckan"]), tables=[{"match": {"title": "x"}}]),
            "tables[1].mapping is required",
        ),
    ],
    ids=[
        "ckan-url",
        "dcat-url",
        "ods-url",
        "manifest-location",
        "manifest-both",
        "ckan-two-filters",
        "city",
        "source",
        "tables-mapping",
    ],
)
def test_a_missing_key_is_a_usage_error(tmp_path, document, message):
    assert refused(tmp_path, document) == f"error: {tmp_path / 'mainz.yaml'}: {message}"


def test_a_good_config_passes_the_check(tmp_path):
    """The same command with the key spelled right gets past the config (and fails later)."""
    done = harvest(tmp_path, mainz(SOURCES["manifest"]), "run")
    assert (done.returncode, done.stderr.strip()[:22]) == (2, "error: no API token: s")


def test_a_misspelled_mapping_key_is_a_usage_error_too(tmp_path):
    mapping = tmp_path / "mainz-test.yaml"
    mapping.write_text(
        "id: mainz-test\ncity: mainz\narea: {value: Mainz}\n"
        "valeus: [{header: Einwohner, indicator: population_total}]\n"
    )
    table = tmp_path / "table.csv"
    table.write_text("Einwohner\n218578\n")
    done = subprocess.run(
        [CLI, "validate", str(table), "-m", str(mapping)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: mapping: unknown key(s) valeus (did you mean values?); allowed: area, areas, "
        "city, dimensions, id, ignore, ignore_match, indicators, number_format, period, read, "
        "rows, unit, unmapped, values"
    )


INLINE = {
    "id": "mainz-test",
    "city": "mainz",
    "area": {"value": "Mainz"},
    "values": [{"header": "Einwohner", "indicator": "population_total"}],
}


def test_a_mapping_written_in_place_is_checked_like_a_mapping_file(tmp_path):
    """``tables[].mapping`` may hold the mapping itself: a new city needs no second file."""
    rule = {"match": {"title": "Einwohner"}, "mapping": INLINE}
    good = harvest(tmp_path, {**mainz(SOURCES["manifest"]), "tables": [rule]}, "run")
    assert (good.returncode, good.stderr.strip()[:22]) == (2, "error: no API token: s")
    typo = {**rule, "mapping": {**INLINE, "valeus": INLINE["values"]}}
    message = refused(tmp_path, {**mainz(SOURCES["manifest"]), "tables": [typo]})
    assert "tables[1]: mapping: unknown key(s) valeus (did you mean values?)" in message


SHIPPED = sorted(
    path
    for path in (ROOT / "harvesters" / "vierstaedte_harvest" / "cities").glob("*.yaml")
    if not path.stem.endswith("-manifest")
) + sorted((DEMO / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_shipped_config_loads_into_its_readers_settings(path):
    loaded = config.load(path.stem, path)
    assert type(loaded.source) is settings_class(loaded.protocol)
    assert isinstance(loaded.http, HttpSettings)


def test_the_readers_get_settings_not_dicts():
    loaded = config.load("mainz")
    assert loaded.source.filter.endswith(" +(organization:stadt_mainz)")  # and datasets only
    assert loaded.source.rows == 100 and loaded.max_datasets == 10_000
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.source.organization = "everyone"


# the tables in docs/harvesters.md, each after a marker <!-- settings: NAME -->
SECTIONS = {
    "top": config.CityFile,
    "source": SourceSettings,
    "http": HttpSettings,
    "defaults": config.Defaults,
    "tables": config.TableSettings,
    **{protocol: settings_class(protocol) for protocol in PROTOCOLS},
}
COMMON = {"max_datasets", "max_withdraw"}  # documented once, in the "source" table


def shown(field: dataclasses.Field) -> str:
    if field.default_factory is not dataclasses.MISSING:
        return f"`{yaml.safe_dump(field.default_factory(), default_flow_style=True).strip()}`"
    if field.default is dataclasses.MISSING:
        return "required"
    if field.default is None:
        return "—"
    return f"`{str(field.default).lower() if isinstance(field.default, bool) else field.default}`"


def expected_rows(name: str) -> list[tuple[str, str, str]]:
    cls = SECTIONS[name]
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name in settings.keys(cls)]
    if name == "source":
        fields = [f for f in fields if f.name in COMMON]
    elif name in PROTOCOLS:
        fields = [f for f in fields if f.name not in COMMON]
    return [(f"`{f.name}`", settings.describe(f, hints[f.name]), shown(f)) for f in fields]


def documented_rows(name: str) -> list[tuple[str, str, str]]:
    text = (ROOT / "docs" / "harvesters.md").read_text(encoding="utf-8")
    table = re.search(rf"<!-- settings: {re.escape(name)} -->\n\n((?:\|.*\n)+)", text)
    assert table, f"docs/harvesters.md has no table after <!-- settings: {name} -->"
    lines = table[1].splitlines()[2:]  # after the header and its rule
    cells = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
    return [(key, kind, default) for key, kind, default, _meaning in cells]


@pytest.mark.parametrize("name", SECTIONS)
def test_the_documented_settings_are_the_dataclasses(name):
    assert documented_rows(name) == expected_rows(name)
