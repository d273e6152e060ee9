"""Hostile OParl systems: bad JSON, loops, foreign hosts, endless lists, bombs, stalls.

Each against a real local HTTP server; each must end the list (or the file) in bounded time
with a report entry, and never make the harvester ask a host it was not configured for.
"""

from __future__ import annotations

import time
import zlib

import pytest

from tests.harvesters.oparl_server import OParlServer, make_pdf
from vierstaedte_contract.council import TEXT_MAX_CHARS
from vierstaedte_harvest.council.client import Client, CouncilFetcher, Pace, host_of
from vierstaedte_harvest.council.extract import Limits, extract
from vierstaedte_harvest.council.reader import ListRead, Reader
from vierstaedte_harvest.fetch import FetchError, HttpSettings

HTTP = HttpSettings(timeout=1, retries=0, backoff=0, allow_private_addresses=["127.0.0.1/32"])


def reader_for(server: OParlServer, max_pages: int = 50, max_objects: int = 10_000) -> Reader:
    fetcher = CouncilFetcher(HTTP, {host_of(server.base)}, Pace(1000))
    return Reader(Client(fetcher), max_pages, max_objects)


def read_all(reader: Reader, url: str) -> tuple[ListRead, list]:
    read = ListRead("b", "paper", url)
    return read, [o for page in reader.pages(read) for o in page]


def test_malformed_json_ends_the_list_and_is_reported():
    with OParlServer() as server:
        server.put_raw("/papers", b'{"data": [{"id": "x", "name": "Haushalt"')
        read, got = read_all(reader_for(server), server.url("/papers"))
    assert not read.complete and got == []
    assert read.problems[0]["code"] == "bad-json" and "/papers" in read.problems[0]["url"]


def test_an_html_error_page_is_named():
    with OParlServer() as server:
        server.put_raw("/papers", b"<html><body>Wartung</body></html>", "text/html")
        read, _ = read_all(reader_for(server), server.url("/papers"))
    assert read.problems[0]["code"] == "bad-json" and "HTML" in read.problems[0]["message"]


def test_a_next_loop_is_detected():
    with OParlServer() as server:
        server.put("/papers", {"data": [{"id": "{base}/p/1"}], "links": {"next": "{base}/p2"}})
        server.put("/p2", {"data": [{"id": "{base}/p/2"}], "links": {"next": "{base}/papers"}})
        read, got = read_all(reader_for(server), server.url("/papers"))
        assert len(server.log) == 2
    assert not read.complete and read.problems[0]["code"] == "next-loop" and len(got) == 2


def test_links_to_a_foreign_host_are_refused_and_never_requested():
    with OParlServer() as foreign, OParlServer() as server:
        foreign.put_list("/papers", [{"id": "evil"}])
        server.put(
            "/papers",
            {"data": [{"id": "{base}/p/1"}], "links": {"next": foreign.url("/papers")}},
        )
        read, got = read_all(reader_for(server), server.url("/papers"))
        fetcher = reader_for(server).client.fetcher
        with pytest.raises(FetchError) as refused:  # also as a file URL or a redirect hop
            fetcher.get_bytes(foreign.url("/papers"))
        assert foreign.log == []
    assert refused.value.code == "foreign-host"
    assert not read.complete and read.problems[0]["code"] == "foreign-host" and len(got) == 1


def test_a_redirect_to_a_foreign_host_is_refused():
    with OParlServer() as foreign, OParlServer() as server:
        foreign.put_list("/papers", [{"id": "evil"}])
        server.faults["/papers"] = {"location": foreign.url("/papers")}
        read, got = read_all(reader_for(server), server.url("/papers"))
        assert foreign.log == [] and server.log == ["/papers"]
    assert not read.complete and read.problems[0]["code"] == "foreign-host" and got == []


def test_an_endless_list_is_capped():
    with OParlServer() as server:
        # every page points to a fresh next page: the list never ends
        for n in range(1, 200):
            server.put(
                f"/p{n}",
                {"data": [{"id": f"{{base}}/paper/{n}"}], "links": {"next": f"{{base}}/p{n + 1}"}},
            )
        read, got = read_all(reader_for(server, max_pages=25), server.url("/p1"))
        assert len(server.log) == 25
    assert not read.complete and read.problems[0]["code"] == "list-capped" and len(got) == 25


def test_too_many_objects_are_capped():
    with OParlServer() as server:
        server.put_list("/papers", [{"id": f"{{base}}/p/{n}"} for n in range(30)], per_page=10)
        read, got = read_all(reader_for(server, max_objects=15), server.url("/papers"))
    assert len(got) == 15 and not read.complete and read.problems[0]["code"] == "list-capped"


def test_a_stalling_server_times_out():
    with OParlServer() as server:
        server.put_list("/papers", [{"id": "{base}/p/1"}])
        server.faults["/papers"] = {"delay": 3}
        start = time.monotonic()
        read, got = read_all(reader_for(server), server.url("/papers"))
    assert time.monotonic() - start < 2.9
    assert not read.complete and read.problems[0]["code"] == "timeout" and got == []


def test_an_oversized_file_is_capped_while_streaming(tmp_path):
    with OParlServer() as server:
        server.put_file("/f/big.pdf", make_pdf(["x" * 80] * 200))
        fetcher = reader_for(server).client.fetcher
        with pytest.raises(FetchError) as error:
            fetcher.download_capped(server.url("/f/big.pdf"), tmp_path, 2_000, 30)
    assert error.value.code == "too-large" and list(tmp_path.iterdir()) == []


def test_a_trickling_file_hits_the_time_cap(tmp_path):
    with OParlServer() as server:
        server.put_file("/f/slow.pdf", make_pdf(["langsam"] * 10))
        server.faults["/f/slow.pdf"] = {"trickle": 0.2}
        fetcher = reader_for(server).client.fetcher
        start = time.monotonic()
        with pytest.raises(FetchError) as error:
            fetcher.download_capped(server.url("/f/slow.pdf"), tmp_path, 10**7, 1.5)
    assert error.value.code == "timeout" and time.monotonic() - start < 5
    assert list(tmp_path.iterdir()) == []


def pdf_bomb(pages: int = 2000, lines: int = 20_000) -> bytes:
    """A 370 kB PDF whose pages share one content stream of 20,000 text lines: 40 million lines."""
    content = b"BT /F1 1 Tf 0.04 TL 10 830 Td "
    content += b"".join(b"(Bombe %d Sitzung) ' " % i for i in range(lines)) + b" ET"
    data = zlib.compress(content, 9)
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
    page += b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    objects += [page] * pages
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_a_pdf_bomb_is_stopped_by_the_limits(tmp_path):
    """Gigabytes of text behind a small PDF: the child hits its limits, the harvester goes on."""
    path = tmp_path / "bomb.pdf"
    path.write_bytes(pdf_bomb())
    assert path.stat().st_size < 1_000_000
    start = time.monotonic()
    result = extract(path, Limits(seconds=3, memory=256 * 1024 * 1024))
    assert time.monotonic() - start < 10
    assert result.status in ("timeout", "failed") or result.capped
    assert len(result.text) <= TEXT_MAX_CHARS
