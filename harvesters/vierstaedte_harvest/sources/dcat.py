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

import dataclasses
import hashlib
import re
import typing
import xml.parsers.expat
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import rdflib
from rdflib import RDF, RDFS, BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF
from rdflib.term import Node

from vierstaedte_contract.vocabularies import canonical_dcatde_uri
from vierstaedte_harvest.fetch import Fetcher, FetchError
from vierstaedte_harvest.sources import (
    Gap,
    Skipped,
    SourceDataset,
    SourceError,
    SourceResource,
    SourceSettings,
    max_pages_field,
)

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
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
DCATDE_EXTRA = re.compile(
    r"^http://dcat-ap\.de/def/dcatde/(?:[\d._]+/)?(politicalGeocodingURI|politicalGeocodingLevelURI|contributorID)$"
)
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


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
        graph = _page(fetcher, page_url, explicit, seen_bodies)
        stated = _total_items(graph, page_url)
        if stated is not None and total is not None and stated != total:
            yield Gap(
                "count-changed",
                f"DCAT page {page_url}: hydra:totalItems changed from "
                f"{total} to {stated} while the catalogue was listed",
            )
        total = stated if stated is not None else total
        datasets = sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)
        for node in datasets:
            dataset = _dataset(graph, node, host, page_url)
            entries.add(dataset.guid)
            if _wanted(graph, node, settings):
                yield dataset  # a repeat (the catalogue shifted) is the listing's to judge
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
        for predicate in (DCAT.dataset, DCAT.service, DCAT.resource)
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
    return "dcat:" + str(uri)[len(str(DCAT)) :] if str(uri).startswith(str(DCAT)) else str(uri)


def _page(
    fetcher: Fetcher, url: str, explicit: str | None, seen_bodies: dict[str, str]
) -> rdflib.Graph:
    """One catalogue page as a graph, or SourceError naming the page."""
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
    if kind == "xml":
        _refuse_dtd(body, url)
    graph = rdflib.Graph()
    try:
        graph.parse(data=body, format=kind, publicID=url)
    except Exception as error:  # rdflib's parsers raise many unrelated exception types
        raise SourceError(
            f"DCAT page {url} is not valid RDF ({kind}): {error.__class__.__name__}: {error}"
        ) from error
    if (None, RDF.type, DCAT.Catalog) not in graph and (None, RDF.type, DCAT.Dataset) not in graph:
        raise SourceError(f"DCAT page {url} holds neither a dcat:Catalog nor a dcat:Dataset")
    return graph


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
    found = _extras(graph, node).get("contributorID") or []
    found = [found] if isinstance(found, str) else found
    return any(
        uri == canonical_dcatde_uri(contributor) or uri.rsplit("/", 1)[-1] == contributor
        for uri in found
    )


def _publisher_texts(graph: rdflib.Graph, node: Node) -> list[str]:
    texts = []
    for agent in graph.objects(node, DCTERMS.publisher):
        if not isinstance(agent, BNode):
            texts.append(str(agent))
        texts.extend(str(name) for name in graph.objects(agent, FOAF.name))
    return texts


def _dataset(graph: rdflib.Graph, node: Node, host: str, page_url: str) -> SourceDataset:
    identifier = _text(graph, node, DCTERMS.identifier) or (
        str(node) if isinstance(node, URIRef) else ""
    )
    if not identifier:
        raise SourceError(f"DCAT page {page_url}: a dcat:Dataset without dct:identifier or URI")
    name = _slug(identifier)
    distributions = sorted(set(graph.objects(node, DCAT.distribution)), key=str)
    start, end = _temporal(graph, node)
    contact_name, contact_email = _contact(graph, node)
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
        publisher=_publisher_name(graph, node),
        contact_name=contact_name,
        contact_email=contact_email,
        resources=[r for r in (_resource(graph, d) for d in distributions) if r is not None],
        extras=_extras(graph, node),
    )


def _rank(literal: Literal) -> int:
    """German first, then untagged, then any other language."""
    language = (literal.language or "").lower()
    return 0 if language == "de" or language.startswith("de-") else 1 if not language else 2


def _literals(graph: rdflib.Graph, node: Node, predicate: URIRef) -> list[Literal]:
    return [
        value
        for value in graph.objects(node, predicate)
        if isinstance(value, Literal) and str(value).strip()
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
            if ISO_DATE.match(str(value).strip()):
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
        str(v).strip() for v in graph.objects(node, predicate) if not isinstance(v, BNode)
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


def _publisher_name(graph: rdflib.Graph, node: Node) -> str | None:
    for agent in sorted(graph.objects(node, DCTERMS.publisher), key=str):
        name = str(agent).strip() if isinstance(agent, Literal) else _text(graph, agent, FOAF.name)
        if name:
            return name
    return None


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


def _extras(graph: rdflib.Graph, node: Node) -> dict[str, str | list[str]]:
    """DCAT-AP.de geocoding and contributor, canonicalised; several values become a sorted list."""
    found: dict[str, set[str]] = {}
    for predicate, value in graph.predicate_objects(node):
        match = DCATDE_EXTRA.match(canonical_dcatde_uri(str(predicate)))
        if match and not isinstance(value, BNode) and str(value).strip():
            found.setdefault(match.group(1), set()).add(canonical_dcatde_uri(str(value)))
    return {
        key: values.pop() if len(values) == 1 else sorted(values)
        for key, values in sorted(found.items())
    }


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
