"""The OParl reader over real payloads and each vendor quirk, through a real local HTTP server.

Every real System and Body of ``../shared/fixtures/real/oparl/`` (30 councils: SD.NET/Sternberg,
SessionNet, ALLRIS …) is served with its host rewritten to 127.0.0.1, and the spec's OParl 1.1
examples as a whole system; then one test per documented vendor quirk, and the text of the
file kinds a council publishes.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import docx
import odfdo
import pytest

from tests.harvesters.oparl_server import OParlServer, make_pdf
from vierstaedte_harvest.council.client import (
    Client,
    CouncilFetcher,
    Pace,
    host_of,
    parse_json,
)
from vierstaedte_harvest.council.extract import Limits, extract
from vierstaedte_harvest.council.quirks import objects, remove_timestamps, request_day_timestamps
from vierstaedte_harvest.council.reader import ListRead, Reader, lists_of
from vierstaedte_harvest.fetch import HttpSettings

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real" / "oparl"
SYSTEMS = sorted((FIXTURES / "systems").glob("*.json"))
SPEC = FIXTURES / "spec-1.1-examples"
HTTP = HttpSettings(timeout=2, retries=2, backoff=0, allow_private_addresses=["127.0.0.1/32"])


def reader_for(server: OParlServer, per_second: float = 1000, **limits) -> Reader:
    fetcher = CouncilFetcher(HTTP, {host_of(server.base)}, Pace(per_second))
    return Reader(Client(fetcher), limits.get("max_pages", 100), limits.get("max_objects", 10_000))


def walk(reader: Reader, system_url: str):
    """System → Bodies → every list: (type, object) of everything read, and the ListReads."""
    found, reads, counts = [], [], collections.Counter()
    system, _ = reader.document(system_url)
    found += list(objects(system, "system", counts))
    read = ListRead(system["id"], "body", system["body"])
    bodies = [b for page in reader.pages(read) for b in page]
    reads.append(read)
    for body in bodies:
        found += list(objects(body, "body", counts))
        for name, url in lists_of(body):
            read = ListRead(body["id"], name, url)
            for page in reader.pages(read):
                for obj in page:
                    found += list(objects(obj, name, counts))
            reads.append(read)
    return found, reads, counts


def _local(text: str, host: str, base: str) -> dict:
    return json.loads(text.replace(host, base))


@pytest.mark.parametrize("path", SYSTEMS, ids=[p.stem for p in SYSTEMS])
def test_every_real_system_and_body_is_read(path):
    assert len(SYSTEMS) == 29
    raw = path.read_text(encoding="utf-8")
    system = json.loads(raw)
    parts = urlsplit(system["id"])
    host = f"{parts.scheme}://{parts.netloc}"
    with OParlServer(empty_lists=True) as server:
        system = _local(raw, host, server.base)
        body_text = (FIXTURES / "bodies" / path.name).read_text(encoding="utf-8")
        body = _local(body_text, host, server.base)
        server.put(urlsplit(system["id"]).path, system)
        server.put_list(urlsplit(system["body"]).path, [body])
        found, reads, _ = walk(reader_for(server), system["id"])
        # the System's id may carry a query (…/system.asp): it is served by its path
        assert all(read.complete for read in reads), [r.problems for r in reads]
        kinds = collections.Counter(t for t, _ in found)
        assert kinds["system"] == 1 and kinds["body"] == 1
        assert system["oparlVersion"] == "https://schema.oparl.org/1.0/"
        # every external list the Body names was read, and nothing else was asked for
        asked = {urlsplit(entry).path for entry in server.log}
        for name, url in lists_of(body):
            assert urlsplit(url).path in asked, name
        assert {name for name, _ in lists_of(body)} >= {
            "organization",
            "person",
            "meeting",
            "paper",
        }
        embedded = body.get("legislativeTerm") or []
        assert kinds["legislativeTerm"] == sum(
            1 for term in embedded if isinstance(term, dict) and term.get("id")
        )
        if isinstance(body.get("location"), dict) and body["location"].get("id"):
            assert kinds["location"] == 1


def test_the_spec_examples_are_one_oparl_1_1_system_read_whole():
    with OParlServer() as server:
        examples = {
            p.stem.split("-")[0]: _local(
                p.read_text("utf-8"), "https://oparl.example.org", "{base}"
            )
            for p in SPEC.glob("*.json")
        }
        system, body = examples["System"], examples["Body"]
        server.put("/", system)
        server.put_list("/bodies", [body])
        paths = {
            "organization": ("/body/0/organizations/", "Organization"),
            "person": ("/body/0/persons/", "Person"),
            "meeting": ("/body/0/meetings/", "Meeting"),
            "paper": ("/body/0/papers/", "Paper"),
            "file": ("/body/0/files/", "File"),
            "locationList": ("/body/0/locations/", "Location"),
        }
        for path, example in paths.values():
            server.put_list(path, [examples[example]])
        for path in ("/body/0/agendaItems/", "/body/0/consultations/", "/body/0/memberships/"):
            server.put_list(path, [])
        found, reads, counts = walk(reader_for(server), server.url("/"))
    assert all(read.complete for read in reads)
    assert {read.name for read in reads} == {
        "body", "organization", "person", "membership", "location", "meeting", "agendaItem",
        "paper", "consultation", "file",
    }  # fmt: skip
    by_id = collections.defaultdict(set)
    for short_type, obj in found:
        by_id[short_type].add(obj["id"])
    base = server.base
    # the Paper's embedded main and auxiliary files, consultation and location are objects too
    assert {f"{base}/files/57737", f"{base}/files/57739"} <= by_id["file"]
    assert f"{base}/consultation/47594" in by_id["consultation"]
    assert f"{base}/locations/29856" in by_id["location"]
    assert f"{base}/term/21" in by_id["legislativeTerm"]
    assert by_id["paper"] == {f"{base}/paper/749"} and by_id["meeting"] == {f"{base}/meeting/281"}
    assert f"{base}/body/0" in by_id["body"]
    assert not counts  # the spec's own examples need no repair


def test_paging_follows_links_next_to_the_end():
    with OParlServer() as server:
        papers = [{"id": f"{{base}}/paper/{n}", "type": "https://schema.oparl.org/1.1/Paper"}
                  for n in range(45)]  # fmt: skip
        server.put_list("/papers", papers, per_page=10)
        read = ListRead("b", "paper", server.url("/papers"))
        got = [o["id"] for page in reader_for(server).pages(read) for o in page]
    assert read.complete and read.pages == 5 and len(got) == 45 == len(set(got))


# --- the vendor quirks, one test each ------------------------------------------------------


def test_sessionnet_gets_modified_since_unencoded_and_only_what_changed():
    """SessionNet does not decode a percent-encoded modified_since: it is sent literally."""
    with OParlServer() as server:
        server.put_list(
            "/papers",
            [
                {"id": "{base}/paper/old", "modified": "2024-01-01T10:00:00+01:00"},
                {"id": "{base}/paper/new", "modified": "2024-05-02T10:00:00+02:00"},
            ],
        )
        read = ListRead("b", "paper", server.url("/papers"), since="2024-05-01T08:00:00Z")
        got = [o["id"] for page in reader_for(server).pages(read) for o in page]
        assert server.log == ["/papers?modified_since=2024-05-01T08:00:00Z"]
    assert read.complete and got == [f"{server.base}/paper/new"]


def test_sessionnet_spurious_http_500s_are_retried():
    with OParlServer() as server:
        server.put_list("/papers", [{"id": "{base}/paper/1"}])
        server.faults["/papers"] = {"status": 500, "times": 2}
        read = ListRead("b", "paper", server.url("/papers"))
        got = [o for page in reader_for(server).pages(read) for o in page]
        assert len(server.log) == 3  # two 500s, then the page
    assert read.complete and len(got) == 1


def test_allris_single_auxiliary_file_becomes_a_list():
    counts = collections.Counter()
    paper = {
        "id": "https://ris/paper/1",
        "type": "https://schema.oparl.org/1.0/Paper",
        "auxiliaryFile": {"id": "https://ris/file/2", "type": "https://schema.oparl.org/1.0/File"},
    }
    found = list(objects(paper, "paper", counts))
    assert paper["auxiliaryFile"] == [{"id": "https://ris/file/2", "type": found[1][1]["type"]}]
    assert [t for t, _ in found] == ["paper", "file"] and counts["auxiliary-file"] == 1


def test_allris_mime_type_pdf_becomes_a_media_type():
    counts = collections.Counter()
    item = {"id": "https://ris/file/1", "mimeType": "pdf", "accessUrl": "https://ris/f.pdf"}
    list(objects(item, "file", counts))
    assert item["mimeType"] == "application/pdf" and counts["mime-type"] == 1
    odd = {"id": "https://ris/file/2", "mimeType": "application/pdf"}
    list(objects(odd, "file", counts))
    assert odd["mimeType"] == "application/pdf" and counts["mime-type"] == 1


def test_allris_raw_control_characters_in_json_are_repaired():
    body = b'{"data": [{"id": "{base}/paper/1", "name": "Antrag\x0b zur\x01 Kita\nneu"}]}'
    with OParlServer() as server:
        server.put_raw("/papers", body)
        read = ListRead("b", "paper", server.url("/papers"))
        got = [o for page in reader_for(server).pages(read) for o in page]
    assert read.complete and "control-characters" in read.repairs
    assert got[0]["name"].startswith("Antrag") and "Kita" in got[0]["name"]
    with pytest.raises(ValueError):
        json.loads(body)  # the bytes really are invalid JSON


def test_sternberg_missing_type_is_inferred_from_the_list_and_the_key():
    counts = collections.Counter()
    paper = {"id": "https://sd/paper/1", "mainFile": {"id": "https://sd/file/1"}}
    found = list(objects(paper, "paper", counts))
    assert [(t, o["id"]) for t, o in found] == [
        ("paper", "https://sd/paper/1"),
        ("file", "https://sd/file/1"),
    ]
    assert counts["type-inferred"] == 2


def test_more_rubin_request_day_timestamps_are_detected_and_removed():
    now = dt.datetime.now(dt.UTC)
    today = now.isoformat(timespec="seconds")
    page = [{"id": f"p{n}", "created": today, "modified": today} for n in range(5)]
    assert request_day_timestamps(page, now)
    real = [dict(o, created="2021-03-04T10:00:00+01:00") for o in page]
    assert not request_day_timestamps(real, now)
    assert not request_day_timestamps(page[:2], now)  # too few to tell
    counts = collections.Counter()
    obj = dict(page[0], mainFile={"id": "f", "created": today, "modified": today})
    remove_timestamps(obj, counts)
    assert "modified" not in obj and "created" not in obj["mainFile"]
    assert counts["timestamps-removed"] == 4


def test_requests_to_one_host_are_paced():
    with OParlServer() as server:
        server.put_list("/papers", [{"id": f"{{base}}/paper/{n}"} for n in range(4)], per_page=1)
        read = ListRead("b", "paper", server.url("/papers"))
        start = time.monotonic()
        list(reader_for(server, per_second=4).pages(read))
        took = time.monotonic() - start
    assert read.pages == 4 and took >= 0.7  # 4 requests at 4/s: 3 gaps of 0.25 s


def test_json_parser_reports_what_it_cannot_read():
    value, repairs = parse_json('{"name": "Müll"}'.encode("cp1252"), "u")
    assert value == {"name": "Müll"} and repairs == ["not-utf8"]


# --- file texts -----------------------------------------------------------------------------

LIMITS = Limits(seconds=20, memory=512 * 1024 * 1024)


def test_pdf_text_comes_from_pdftotext(tmp_path):
    path = tmp_path / "vorlage.pdf"
    path.write_bytes(make_pdf(["Bebauungsplan Gonsenheim", "Zweite Seite: Radverkehr"]))
    result = extract(path, LIMITS)
    assert result.status == "ok" and result.mime_type == "application/pdf"
    assert "Bebauungsplan Gonsenheim" in result.text and "Radverkehr" in result.text


def test_a_pdf_without_a_text_layer_is_empty(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([], stream=b"q 595 0 0 842 0 0 cm Q"))
    assert extract(path, LIMITS).status == "empty"


def test_docx_and_odt_texts(tmp_path):
    document = docx.Document()
    document.add_paragraph("Antrag der Fraktion: Klimaschutz in Trier-Pfalzel")
    document.save(tmp_path / "antrag.docx")
    result = extract(tmp_path / "antrag.docx", LIMITS)
    assert result.status == "ok" and "Klimaschutz in Trier-Pfalzel" in result.text
    odt = odfdo.Document("text")
    odt.body.append(odfdo.Paragraph("Anfrage zur Kita Karthause"))
    odt.save(tmp_path / "anfrage.odt")
    result = extract(tmp_path / "anfrage.odt", LIMITS)
    assert result.status == "ok" and "Kita Karthause" in result.text
    assert result.mime_type == "application/vnd.oasis.opendocument.text"


def test_other_files_are_unsupported(tmp_path):
    (tmp_path / "bild.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert extract(tmp_path / "bild.png", LIMITS).status == "unsupported"


# --- the council: section of a city config -------------------------------------------------


def test_the_documented_council_settings_are_the_dataclass():
    import dataclasses
    import re
    import typing

    from tests.harvesters.test_settings import ROOT, shown
    from vierstaedte_harvest import settings
    from vierstaedte_harvest.config import CouncilSettings

    hints = typing.get_type_hints(CouncilSettings)
    expected = [
        (f"`{f.name}`", settings.describe(f, hints[f.name]), shown(f))
        for f in dataclasses.fields(CouncilSettings)
    ]
    text = (ROOT / "docs" / "harvesters.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- settings: council -->\n\n((?:\|.*\n)+)", text)
    cells = [
        [c.strip() for c in line.strip("|").split(" | ")] for line in table[1].splitlines()[2:]
    ]
    assert [(key, kind, default) for key, kind, default, _ in cells] == expected


def test_an_unknown_council_key_is_a_usage_error(tmp_path):
    import subprocess

    from tests.harvesting import command

    config = tmp_path / "mainz.yaml"
    config.write_text(
        "city: mainz\nsource: {protocol: manifest, path: x.yaml}\n"
        "council: {url: 'https://ris.example/oparl', max_request_per_second: 2}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        command("council", "run", "mainz", "--config", str(config)),
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "VIERSTAEDTE_API_TOKEN": "x"},
    )
    assert done.returncode == 2
    assert "unknown key council.max_request_per_second" in done.stderr
    assert "did you mean max_requests_per_second?" in done.stderr
    config.write_text("city: mainz\nsource: {protocol: manifest, path: x.yaml}\n", "utf-8")
    done = subprocess.run(
        command("council", "run", "mainz", "--config", str(config)),
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "VIERSTAEDTE_API_TOKEN": "x"},
    )
    assert done.returncode == 2 and "no council section" in done.stderr
