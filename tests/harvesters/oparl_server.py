"""A small OParl server on 127.0.0.1 for the council harvester's tests (real HTTP, real sockets).

Objects and pages are held in memory so that each test states exactly the system it needs:
``put(path, obj)`` serves one object, ``put_list(path, objects, per_page)`` an external list
with ``links.next`` paging that honours ``modified_since`` (parsed the way the harvester sends
it, and refused when percent-encoded, as SessionNet does), ``put_file(path, body)`` a file with
ETag/Last-Modified and 304s. ``{base}`` in any string becomes the server's own URL. Faults per
path: ``faults[path] = {"status": 500, "times": 2}`` or ``{"delay": 3}`` or ``{"body": b"..."}``
or ``{"trickle": seconds}`` (a file sent a few bytes at a time) or ``{"location": url}`` (a
redirect). ``log`` holds every request's
path with its query exactly as received. Unknown paths: 404, or with ``empty_lists`` an empty
OParl list (a real Body's lists, when only the Body itself is recorded).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from demo.replay import LoopbackServer


class OParlServer(LoopbackServer):
    def __init__(self, empty_lists: bool = False):
        super().__init__(_Handler)
        self.objects: dict[str, Any] = {}
        self.lists: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self.files: dict[str, tuple[bytes, float]] = {}
        self.raw: dict[str, tuple[bytes, str]] = {}
        self.faults: dict[str, dict[str, Any]] = {}
        self.log: list[str] = []
        self.empty_lists = empty_lists

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, obj: Any) -> None:
        self.objects[path] = obj

    def put_raw(self, path: str, body: bytes, content_type: str = "application/json") -> None:
        self.raw[path] = (body, content_type)

    def put_list(self, path: str, objects: list[dict[str, Any]], per_page: int = 20) -> None:
        self.lists[path] = (objects, per_page)

    def put_file(self, path: str, body: bytes, mtime: float = 1_700_000_000.0) -> None:
        self.files[path] = (body, mtime)

    def requests_to(self, path: str) -> list[str]:
        return [entry for entry in self.log if urlsplit(entry).path == path]


def _stamp(value: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


class _Handler(BaseHTTPRequestHandler):
    server: OParlServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's signature
        pass

    def do_GET(self) -> None:  # http.server's naming
        server = self.server
        server.log.append(self.path)
        parts = urlsplit(self.path)
        fault = server.faults.get(parts.path)
        if fault and fault.get("times", 1) > 0:
            if "times" in fault:
                fault["times"] -= 1
            if fault.get("delay"):
                time.sleep(fault["delay"])
            if fault.get("location"):
                return self._send(302, b"", "text/plain", {"Location": fault["location"]})
            if fault.get("status"):
                return self._send(fault["status"], b"Internal Server Error", "text/plain")
            if "body" in fault:
                return self._send(200, fault["body"], "application/json")
        if parts.path in server.files:
            return self._file(parts.path, fault)
        if parts.path in server.raw:
            body, kind = server.raw[parts.path]
            return self._send(200, self._text(body), kind)
        if parts.path in server.objects:
            return self._json(server.objects[parts.path])
        if parts.path in server.lists:
            return self._list(parts.path, parts.query)
        if server.empty_lists:
            return self._json({"data": [], "links": {}, "pagination": {}})
        self._send(404, b'{"error": "not found"}', "application/json")

    def _list(self, path: str, query: str) -> None:
        pairs = dict(parse_qsl(query))
        if "%" in query.split("modified_since=", 1)[-1] and "modified_since=" in query:
            return self._send(500, b"SessionNet: bad date", "text/plain")  # percent-encoded
        objects, per_page = self.server.lists[path]
        since = pairs.get("modified_since")
        if since:
            cut = _stamp(since)
            objects = [o for o in objects if o.get("modified") and _stamp(o["modified"]) >= cut]
        page = int(pairs.get("page", "1"))
        chunk = objects[(page - 1) * per_page : page * per_page]
        links = {}
        if page * per_page < len(objects):
            extra = f"&modified_since={since}" if since else ""
            links["next"] = f"{{base}}{path}?page={page + 1}{extra}"
        self._json({"data": chunk, "links": links, "pagination": {"totalElements": len(objects)}})

    def _file(self, path: str, fault: dict[str, Any] | None) -> None:
        body, mtime = self.server.files[path]
        etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", "application/octet-stream", {"ETag": etag})
        headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True)}
        if fault and fault.get("trickle"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for start in range(0, len(body), 16):
                    self.wfile.write(body[start : start + 16])
                    self.wfile.flush()
                    time.sleep(fault["trickle"])
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        self._send(200, body, "application/octet-stream", headers)

    def _text(self, body: bytes) -> bytes:
        return body.replace(b"{base}", self.server.base.encode())

    def _json(self, value: Any) -> None:
        body = json.dumps(value, ensure_ascii=False).encode()
        self._send(200, self._text(body), "application/json")

    def _send(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def make_pdf(pages: list[str], stream: bytes | None = None) -> bytes:
    """A real PDF (one page per text, Helvetica), or one page whose content is ``stream``.

    ``stream`` is written Flate-compressed as given: a page without text operators is a scan
    to ``pdftotext``; a stream that inflates to gigabytes is a bomb.
    """
    import zlib

    contents = []
    if stream is not None:
        contents.append((zlib.compress(stream, 9), True))
    for text in pages:
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        lines = [f"({line}) Tj T*" for line in escaped.splitlines()]
        body = "BT /F1 11 Tf 14 TL 50 780 Td " + " ".join(lines) + " ET"
        contents.append((body.encode("cp1252"), False))
    count = len(contents)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{4 + 2 * i} 0 R".encode() for i in range(count))
        + f"] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, (data, compressed) in enumerate(contents):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font "
            f"<< /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        flate = b" /Filter /FlateDecode" if compressed else b""
        objects.append(
            b"<< /Length "
            + str(len(data)).encode()
            + flate
            + b" >>\nstream\n"
            + data
            + b"\nendstream"
        )
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
