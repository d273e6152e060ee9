"""A saved payload read as the harvest would read it, without a server: ``list-sources --from-file``.

Whoever writes a city's config or mapping starts from a file: a catalogue page saved from the
browser, a CKAN API answer, a table. :func:`identify` tells from the content (never the name)
which reader it is for; the real readers then read it through a :class:`LocalFetcher`, which
answers their first request with the file, so what is shown is exactly what a run would see,
with no second parser to drift from the first. A reader that asks for more (the next page of a
paged listing) learns that the file holds no more: the listing is then incomplete, and says so.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

from vierstaedte_harvest.fetch import FetchError
from vierstaedte_harvest.reading import HEAD_BYTES

RDF_NAMESPACE = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#"
TURTLE_STARTS = ("@prefix", "@base", "prefix ", "base ")
TABLE = "table"  # the kind of a CSV or XLSX file; the other kinds are the readers' protocols
CKAN_ACTION = "/api/3/action/"
MANIFEST_START = re.compile(rb"^datasets:", re.MULTILINE)  # a manifest's top-level key
SPREADSHEETS = {b"PK\x03\x04": "XLSX", b"\xd0\xcf\x11\xe0": "XLS"}  # by their first bytes


class PayloadError(ValueError):
    """The file cannot be read, or is none of the payloads the readers know."""


@dataclasses.dataclass
class Payload:
    """A local file and what it is."""

    path: Path
    kind: str  # a protocol of sources.PROTOCOLS, or TABLE
    what: str  # in words, for the person reading the output
    body: bytes = b""  # what a reader is served; of a table only its start
    data: Any = None  # the JSON the reader is served (a CKAN record wrapped as a search)
    rdf_format: str | None = None  # dcat: xml or turtle
    names: list[str] = dataclasses.field(default_factory=list)  # a CKAN package_list
    site: str | None = None  # the CKAN site a saved API answer names in its "help" link


def identify(path: Path) -> Payload:
    """What the file at ``path`` is, from its content; PayloadError if unreadable or unknown."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        if head[:4] in SPREADSHEETS:  # a table is read by the table reader, not held here
            return Payload(path, TABLE, f"a spreadsheet ({SPREADSHEETS[head[:4]]})", head)
        text = head.removeprefix(codecs.BOM_UTF8).lstrip()
        if not text:
            raise PayloadError(f"{path} is empty")
        if text[:1] in (b"{", b"["):
            return _json(path, path.read_bytes())
        lowered = text[:2048].lower()
        if b"<html" in lowered or lowered.startswith(b"<!doctype html"):
            raise PayloadError(f"{path} is an HTML page, not a catalogue, API answer or table")
        if text.startswith(b"<"):
            if RDF_NAMESPACE not in head:
                raise PayloadError(f"{path} is XML but not RDF; the DCAT reader reads RDF/XML")
            what = "a DCAT catalogue page (RDF/XML)"
            return Payload(path, "dcat", what, path.read_bytes(), rdf_format="xml")
        if _first_statement(text).lower().startswith(TURTLE_STARTS):
            what = "a DCAT catalogue page (Turtle)"
            return Payload(path, "dcat", what, path.read_bytes(), rdf_format="turtle")
        if MANIFEST_START.search(head):
            manifest = _yaml(path.read_bytes())
            if isinstance(manifest, dict) and isinstance(manifest.get("datasets"), list):
                return Payload(path, "manifest", "a manifest", head)
    except OSError as error:
        raise PayloadError(f"cannot read {path}: {error.strerror or error}") from None
    return Payload(path, TABLE, "a text table", head)


def _first_statement(text: bytes) -> str:
    """The first line that is neither empty nor a comment."""
    for line in text.decode("utf-8", errors="replace").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()
    return ""


def _yaml(body: bytes) -> Any:
    try:
        return yaml.safe_load(body.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return None


def _json(path: Path, body: bytes) -> Payload:
    """A CKAN answer (package_search, package_show, package_list), an Opendatasoft catalogue
    page or dataset record, or a manifest written as JSON."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(f"{path} looks like JSON but is not valid JSON: {error}") from None
    help_link = data.get("help") if isinstance(data, dict) else None
    site = None
    if isinstance(help_link, str) and CKAN_ACTION in help_link:
        site = help_link.split(CKAN_ACTION)[0]
    result = data.get("result") if isinstance(data, dict) and "success" in data else data
    if isinstance(result, dict) and isinstance(result.get("results"), list):
        if isinstance(result.get("count"), int):
            search = {"success": True, "result": result}
            return Payload(path, "ckan", "a CKAN package_search answer", body, search, site=site)
        if isinstance(result.get("total_count"), int):
            return Payload(path, "opendatasoft", "an Opendatasoft catalogue page", body, result)
    if isinstance(data, dict) and data.get("dataset_id") and isinstance(data.get("metas"), dict):
        page = {"total_count": 1, "results": [data]}
        return Payload(path, "opendatasoft", "an Opendatasoft dataset record", body, page)
    if isinstance(result, dict) and result.get("id") and "resources" in result:
        search = {"success": True, "result": {"count": 1, "results": [result]}}
        return Payload(path, "ckan", "a CKAN package_show answer", body, search, site=site)
    if isinstance(result, list) and result and all(isinstance(n, str) for n in result):
        return Payload(path, "ckan", "a CKAN package_list answer", body, names=result, site=site)
    if isinstance(data, dict) and isinstance(data.get("datasets"), list):
        return Payload(path, "manifest", "a manifest (JSON)", body)
    raise PayloadError(
        f"{path} is JSON, but none of: a CKAN package_search, package_show or package_list "
        "answer, an Opendatasoft catalogue page or dataset record (Explore API v2.1), a manifest"
    )


class LocalFetcher:
    """Stands in for :class:`~vierstaedte_harvest.fetch.Fetcher`: the reader's first request is
    answered with the file, every later one (a next page) fails, and :attr:`further` names it."""

    def __init__(self, payload: Payload):
        self.payload = payload
        self.served = False
        self.further: str | None = None  # the first request the file could not answer

    def _serve(self, url: str, params: dict[str, Any] | None) -> None:
        if self.served:
            self.further = self.further or (f"{url}?{urlencode(params)}" if params else url)
            raise FetchError(
                "not-in-file", f"not in {self.payload.path.name}, which holds one answer", url
            )
        self.served = True

    def get_bytes(self, url: str, params: dict[str, Any] | None = None) -> tuple[bytes, str]:
        self._serve(url, params)
        return self.payload.body, ""

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        self._serve(url, params)
        return self.payload.data


def reader_settings(payload: Payload, config: Any = None) -> dict[str, Any]:
    """The keys of the reader's ``Settings`` for reading ``payload`` (with a city config or not).

    The config's ``source`` is kept where it is of the file's protocol: its URL names the
    datasets as a run would, its filters apply as in a run. Otherwise the file is the source.
    """
    keys: dict[str, Any] = {}
    source = config.source if config is not None else None
    if source is not None and source.protocol == payload.kind:
        keys = {f.name: getattr(source, f.name) for f in dataclasses.fields(source) if f.init}
    if payload.kind == "manifest":
        keys.update(path=str(payload.path), url=None)
        if config is not None:
            keys["city"] = config.city
    elif payload.kind == "dcat":
        keys.update(format=payload.rdf_format)
        keys.setdefault("url", payload.path.resolve().as_uri())
    else:
        keys.setdefault("url", payload.site or payload.path.resolve().as_uri())
    return keys


@dataclasses.dataclass
class TableView:
    """What the reader makes of a table file and, where a ``tables`` rule matches it, the engine."""

    reading: dict[str, Any]  # reading.Table.info: encoding, delimiter, title, header rows, columns
    rule: int | None = None  # the number of the config's first matching ``tables`` rule
    report: Any = None  # the normalise Report under that rule's mapping


def table_view(payload: Payload, config: Any = None) -> TableView:
    """Read the table as a run would; TableRejected if the reader refuses it.

    A ``tables`` rule matches the file as it would a resource: ``title`` and ``name`` against
    the file's name without suffix, ``resource`` against its name, ``format`` against the
    format its content shows (CSV, XLSX).
    """
    from vierstaedte_harvest.normalise import normalise
    from vierstaedte_harvest.reading import open_table
    from vierstaedte_harvest.sources import SourceDataset, SourceResource

    path = payload.path
    shown = SPREADSHEETS.get(payload.body[:4], "CSV")
    resource = SourceResource(url=path.resolve().as_uri(), name=path.name, format=shown)
    dataset = SourceDataset(
        guid=f"file:{path.name}", name=path.stem, title=path.stem, resources=[resource]
    )
    rule = config.table_for(dataset)[0] if config is not None else None
    table = open_table(path, rule.mapping.read if rule else None)
    view = TableView(dict(table.info))
    if rule is not None:
        view.rule = config.tables.index(rule) + 1
        with tempfile.TemporaryDirectory() as scratch:
            view.report = normalise(path, rule.mapping, out=Path(scratch) / "out.csv").report
    return view
