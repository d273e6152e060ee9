"""DCAT-AP.de reader: RDF catalogue pages (RDF/XML or Turtle), followed along their hydra paging.

Every page is untrusted input. Only the hydra next-page link is followed, and only
on the catalogue's own host; a page seen twice (by URL or by content) ends the run
with :class:`SourceError`. The listing is proven complete when the last page names no
next page and, where the pages state ``hydra:totalItems``, the distinct entries read
(datasets of every publisher, and the entries skipped) add up to exactly that number,
which no page changed. A catalogue entry that is not a ``dcat:Dataset`` (a
``dcat:DatasetSeries``, a ``dcat:DataService``) is skipped and reported.
RDF/XML pages that declare XML entities or an external DTD are refused before
rdflib sees them: Python's SAX parser does not fetch external entities, but it does
expand internal ones, and a "billion laughs" page keeps rdflib busy for minutes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import re
import threading
import typing
import warnings
import xml.parsers.expat
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import rdflib
from rdflib import RDF, RDFS, BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS, XSD
from rdflib.term import Node

from vierstaedte_contract.vocabularies import (
    canonical_dcatde_uri,
    canonical_frequency,
    canonical_geocoding,
)
from vierstaedte_harvest.fetch import Fetcher, FetchError
from vierstaedte_harvest.sources import (
    Gap,
    Note,
    Skipped,
    SourceDataset,
    SourceError,
    SourceResource,
    SourceSettings,
    max_pages_field,
)

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
SCHEMA = (Namespace("http://schema.org/"), Namespace("https://schema.org/"))
HYDRA = (
    Namespace("http://www.w3.org/ns/hydra/core#"),
    Namespace("https://www.w3.org/ns/hydra/core#"),
)
CONTENT_TYPES = {
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
}
SUFFIXES = {".rdf": "xml", ".xml": "xml", ".ttl": "turtle"}
MEDIA_TYPES = {
    "text/csv": "CSV",
    "application/json": "JSON",
    "application/geo+json": "GEOJSON",
    "application/vnd.geo+json": "GEOJSON",
    "application/xml": "XML",
    "text/xml": "XML",
    "application/zip": "ZIP",
    "application/pdf": "PDF",
    "text/html": "HTML",
    "application/vnd.ms-excel": "XLS",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
}
HTML_START = re.compile(
    rb"^(\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+)?html[\s>]",
    re.IGNORECASE | re.DOTALL,
)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# dcatde: properties in any of the namespace's spellings (…/dcatde/, …/dcatde/1.0/, …/1_0_1/)
DCATDE_PROPERTY = re.compile(r"^http://dcat-ap\.de/def/dcatde/(?:[\d._]+/)?(\w+)$")
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# how the report names a property or datatype: the prefixes DCAT-AP.de documents use
PREFIXES = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "xsd": str(XSD),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "schema": "http://schema.org/",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "locn": "http://www.w3.org/ns/locn#",
    "adms": "http://www.w3.org/ns/adms#",
    "spdx": "http://spdx.org/rdf/terms#",
}
# rdflib's own rule for a language tag; RDF/XML with another one makes its parser give up
LANGUAGE_TAG = re.compile(r"^[a-zA-Z]+(?:-[a-zA-Z0-9]+)*$")
XML_LANG = re.compile(rb"""xml:lang\s*=\s*(?:"([^"<&]*)"|'([^'<&]*)')""")
LANGUAGE_MARK = "x-vsbad-"  # a private-use tag standing in for an invalid one while parsing
# what rdflib says for a literal that is not of its datatype: each such literal is named per
# dataset from the graph (Literal.ill_typed), so these messages need not be repeated
ILL_TYPED_SAID = ("Failed to convert Literal lexical form to value", "Parsing weird boolean")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(SourceSettings):
    """``source`` of ``protocol: dcat``."""

    protocol: ClassVar[str] = "dcat"

    url: str = dataclasses.field()  # required (field(): no inherited default); the first page
    # RDF/XML or Turtle; None: the Content-Type says, else the URL's suffix
    format: typing.Literal["xml", "turtle"] | None = None  # typing's: Literal here is rdflib's
    publisher: str | None = None  # only datasets whose publisher URI or name contains this
    contributor_id: str | None = None  # only datasets with this dcatde:contributorID
    max_pages: int = max_pages_field()


def list_datasets(fetcher: Fetcher, settings: Settings) -> Generator[Any, None, str]:
    """Every dcat:Dataset of the catalogue at ``url`` (all pages), optionally filtered by
    publisher or contributor."""
    catalogue, explicit, max_pages = settings.url, settings.format, settings.max_pages
    host = urlsplit(catalogue).hostname or ""
    seen_urls: set[str] = set()
    seen_bodies: dict[str, str] = {}
    entries: set[str] = set()  # guids of all entries read: what totalItems counts
    total = None
    page_url = catalogue
    for page in range(1, max_pages + 1):
        seen_urls.add(page_url)
        graph, said, unreadable = _page(fetcher, page_url, explicit, seen_bodies)
        stated = _total_items(graph, page_url)
        if stated is not None and total is not None and stated != total:
            yield Gap(
                "count-changed",
                f"DCAT page {page_url}: hydra:totalItems changed from "
                f"{total} to {stated} while the catalogue was listed",
            )
        total = stated if stated is not None else total
        datasets = sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)
        told: set[Node] = set()  # the nodes whose unreadable values a dataset reports
        for node in datasets:
            described = _described(graph, node) if unreadable else {node}
            told |= described
            own = [text for n in described for text in unreadable.get(n, [])]
            dataset = _dataset(graph, node, host, page_url, sorted(own))
            entries.add(dataset.guid)
            if _wanted(graph, node, settings):
                yield dataset  # a repeat (the catalogue shifted) is the listing's to judge
        for text in said:
            yield Note("library-warning", f"DCAT page {page_url}: {text}")
        for text in sorted(t for n in unreadable.keys() - told for t in unreadable[n]):
            yield Note("bad-literal", f"DCAT page {page_url}, outside any dataset: {text}")
        others = list(_other_entries(graph, host, page_url))
        for node, skipped in others:
            entries.add(skipped.guid)
            if _wanted(graph, node, settings):
                yield skipped
        next_url = _next_page(graph, page_url, catalogue)
        if next_url is None:
            return _proof(catalogue, page, len(entries), total)
        if not datasets and not others:
            yield Gap(
                "listing-ended-early", f"DCAT page {page_url} lists nothing, yet names a next page"
            )
        if next_url in seen_urls:
            raise SourceError(
                f"DCAT paging loops: {next_url} was already read; the listing is incomplete"
            )
        page_url = next_url
    raise SourceError(
        f"DCAT catalogue {catalogue} has more than max_pages={max_pages} pages; raise it if that is real"
    )


def _proof(catalogue: str, pages: int, entries: int, total: int | None) -> str:
    """How the listing is known to be whole; SourceError if the entries miss the stated total."""
    read = f"{entries} entries on {pages} page{'s' if pages > 1 else ''}"
    if total is None:
        return f"{read} to the last page (no hydra:next); the catalogue states no hydra:totalItems"
    if entries != total:
        raise SourceError(
            f"DCAT catalogue {catalogue}: {read}, but hydra:totalItems says {total}",
            "listing-ended-early" if entries < total else "count-changed",
        )
    return f"all {read} of hydra:totalItems {total}"


def _total_items(graph: rdflib.Graph, page_url: str) -> int | None:
    values = sorted({str(v).strip() for ns in HYDRA for v in graph.objects(None, ns.totalItems)})
    if not values:
        return None
    if len(values) > 1 or not values[0].isdigit():
        raise SourceError(
            f"DCAT page {page_url}: hydra:totalItems is not one whole number: {', '.join(values)}"
        )
    return int(values[0])


def _other_entries(graph: rdflib.Graph, host: str, page_url: str) -> Iterator[tuple[Node, Skipped]]:
    """Entries of a dcat:Catalog (dcat:dataset, dcat:service, dcat:resource) but no dcat:Dataset."""
    linked = {
        entry
        for catalogue in graph.subjects(RDF.type, DCAT.Catalog)
        for predicate in (DCAT.dataset, DCAT.service, URIRef(f"{DCAT}resource"))
        for entry in graph.objects(catalogue, predicate)
    }
    for node in sorted(linked - set(graph.subjects(RDF.type, DCAT.Dataset)), key=str):
        uri = str(node) if isinstance(node, URIRef) else ""
        identifier = _text(graph, node, DCTERMS.identifier) or uri
        if not identifier:
            raise SourceError(f"DCAT page {page_url}: a catalogue entry without identifier or URI")
        kinds = ", ".join(sorted(_curie(kind) for kind in graph.objects(node, RDF.type)))
        title = _text(graph, node, DCTERMS.title) or ""
        yield node, Skipped(f"dcat:{host}:{identifier}", kinds or "no rdf:type", title)


def _curie(uri: Node) -> str:
    """``dct:modified`` for the URI of dct:modified: how a person reading the report knows it."""
    text = str(uri)
    if match := DCATDE_PROPERTY.match(canonical_dcatde_uri(text)):
        return "dcatde:" + match.group(1)
    for prefix, namespace in PREFIXES.items():
        if text.startswith(namespace) and text[len(namespace) :].isidentifier():
            return f"{prefix}:{text[len(namespace) :]}"
    return f"<{text}>"


def _page(
    fetcher: Fetcher, url: str, explicit: str | None, seen_bodies: dict[str, str]
) -> tuple[rdflib.Graph, list[str], dict[Node, list[str]]]:
    """One catalogue page as a graph, or SourceError naming the page; with what the parser
    said that no value explains, and the values that could not be read, by their subject."""
    try:
        body, content_type = fetcher.get_bytes(url)
    except FetchError as error:
        raise SourceError(f"DCAT page {url}: {error}") from error
    if content_type.split(";")[0].strip().lower() in (
        "text/html",
        "application/xhtml+xml",
    ) or HTML_START.match(body):
        raise SourceError(
            f"DCAT page {url}: expected RDF, got an HTML page ({content_type or 'no content type'})"
        )
    digest = hashlib.sha256(body).hexdigest()
    if digest in seen_bodies:
        raise SourceError(
            f"DCAT page {url} has the same content as {seen_bodies[digest]}: the paging loops"
        )
    seen_bodies[digest] = url
    kind = explicit or _format(content_type, url)
    tags: dict[str, str] = {}
    if kind == "xml":
        _refuse_dtd(body, url)
        body, tags = _mark_language_tags(body)
    graph = rdflib.Graph()
    try:
        with _library_messages() as said:
            graph.parse(data=body, format=kind, publicID=url)
    except Exception as error:  # rdflib's parsers raise many unrelated exception types
        raise SourceError(
            f"DCAT page {url} is not valid RDF ({kind}): {error.__class__.__name__}: {error}"
        ) from error
    if (None, RDF.type, DCAT.Catalog) not in graph and (None, RDF.type, DCAT.Dataset) not in graph:
        raise SourceError(f"DCAT page {url} holds neither a dcat:Catalog nor a dcat:Dataset")
    unreadable = _unreadable(graph, tags)
    if unreadable:
        said = [
            text for text in said if not text.removeprefix("rdflib: ").startswith(ILL_TYPED_SAID)
        ]
    return graph, list(dict.fromkeys(said)), unreadable


@contextlib.contextmanager
def _library_messages() -> Iterator[list[str]]:
    """What rdflib warns or logs while this thread parses, kept for the report, not printed.

    rdflib logs a traceback for every literal that is not of its datatype; on a cron job's
    stderr that reads like a crash of the harvester, while it is a value in the city's
    catalogue, which the report names (see :func:`_unreadable`). Only records of this thread
    are held back, and only while the page is parsed.
    """
    said: list[str] = []
    thread = threading.get_ident()

    def keep(record: logging.LogRecord) -> bool:
        if record.thread != thread:
            return True
        said.append(f"rdflib: {record.getMessage().splitlines()[0]}")
        return False

    names = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] == "rdflib"]
    loggers = [logging.getLogger(name) for name in sorted({"rdflib", *names})]
    for logger in loggers:
        logger.addFilter(keep)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield said
        said.extend(f"rdflib: {warning.message}" for warning in caught)
    finally:
        for logger in loggers:
            logger.removeFilter(keep)


def _mark_language_tags(body: bytes) -> tuple[bytes, dict[str, str]]:
    """Invalid ``xml:lang`` tags (``de_DE``) replaced by private-use marks rdflib accepts.

    rdflib's RDF/XML parser refuses the whole page for one such tag; marked, the page is read
    and :func:`_unreadable` names each literal that carried one. Returns the marked page and
    mark → the tag as written.
    """
    tags: dict[str, str] = {}

    def mark(match: re.Match[bytes]) -> bytes:
        raw = match.group(1) if match.group(1) is not None else match.group(2)
        tag = raw.decode("utf-8", "replace")
        if not tag or LANGUAGE_TAG.match(tag):
            return match.group(0)
        marker = next((m for m, t in tags.items() if t == tag), f"{LANGUAGE_MARK}{len(tags)}")
        tags[marker] = tag
        return f'xml:lang="{marker}"'.encode()

    return XML_LANG.sub(mark, body), tags


def _unreadable(graph: rdflib.Graph, tags: dict[str, str]) -> dict[Node, list[str]]:
    """Literals that are not of their datatype (``"2023-13-45"^^xsd:date``) or had an invalid
    language tag, as plain-language notes by their subject.

    Such a value is left out by every reader function (:func:`_ill_typed`); a language tag is
    mended where ``_`` for ``-`` makes it valid, else dropped, and the literal kept.
    """
    found: dict[Node, list[str]] = {}
    for subject, predicate, value in list(graph):
        if not isinstance(value, Literal):
            continue
        if value.ill_typed:
            datatype = _curie(value.datatype)
            shown = "" if value.datatype == XSD.boolean else f" {str(value)!r}"  # rdflib rewrote it
            text = f"{_curie(predicate)}:{shown} is not a valid {datatype}, left out"
        elif value.language and value.language.lower() in tags:
            tag = tags[value.language.lower()]
            mended = tag.strip().replace("_", "-")
            mended = mended if LANGUAGE_TAG.match(mended) else None
            graph.remove((subject, predicate, value))
            graph.add((subject, predicate, Literal(str(value), lang=mended)))
            read_as = f"read as {mended!r}" if mended else "read without a language"
            text = f"{_curie(predicate)}: the language tag {tag!r} is not valid, {read_as}"
        else:
            continue
        found.setdefault(subject, []).append(text)
    return found


def _ill_typed(value: Node) -> bool:
    return isinstance(value, Literal) and bool(value.ill_typed)


def _described(graph: rdflib.Graph, node: Node, depth: int = 3) -> set[Node]:
    """The dataset's node and the nodes that describe it (distributions, periods, agents,
    contact points, a few links deep), but no other dataset or catalogue."""
    found, frontier = {node}, [node]
    for _ in range(depth):
        following = []
        for subject in frontier:
            for value in graph.objects(subject, None):
                if isinstance(value, Literal) or value in found:
                    continue
                if any((value, RDF.type, kind) in graph for kind in _ENTRIES):
                    continue
                found.add(value)
                following.append(value)
        frontier = following
    return found


_ENTRIES = (DCAT.Dataset, DCAT.Catalog, URIRef(f"{DCAT}DatasetSeries"), DCAT.DataService)


def _format(content_type: str, url: str) -> str:
    """The rdflib format from the Content-Type, else from the URL's suffix."""
    kind = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    kind = kind or SUFFIXES.get(PurePosixPath(urlsplit(url).path).suffix.lower())
    if not kind:
        raise SourceError(
            f"DCAT page {url}: cannot tell RDF/XML from Turtle (Content-Type {content_type!r}); "
            f"set format: xml or format: turtle"
        )
    return kind


class _Refused(Exception):
    pass


class _PrologDone(Exception):
    pass


def _refuse_dtd(body: bytes, url: str) -> None:
    """Refuse entity declarations and external DTDs before rdflib parses the page (XXE, billion laughs).

    Expat reads only the prolog here: it stops at the root element, before any entity
    could be expanded, and it decodes the page exactly as rdflib's parser will.
    """

    def entity(name: str, *_: Any) -> None:
        raise _Refused(f"declares the XML entity {name!r}")

    def doctype(name: str, system_id: str | None, public_id: str | None, *_: Any) -> None:
        if system_id or public_id:
            raise _Refused(f"refers to an external DTD {system_id or public_id!r}")

    def root(*_: Any) -> None:
        raise _PrologDone

    parser = xml.parsers.expat.ParserCreate()
    parser.EntityDeclHandler, parser.StartDoctypeDeclHandler, parser.StartElementHandler = (
        entity,
        doctype,
        root,
    )
    try:
        parser.Parse(body, True)
    except _PrologDone:
        return
    except _Refused as refusal:
        raise SourceError(
            f"DCAT page {url} {refusal}; DTDs with entities are refused (XXE / entity expansion)"
        ) from None
    except xml.parsers.expat.ExpatError as error:
        raise SourceError(f"DCAT page {url} is not well-formed XML: {error}") from error


def _next_page(graph: rdflib.Graph, page_url: str, catalogue: str) -> str | None:
    """The hydra next page (old or new hydra, either namespace spelling), only on the catalogue's host."""
    links = {
        str(link).strip()
        for ns in HYDRA
        for predicate in (ns.next, ns.nextPage)
        for link in graph.objects(None, predicate)
    } - {""}
    if not links:
        return None
    if len(links) > 1:
        raise SourceError(
            f"DCAT page {page_url} names several next pages: {', '.join(sorted(links))}"
        )
    target = urljoin(page_url, links.pop())
    if urlsplit(target).hostname != urlsplit(catalogue).hostname:
        raise SourceError(
            f"DCAT page {page_url}: refusing to follow the next page {target}, which is not on the "
            f"catalogue's host {urlsplit(catalogue).hostname}; the listing is incomplete"
        )
    return target


def _wanted(graph: rdflib.Graph, node: Node, settings: Settings) -> bool:
    """The ``publisher`` (URI or name contains) and ``contributor_id`` (URI or its last
    segment) filters."""
    publisher = (settings.publisher or "").casefold()
    if publisher and not any(
        publisher in text.casefold() for text in _publisher_texts(graph, node)
    ):
        return False
    contributor = (settings.contributor_id or "").strip()
    if not contributor:
        return True
    return any(
        uri == canonical_dcatde_uri(contributor) or uri.rsplit("/", 1)[-1] == contributor
        for uri in _dcatde(graph, node, "contributorID")
    )


def _publisher_texts(graph: rdflib.Graph, node: Node) -> list[str]:
    texts = []
    for agent in graph.objects(node, DCTERMS.publisher):
        if not isinstance(agent, BNode):
            texts.append(str(agent))
        texts.extend(str(name) for name in graph.objects(agent, FOAF.name))
    return texts


def _dataset(
    graph: rdflib.Graph, node: Node, host: str, page_url: str, unreadable: list[str]
) -> SourceDataset:
    identifier = _text(graph, node, DCTERMS.identifier) or (
        str(node) if isinstance(node, URIRef) else ""
    )
    if not identifier:
        raise SourceError(f"DCAT page {page_url}: a dcat:Dataset without dct:identifier or URI")
    name = _slug(identifier)
    distributions = sorted(set(graph.objects(node, DCAT.distribution)), key=str)
    start, end = _temporal(graph, node)
    contact_name, contact_email = _contact(graph, node)
    publisher, publisher_uri = _publisher(graph, node)
    levels = _dcatde(graph, node, "politicalGeocodingLevelURI")
    notes = [("bad-literal", text) for text in unreadable]
    if len(levels) > 1:
        notes.append(
            (
                "field-left-out",
                f"dcatde:politicalGeocodingLevelURI: several levels, kept {levels[0]}, left out: "
                + ", ".join(levels[1:]),
            )
        )
    return SourceDataset(
        guid=f"dcat:{host}:{identifier}",
        name=name,
        title=_text(graph, node, DCTERMS.title) or name,
        description=_text(graph, node, DCTERMS.description) or "",
        tags=_keywords(graph, node),
        license=_license(graph, node, distributions),
        themes=sorted(
            {
                str(theme).strip()
                for theme in graph.objects(node, DCAT.theme)
                if isinstance(theme, URIRef)
            }
        ),
        modified=_date(graph, node, DCTERMS.modified),
        issued=_date(graph, node, DCTERMS.issued),
        landing_page=_http_url(graph.objects(node, DCAT.landingPage)),
        temporal_start=start,
        temporal_end=end,
        publisher=publisher,
        publisher_uri=publisher_uri,
        contact_name=contact_name,
        contact_email=contact_email,
        frequency=_frequency(graph, node),
        political_geocoding=_geocoding(graph, node),
        political_geocoding_level=levels[0] if levels else None,
        resources=[r for r in (_resource(graph, d) for d in distributions) if r is not None],
        notes=notes,
    )


def _rank(literal: Literal) -> int:
    """German first, then untagged, then any other language."""
    language = (literal.language or "").lower()
    return 0 if language == "de" or language.startswith("de-") else 1 if not language else 2


def _literals(graph: rdflib.Graph, node: Node, predicate: URIRef) -> list[Literal]:
    return [
        value
        for value in graph.objects(node, predicate)
        if isinstance(value, Literal) and str(value).strip() and not value.ill_typed
    ]


def _text(graph: rdflib.Graph, node: Node, predicate: URIRef) -> str | None:
    candidates = sorted(
        (_rank(value), str(value).strip()) for value in _literals(graph, node, predicate)
    )
    return candidates[0][1] if candidates else None


def _keywords(graph: rdflib.Graph, node: Node) -> list[str]:
    """German and untagged keywords; other languages only when there are no such."""
    literals = _literals(graph, node, DCAT.keyword)
    best = max(1, min((_rank(value) for value in literals), default=1))
    return sorted({str(value).strip() for value in literals if _rank(value) <= best})


def _date(graph: rdflib.Graph, node: Node, *predicates: URIRef) -> str | None:
    """The first ISO-looking date; anything else is not a date we can use."""
    for predicate in predicates:
        for value in sorted(graph.objects(node, predicate), key=str):
            if ISO_DATE.match(str(value).strip()) and not _ill_typed(value):
                return str(value).strip()
    return None


def _http_url(values: Iterable[Node]) -> str | None:
    """The first http(s) URL; other schemes (javascript:, file:) are never passed on."""
    for value in sorted((str(v).strip() for v in values if not isinstance(v, BNode)), key=str):
        if urlsplit(value).scheme.lower() in ("http", "https") and urlsplit(value).netloc:
            return value
    return None


def _uri_or_text(graph: rdflib.Graph, node: Node, predicate: URIRef) -> str | None:
    values = sorted(
        str(v).strip()
        for v in graph.objects(node, predicate)
        if not isinstance(v, BNode) and not _ill_typed(v)
    )
    values = [v for v in values if v]
    return canonical_dcatde_uri(values[0]) if values else None


def _license(graph: rdflib.Graph, node: Node, distributions: list[Node]) -> str | None:
    """The dataset's licence, else the one most of its distributions carry."""
    own = _uri_or_text(graph, node, DCTERMS.license)
    if own:
        return own
    counts = Counter(
        found for d in distributions if (found := _uri_or_text(graph, d, DCTERMS.license))
    )
    return min(counts, key=lambda licence: (-counts[licence], licence)) if counts else None


def _temporal(graph: rdflib.Graph, node: Node) -> tuple[str | None, str | None]:
    for period in sorted(graph.objects(node, DCTERMS.temporal), key=str):
        start = _date(graph, period, DCAT.startDate, *(ns.startDate for ns in SCHEMA))
        end = _date(graph, period, DCAT.endDate, *(ns.endDate for ns in SCHEMA))
        if start or end:
            return start, end
    return None, None


def _publisher(graph: rdflib.Graph, node: Node) -> tuple[str | None, str | None]:
    """The publisher's name and URI: the first ``dct:publisher`` that names or identifies one.

    The agent is a literal (a name), an IRI (its URI, with a foaf:name where the page has one)
    or a blank node with a foaf:name (no URI).
    """
    for agent in sorted(graph.objects(node, DCTERMS.publisher), key=str):
        if isinstance(agent, Literal):
            name, uri = str(agent).strip(), None
        else:
            name = _text(graph, agent, FOAF.name)
            uri = str(agent).strip() if isinstance(agent, URIRef) else None
        if name or uri:
            return name or None, uri or None
    return None, None


def _frequency(graph: rdflib.Graph, node: Node) -> str | None:
    """``dct:accrualPeriodicity`` as an EU frequency URI where it names one, else as given.

    Catalogues write the EU URI (any scheme, case or trailing slash), its code (``MONTHLY``),
    a Dublin Core frequency (``http://purl.org/cld/freq/monthly``), a label (``monatlich``,
    ``irregular``) or a node with an ``rdf:value``/label. A value that is none of these is
    passed on as given: the metadata leaves it out and reports it.
    """
    given = []
    for value in sorted(graph.objects(node, DCTERMS.accrualPeriodicity), key=str):
        if isinstance(value, BNode):
            value = next(
                (
                    v
                    for p in (RDF.value, SKOS.prefLabel, RDFS.label, DCTERMS.identifier)
                    for v in graph.objects(value, p)
                    if not isinstance(v, BNode)
                ),
                None,
            )
        if value is not None and str(value).strip():
            given.append(str(value).strip())
    for value in given:
        if found := canonical_frequency(value):
            return found
    return given[0] if given else None


def _contact(graph: rdflib.Graph, node: Node) -> tuple[str | None, str | None]:
    for point in sorted(graph.objects(node, DCAT.contactPoint), key=str):
        emails = sorted(
            re.sub(r"^mailto:", "", str(e).strip(), flags=re.IGNORECASE)
            for e in graph.objects(point, VCARD.hasEmail)
            if not isinstance(e, BNode)
        )
        name, email = _text(graph, point, VCARD.fn), next((e for e in emails if e), None)
        if name or email:
            return name, email
    return None, None


def _geocoding(graph: rdflib.Graph, node: Node) -> list[str]:
    """``dcatde:politicalGeocodingURI``; without it, the DCAT-AP.de geocoding URIs of
    ``dct:spatial`` (the URI itself, or a location's ``locn:adminUnitL1``/``L2``, as
    transparenz.bremen.de writes it). Other places (a geonames URI, a polygon) are no geocoding.
    """
    given = _dcatde(graph, node, "politicalGeocodingURI")
    if given:
        return given
    found = set()
    for place in graph.objects(node, DCTERMS.spatial):
        units = (v for p in (LOCN.adminUnitL1, LOCN.adminUnitL2) for v in graph.objects(place, p))
        for value in (place, *units):
            if isinstance(value, URIRef) and (uri := canonical_geocoding(str(value))):
                found.add(uri)
    return sorted(found)


def _dcatde(graph: rdflib.Graph, node: Node, name: str) -> list[str]:
    """The values of the DCAT-AP.de property ``dcatde:<name>`` (any namespace version), each in
    its canonical spelling, sorted."""
    found = set()
    for predicate, value in graph.predicate_objects(node):
        match = DCATDE_PROPERTY.match(canonical_dcatde_uri(str(predicate)))
        if match and match.group(1) == name and not isinstance(value, BNode):
            if str(value).strip() and not _ill_typed(value):
                found.add(canonical_dcatde_uri(str(value)))
    return sorted(found)


def _resource(graph: rdflib.Graph, node: Node) -> SourceResource | None:
    """A distribution with an http(s) download or access URL; others cannot be fetched."""
    url = _http_url(graph.objects(node, DCAT.downloadURL)) or _http_url(
        graph.objects(node, DCAT.accessURL)
    )
    if url is None:
        return None
    return SourceResource(
        url=url,
        name=_text(graph, node, DCTERMS.title) or "",
        format=_file_format(graph, node),
        id=str(node) if isinstance(node, URIRef) else "",
        modified=_date(graph, node, DCTERMS.modified),
    )


def _file_format(graph: rdflib.Graph, node: Node) -> str:
    """Upper-case format: EU file-type URI or literal (or ckanext-dcat's IMT node), else the media type."""
    for value in sorted(graph.objects(node, DCTERMS.format), key=str):
        if isinstance(value, BNode):
            value = graph.value(value, RDF.value) or graph.value(value, RDFS.label) or ""
        label = str(value).strip().rstrip("/").rsplit("/", 1)[-1]
        if label:
            return label.upper()
    for value in sorted(graph.objects(node, DCAT.mediaType), key=str):
        media = re.sub(r"^.*/media-types/", "", str(value).strip()).lower()
        if media:
            return MEDIA_TYPES.get(media, media.rsplit("/", 1)[-1].upper())
    return ""


def _slug(identifier: str) -> str:
    """A CKAN-like name from the identifier's last path segment (fragment and query dropped)."""
    segment = identifier.split("#")[0].split("?")[0].rstrip("/").rsplit("/", 1)[-1] or identifier
    slug = re.sub(r"[^a-z0-9_-]+", "-", segment.lower().translate(UMLAUTS)).strip("-")
    return slug or "dataset-" + hashlib.sha256(identifier.encode()).hexdigest()[:12]
