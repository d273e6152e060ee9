"""A small HTTP server that replays recorded city-portal payloads (for tests and the local demo).

It serves a directory laid out like this (every part optional)::

    files/<path>                 GET /files/<path>            static files, with ETag/Last-Modified and 304s
    ckan/packages/*.json         GET /ckan/api/3/action/package_search|package_show
                                     (fq=organization:X, rows, start)
    dcat/<name>                  GET /dcat/<name>[?page=N]    page N>1 is served from <stem>-page<N><suffix>
    ods/datasets/*.json          GET /ods/api/explore/v2.1/catalog/datasets[?limit&offset]
                                 GET /ods/api/explore/v2.1/catalog/datasets/<id>/exports/csv
    ods/exports/<id>.csv
    (generated, not a directory)  GET /oparl/<city>/…          the demo council's OParl systems
                                  GET /demo-ratsinfo/<city>/…  their objects' ``web`` pages
                                     (``council=CouncilDemo(…)``, ``--council DIR``;
                                     demo/council/__init__.py says what they serve)

``{base}`` in any text payload is replaced by the server's own URL, so recorded
catalogues point back at it. Faults can be injected per path for tests:
``server.faults["/files/x.csv"] = {"status": 500, "times": 2}`` or ``{"delay": 5}``
or ``{"body": b"<html>…", "content_type": "text/html"}`` or ``{"truncate": 100}``; ``"headers"``
adds response headers to a ``body`` fault (e.g. ``{"Content-Encoding": "gzip"}``); ``"query"``
limits a fault to requests with those query parameters (``{"query": {"start": "2"}, …}``: a page).

Run it by hand: ``python demo/replay.py demo/payloads --port 8765 [--council .stack/demo-council]``.
It binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import json
import re
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


class LoopbackServer(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 (port 0: any free one) served from a background thread."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0):
        super().__init__(("127.0.0.1", port), handler)
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self):
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ReplayServer(LoopbackServer):
    def __init__(self, root: Path, port: int = 0, council: Any = None):
        super().__init__(_Handler, port)
        self.root = Path(root)
        self.council = council  # a demo.council.CouncilDemo, or None: no /oparl/
        self.faults: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[str, str]] = []  # (method, path with query) of every request


class _Handler(BaseHTTPRequestHandler):
    server: ReplayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    def do_GET(self) -> None:  # http.server's naming
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.server.log.append(("GET", self.path))
        fault = self.server.faults.get(url.path)
        if fault and any(query.get(k) != str(v) for k, v in fault.get("query", {}).items()):
            fault = None
        if fault and fault.get("times", 1) > 0:
            if "times" in fault:
                fault["times"] -= 1
            if fault.get("delay"):
                time.sleep(fault["delay"])
            if fault.get("status"):
                return self._send(fault["status"], b"Internal Server Error", "text/plain")
            if "body" in fault:
                return self._send(
                    200,
                    fault["body"],
                    fault.get("content_type", "text/html"),
                    headers=fault.get("headers"),
                )
        try:
            body, content_type, stamp = self._route(url.path, query)
        except FileNotFoundError:
            return self._send(
                404, b'{"success": false, "error": {"__type": "Not Found"}}', "application/json"
            )
        except ValueError as error:  # demo.council.BadRequest: a malformed OParl filter
            return self._send(400, json.dumps({"error": str(error)}).encode(), "application/json")
        if fault and "truncate" in fault:
            body = body[: fault["truncate"]]
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", content_type, etag=etag)
        self._send(200, body, content_type, etag=etag, last_modified=stamp)

    def _route(self, path: str, query: dict[str, str]) -> tuple[bytes, str, float | None]:
        root = self.server.root
        if self.server.council is not None and path.startswith(("/oparl/", "/demo-ratsinfo/")):
            return self.server.council.route(self.server.base, path, query)
        if path.startswith("/files/"):
            return self._file(root / "files" / path[len("/files/") :])
        if path.startswith("/ckan/api/3/action/"):
            return self._ckan(path.rsplit("/", 1)[-1], query)
        if path.startswith("/dcat/"):
            target = root / "dcat" / path[len("/dcat/") :]
            page = int(query.get("page", "1") or 1)
            if page > 1:
                target = target.with_name(f"{target.stem}-page{page}{target.suffix}")
            body, _, stamp = self._file(target)
            kind = "text/turtle" if target.suffix == ".ttl" else "application/rdf+xml"
            return body, kind, stamp
        if path.startswith("/ods/api/explore/v2.1/catalog/datasets"):
            return self._ods(path[len("/ods/api/explore/v2.1/catalog/datasets") :], query)
        raise FileNotFoundError(path)

    def _safe(self, path: Path) -> Path:
        resolved = path.resolve()
        if self.server.root.resolve() not in resolved.parents or not resolved.is_file():
            raise FileNotFoundError(path)
        return resolved

    def _text(self, body: bytes) -> bytes:
        return body.replace(b"{base}", self.server.base.encode())

    def _file(self, path: Path) -> tuple[bytes, str, float]:
        path = self._safe(path)
        body = path.read_bytes()
        types = {
            ".csv": "text/csv",
            ".json": "application/json",
            ".rdf": "application/rdf+xml",
            ".ttl": "text/turtle",
            ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
        if path.suffix in (".json", ".rdf", ".ttl", ".yaml"):
            body = self._text(body)
        return body, types.get(path.suffix, "application/octet-stream"), path.stat().st_mtime

    def _records(self, folder: str) -> list[dict[str, Any]]:
        directory = self.server.root / folder
        files = sorted(directory.glob("*.json")) if directory.is_dir() else []
        return [json.loads(self._text(f.read_bytes())) for f in files]

    def _ckan(self, action: str, query: dict[str, str]) -> tuple[bytes, str, None]:
        packages = self._records("ckan/packages")
        if action == "package_show":
            found = [p for p in packages if query.get("id") in (p["id"], p["name"])]
            if not found:
                raise FileNotFoundError(query.get("id"))
            result: Any = found[0]
        elif action == "package_search":
            # only the organisation clause of fq is applied (the reader adds a dataset_type
            # clause, which this server ignores like a portal that lacks it)
            organization = re.search(r'organization:"?([\w-]+)', query.get("fq", ""))
            if organization:
                wanted = organization[1]
                packages = [
                    p for p in packages if (p.get("organization") or {}).get("name") == wanted
                ]
            start, rows = int(query.get("start", 0)), int(query.get("rows", 10))
            result = {"count": len(packages), "results": packages[start : start + rows]}
        else:
            raise FileNotFoundError(action)
        body = json.dumps({"help": "", "success": True, "result": result}).encode()
        return body, "application/json", None

    def _ods(self, rest: str, query: dict[str, str]) -> tuple[bytes, str, float | None]:
        if rest.endswith("/exports/csv"):
            return self._file(self.server.root / "ods" / "exports" / (rest.split("/")[1] + ".csv"))
        datasets = self._records("ods/datasets")
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
        body = json.dumps(
            {"total_count": len(datasets), "results": datasets[offset : offset + limit]}
        ).encode()
        return body, "application/json; charset=utf-8", None

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        etag: str | None = None,
        last_modified: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(
                status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            )
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            if last_modified:
                self.send_header(
                    "Last-Modified", email.utils.formatdate(last_modified, usegmt=True)
                )
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Replay recorded city-portal payloads on 127.0.0.1."
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--council", type=Path, help="serve the demo council systems, their files rendered here"
    )
    parser.add_argument("--council-papers", type=int, help="papers per city (default 200)")
    args = parser.parse_args()
    council = None
    if args.council:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
        from demo.council import CouncilDemo

        sizes = {"papers": args.council_papers} if args.council_papers else {}
        council = CouncilDemo(args.council, **sizes)
    server = ReplayServer(args.root, args.port, council=council)
    print(f"replaying {args.root} at {server.base}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
