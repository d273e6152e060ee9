"""The demo council systems (OParl) of the four cities, as the replay server serves them.

``generate.py`` invents each city's system (seeded, sized, with epochs of later changes),
``documents.py`` renders its files, and ``CouncilDemo`` answers the HTTP requests of
``demo/replay.py`` under ``/oparl/<city>/…`` (the OParl API and the files) and
``/demo-ratsinfo/<city>/…`` (the objects' ``web`` pages, which only say "demo"). Paging follows
OParl: ``page`` (and ``limit``), ``links.next`` carrying the filters, and the filters
``modified_since``, ``created_since``, ``modified_until``, ``created_until``; deleted objects
stay in the lists as ``deleted: true`` stubs. Files carry ETag (the replay server's) and
Last-Modified (the File's ``modified``).

Use::

    demo = CouncilDemo(build_dir, papers=200)       # per city; files rendered into build_dir
    server = ReplayServer(root, council=demo)        # demo/replay.py
    demo.system_url(server.base, "trier")            # what the harvester config points at
    demo.advance()                                   # next epoch, stamped now: some papers
                                                     # revised, some deleted, some added
"""

from __future__ import annotations

import html
import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from demo.council import generate as generation  # the module; its generate() is the function
from demo.council.generate import BERLIN, CITY_NAMES, DEFAULT_PAPERS, DEMO_WEB, System

CONTROL = (
    "page",
    "limit",
    "modified_since",
    "created_since",
    "modified_until",
    "created_until",
    "download",
)
PAGE_SIZE = {"sessionnet": 50, "allris": 100}  # what each product sends per page by default
MAX_LIMIT = 1000
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "scan": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}


class BadRequest(ValueError):
    """A malformed filter: the replay server answers 400."""


class CouncilDemo:
    """Generated OParl systems, one per city, served at ``/oparl/<city>/``."""

    def __init__(
        self,
        build_dir: Path,
        papers: int = DEFAULT_PAPERS,
        cities: tuple[str, ...] = CITY_NAMES,
        page_size: int | None = None,
    ):
        self.build_dir = Path(build_dir)
        self.papers = papers
        self.cities = tuple(cities)
        self.page_size = page_size
        self.epoch_times: list[datetime] = []
        self._systems: dict[str, System] = {}
        self._lock = threading.Lock()

    # ---- state ---------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return len(self.epoch_times)

    def advance(self, at: datetime | None = None) -> int:
        """Move every city's system one epoch on (changes stamped ``at``, default now)."""
        with self._lock:
            moment = (at or datetime.now(BERLIN)).astimezone(BERLIN).replace(microsecond=0)
            self.epoch_times.append(moment)
            self._systems.clear()
            return self.epoch

    def set_epochs(self, times: list[datetime]) -> None:
        """Go to the epoch after these changes (``[]``: the first state), e.g. between tests."""
        with self._lock:
            self.epoch_times = [t.astimezone(BERLIN).replace(microsecond=0) for t in times]
            self._systems.clear()

    def system(self, city: str) -> System:
        if city not in self.cities:
            raise FileNotFoundError(city)
        with self._lock:
            if city not in self._systems:
                self._systems[city] = generation.generate(
                    city, self.papers, epoch=self.epoch, epoch_times=self.epoch_times
                )
            return self._systems[city]

    @staticmethod
    def system_url(base: str, city: str) -> str:
        from demo.council.generate import _Layout, words

        return _Layout(city, words.CITIES[city]["vendor"]).system.replace("{base}", base)

    def build(self) -> int:
        """Render every file of every city now (else each is rendered on first request)."""
        count = 0
        for city in self.cities:
            system = self.system(city)
            for access in system.documents:
                self._document(system, access)
                count += 1
        return count

    # ---- HTTP ----------------------------------------------------------------------------
    def route(self, base: str, path: str, query: dict[str, str]) -> tuple[bytes, str, Any]:
        """(body, content type, Last-Modified as epoch seconds or None) for a GET, or raises
        FileNotFoundError (404) or BadRequest (400)."""
        if path.startswith(f"/{DEMO_WEB}/"):
            return self._web_page(path)
        parts = path.split("/")
        if len(parts) < 3 or parts[1] != "oparl":
            raise FileNotFoundError(path)
        system = self.system(parts[2])
        ident = "{base}" + path
        own = [(k, v) for k, v in query.items() if k not in CONTROL]
        if own:
            ident += "?" + "&".join(f"{k}={v}" for k, v in own)
        if ident in system.lists:
            return self._page(system, base, ident, query), _JSON, None
        if ident in system.objects:
            return self._json(system, base, system.objects[ident]), _JSON, None
        if ident in system.documents:
            body = self._document(system, ident)
            kind = system.documents[ident].kind
            return body, CONTENT_TYPES[kind], system.file_modified[ident].timestamp()
        raise FileNotFoundError(path)

    def _page(self, system: System, base: str, ident: str, query: dict[str, str]) -> bytes:
        filters = {}
        for name in ("modified_since", "created_since", "modified_until", "created_until"):
            if query.get(name):
                # an unencoded "+" of the offset arrives as a space
                raw = query[name].replace(" ", "+")
                try:
                    moment = datetime.fromisoformat(raw)
                except ValueError as error:
                    raise BadRequest(f"{name}: {raw!r} is no date-time") from error
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=BERLIN)
                filters[name] = (raw, moment)
        try:
            size = int(query.get("limit") or self.page_size or PAGE_SIZE[system.vendor])
            page = int(query.get("page") or 1)
        except ValueError as error:
            raise BadRequest("page and limit are numbers") from error
        size, page = max(1, min(size, MAX_LIMIT)), max(1, page)
        chosen = []
        for oid in system.lists[ident]:
            obj = system.objects[oid]
            if _matches(obj, filters):
                chosen.append(obj)
        pages = max(1, -(-len(chosen) // size))

        def link(number: int) -> str:
            # SessionNet repeats a filter as it came (it cannot decode %3A itself), ALLRIS encodes
            quote = (lambda v: v) if system.vendor == "sessionnet" else _quote
            params = [f"{k}={quote(v[0])}" for k, v in filters.items()]
            if query.get("limit"):
                params.append(f"limit={size}")
            params.append(f"page={number}")
            return ident + ("&" if "?" in ident else "?") + "&".join(params)

        links = {"first": link(1), "last": link(pages), "self": link(page)}
        if page > 1:
            links["prev"] = link(page - 1)
        if page < pages:
            links["next"] = link(page + 1)
        payload = {
            "data": chosen[(page - 1) * size : page * size],
            "pagination": {
                "totalElements": len(chosen),
                "elementsPerPage": size,
                "currentPage": page,
                "totalPages": pages,
            },
            "links": links,
        }
        return self._json(system, base, payload)

    @staticmethod
    def _json(system: System, base: str, payload: Any) -> bytes:
        text = json.dumps(payload, ensure_ascii=False)
        if system.vendor == "allris":
            text = render_control_characters(text)
        return text.replace("{base}", base).encode("utf-8")

    def _document(self, system: System, access: str) -> bytes:
        from demo.council.documents import render

        doc = system.documents[access]
        number = access.rsplit("=", 1)[-1] if "DOLFDNR" in access else access.split("id=")[1]
        number = number.split("&")[0]
        extension = "pdf" if doc.kind == "scan" else doc.kind
        target = self.build_dir / system.city / f"{number}-{doc.version()}.{extension}"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{threading.get_ident()}")
            temporary.write_bytes(render(doc))
            os.replace(temporary, target)
        return target.read_bytes()

    def _web_page(self, path: str) -> tuple[bytes, str, None]:
        city = path.split("/")[2] if path.count("/") >= 2 else ""
        if city not in self.cities:
            raise FileNotFoundError(path)
        text = (
            "<!doctype html><html lang=de><meta charset=utf-8><title>Demo-Ratsinformationssystem"
            f"</title><h1>Demo-Ratsinformationssystem {html.escape(city.title())}</h1>"
            "<p>Erfundene Ratsdaten für die lokale Vorführung von Vier Städte Open Data. "
            "Diese Seite steht für die Originalseite eines Ratsinformationssystems; das Objekt "
            "gibt es in keinem echten System.</p>"
        )
        return text.encode(), "text/html; charset=utf-8", None


_JSON = "application/json; charset=utf-8"


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _matches(obj: dict[str, Any], filters: dict[str, tuple[str, datetime]]) -> bool:
    for name, (_, moment) in filters.items():
        field = "modified" if name.startswith("modified") else "created"
        value = obj.get(field)
        if not value:
            return False
        stamp = datetime.fromisoformat(value)
        if name.endswith("_since") and stamp < moment:
            return False
        if name.endswith("_until") and stamp > moment:
            return False
    return True


def render_control_characters(text: str) -> str:
    """ALLRIS' JSON: tabs, line breaks and vertical tabs raw inside strings, not escaped.

    The corpus has no backslashes of its own, so every escape here came from json.dumps."""
    return (
        text.replace("\\r", "\r")
        .replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\u000b", "\x0b")
    )
