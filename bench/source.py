"""A synthetic city CKAN for the harvest benchmark: N datasets of city statistics, served from memory.

``SourceServer(n).start()`` serves, on 127.0.0.1 (an ephemeral port):

* ``/api/3/action/package_search`` — ``fq`` with ``organization:NAME`` and
  ``metadata_modified:[FROM TO *]`` terms (what both harvesters send), ``rows``,
  ``start``; results sorted by id, as CKAN does with ``sort=id asc``;
* ``/api/3/action/package_show?id=…``;
* ``/files/<n>.csv`` — each dataset's table: a Mainz population export
  (cp1252, ``;``, German numbers, title block, footer), wide by year, with
  ETag and 304 answers to ``If-None-Match``; ``/files/<n>.pdf`` is only linked.

Package dicts look like those of a CKAN with a DCAT-AP.de schema (top-level
``theme``, ``spatial_granularity``, ``temporal_start``), so ckanext-harvest's
CKAN harvester can copy them into our schema unchanged — the fairest start for
the peer. Everything is deterministic: the same N gives the same payloads.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from demo.replay import LoopbackServer

ORTSBEZIRKE = ["01 Altstadt", "Neustadt", "Oberstadt", "Hartenberg/Münchfeld", "Mainz-Gonsenheim"]
TOPICS = [
    ("einwohner", "Einwohner nach Ortsbezirken"),
    ("bevoelkerung", "Bevölkerung mit Hauptwohnsitz"),
    ("wohnbevoelkerung", "Wohnbevölkerung je Ortsbezirk"),
    ("melderegister", "Einwohnerstand laut Melderegister"),
]
THEMES = [
    "http://publications.europa.eu/resource/authority/data-theme/SOCI",
    "http://publications.europa.eu/resource/authority/data-theme/REGI",
]
LICENSE = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
NAMESPACE = uuid.UUID("6b1f1c0e-5c53-4d0c-9a7e-3b2f6f0e0b00")


def table(number: int) -> bytes:
    """One dataset's CSV: five Ortsbezirke × four years, numbers that differ per dataset."""
    rng = random.Random(number)
    years = [2020, 2021, 2022, 2023]
    lines = [
        "Landeshauptstadt Mainz - Hauptamt, Statistik",
        f"Einwohner mit Hauptwohnsitz nach Ortsbezirken, Auswertung {number} (Stand jeweils 31.12.)",
        ";;;;",
        "Ortsbezirk;" + ";".join(map(str, years)),
    ]
    for area in ORTSBEZIRKE:
        values = [f"{rng.randint(5_000, 40_000):,}".replace(",", ".") for _ in years]
        lines.append(f"{area};" + ";".join(values))
    lines += [";;;;", "© Landeshauptstadt Mainz, 2024;;;;", "Quelle: Melderegister;;;;"]
    return ("\n".join(lines) + "\n").encode("cp1252")


def package(number: int, base: str) -> dict:
    slug, title = TOPICS[number % len(TOPICS)]
    ident = str(uuid.uuid5(NAMESPACE, str(number)))
    return {
        "id": ident,
        "name": f"{slug}-ortsbezirke-{number:05d}",
        "title": f"{title} ({number:05d})",
        "notes": f"{title}, Stand jeweils 31.12. Auswertung Nr. {number} des Melderegisters "
        "der Landeshauptstadt Mainz.",
        "type": "dataset",
        "license_id": LICENSE,
        "license_url": LICENSE,
        "metadata_created": "2023-01-10T09:00:00.000000",
        "metadata_modified": "2024-03-01T10:00:00.000000",
        "organization": {"name": "stadt_mainz", "title": "Stadt Mainz"},
        "maintainer": "Hauptamt, Statistik",
        "maintainer_email": "statistik@stadt.mainz.de",
        "tags": [{"name": "Bevölkerung"}, {"name": "Ortsbezirk"}],
        "theme": THEMES,
        "spatial_granularity": "ortsbezirk",
        "temporal_start": "2020-01-01",
        "temporal_end": "2023-12-31",
        "extras": [],
        "resources": [
            {
                "id": str(uuid.uuid5(NAMESPACE, f"{number}/csv")),
                "name": "Einwohner Ortsbezirke (CSV)",
                "format": "CSV",
                "url": f"{base}/files/{number}.csv",
            },
            {
                "id": str(uuid.uuid5(NAMESPACE, f"{number}/pdf")),
                "name": "Erläuterungen (PDF)",
                "format": "PDF",
                "url": f"{base}/files/{number}.pdf",
            },
        ],
    }


class SourceServer(LoopbackServer):
    def __init__(self, count: int, port: int = 0):
        super().__init__(_Handler, port)
        packages = sorted(
            (package(n, self.base) for n in range(1, count + 1)), key=lambda p: p["id"]
        )
        self.packages = packages
        self.json = [json.dumps(p, ensure_ascii=False) for p in packages]  # serialised once
        self.by_id = {key: i for i, p in enumerate(packages) for key in (p["id"], p["name"])}
        self.requests = 0


class _Handler(BaseHTTPRequestHandler):
    server: SourceServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self) -> None:
        self.server.requests += 1
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path.endswith("/api/3/action/package_search"):
            return self._json(self._search(query))
        if url.path.endswith("/api/3/action/package_show"):
            index = self.server.by_id.get(query.get("id", ""))
            if index is None:
                return self._send(
                    404,
                    b'{"success": false, "error": {"__type": "Not Found Error"}}',
                    "application/json",
                )
            return self._json(self.server.json[index])
        if url.path.startswith("/files/") and url.path.endswith(".csv"):
            try:
                number = int(url.path[len("/files/") : -len(".csv")])
            except ValueError:
                number = 0
            if not 1 <= number <= len(self.server.packages):
                return self._send(404, b"not found", "text/plain")
            body = table(number)
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", "text/csv", etag)
            return self._send(200, body, "text/csv; charset=windows-1252", etag)
        self._send(404, b"not found", "text/plain")

    def _search(self, query: dict[str, str]) -> str:
        indexes = range(len(self.server.packages))
        for term in _terms(query.get("fq", "")):
            if term.startswith("organization:"):
                wanted = {o.strip('"()') for o in term.split(":", 1)[1].split(" OR ")}
                indexes = [
                    i for i in indexes if self.server.packages[i]["organization"]["name"] in wanted
                ]
            elif term.startswith("metadata_modified:["):
                since = term.split("[", 1)[1].split(" TO ")[0].rstrip("Z")
                indexes = [
                    i for i in indexes if self.server.packages[i]["metadata_modified"] >= since
                ]
        indexes = list(indexes)
        start, rows = int(query.get("start", 0)), min(int(query.get("rows", 10)), 1000)
        page = ",".join(self.server.json[i] for i in indexes[start : start + rows])
        return f'{{"help": "", "success": true, "result": {{"count": {len(indexes)}, "results": [{page}]}}}}'

    def _json(self, result: str) -> None:
        body = (
            result
            if result.startswith('{"help"')
            else f'{{"help": "", "success": true, "result": {result}}}'
        )
        self._send(200, body.encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str, etag: str | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _terms(fq: str) -> list[str]:
    """Split ``fq`` on spaces outside brackets (``a:b metadata_modified:[x TO *]``)."""
    terms, depth, current = [], 0, ""
    for char in fq:
        depth += char in "[("
        depth -= char in "])"
        if char == " " and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    return [t for t in terms + [current] if t]
