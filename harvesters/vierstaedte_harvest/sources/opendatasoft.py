"""Opendatasoft reader: the Explore API v2.1 catalogue, paged with ``limit``/``offset``.

Each dataset becomes one resource, the portal's CSV export (``;``-delimited), because
Opendatasoft serves every dataset's records through the same export endpoint; a dataset
without records (``has_records: false``, e.g. documents only) has no resource.

A record's catalogue fields sit in metadata templates: ``metas.default`` (title, licence,
keywords, themes, publisher), ``metas.dcat`` (frequency, contact, temporal coverage,
granularity), and where a portal enables them ``metas.dcat_ap`` and ``metas.dcat_ap_de``
(geocoding, publisher URI). Every one the portal can hold is read here, so that the city
config's defaults only fill what the portal leaves empty. Portals write labels where DCAT
wants URIs (``Regionen und Städte``, ``annually``, ``Stadtteil``); a label the vocabularies
know is converted, anything else is passed on as given and the metadata step reports it.
"""

from __future__ import annotations

import calendar
import dataclasses
import functools
import re
from collections.abc import Generator
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from vierstaedte_contract import vocabularies
from vierstaedte_contract.vocabularies import canonical_dcatde_uri, canonical_frequency
from vierstaedte_harvest.fetch import Fetcher, FetchError
from vierstaedte_harvest.sources import (
    SourceDataset,
    SourceError,
    SourceResource,
    SourceSettings,
    max_pages_field,
)

API = "/api/explore/v2.1/catalog/datasets"
PAGE_SIZE = 100
YEAR_OR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(SourceSettings):
    """``source`` of ``protocol: opendatasoft``."""

    protocol: ClassVar[str] = "opendatasoft"

    url: str = dataclasses.field()  # required (field(): no inherited default); the portal
    where: str | None = None  # an ODSQL condition on the catalogue, e.g. publisher = 'Stadt X'
    refine: str | list[str] | None = None  # facet filters, e.g. publisher:Stadt X
    max_pages: int = max_pages_field()


def list_datasets(fetcher: Fetcher, settings: Settings) -> Generator[SourceDataset, None, str]:
    """The datasets of the portal at ``url`` matching the optional ``where``/``refine`` filters.

    Returns the proof: the pages add up to exactly the ``total_count`` every page announced.
    """
    base = settings.url.rstrip("/")
    host = urlsplit(base).hostname or ""
    max_pages = settings.max_pages
    params = _filters(settings)
    offset, total = 0, None
    for page in range(1, max_pages + 1):
        count, results = _page(
            fetcher, base + API, {**params, "limit": PAGE_SIZE, "offset": offset}, page
        )
        if total is not None and count != total:
            raise SourceError(
                f"{base}{API}: total_count changed from {total} to {count} while paging; try again",
                "count-changed",
            )
        total = count
        if not results and offset < total:
            raise SourceError(
                f"{base}{API}: page {page} is empty after {offset} of {total} datasets",
                "listing-ended-early",
            )
        for item in results:
            yield dataset(item, base, host, page)
        offset += len(results)
        if offset > total:
            raise SourceError(
                f"{base}{API}: {offset} results by page {page}, more than the total_count {total}",
                "count-changed",
            )
        if offset == total:
            return f"all {total} of total_count {total} on {page} page{'s' if page > 1 else ''}"
    raise SourceError(
        f"{base}{API}: more than {max_pages} pages of {PAGE_SIZE} datasets; raise max_pages if that is real"
    )


def _filters(settings: Settings) -> dict[str, Any]:
    """``where`` and ``refine`` as the API takes them; ``order_by`` keeps offset paging stable."""
    params: dict[str, Any] = {"order_by": "dataset_id"}
    if settings.where:
        params["where"] = settings.where
    if settings.refine:
        params["refine"] = settings.refine
    return params


def _page(fetcher: Fetcher, url: str, params: dict[str, Any], page: int) -> tuple[int, list[Any]]:
    try:
        answer = fetcher.get_json(url, params=params)
    except FetchError as error:
        raise SourceError(f"listing page {page} of {url} failed: {error}") from error
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("total_count"), int)
        or not isinstance(answer.get("results"), list)
    ):
        raise SourceError(
            f"{url} (page {page}) did not answer like the Opendatasoft Explore API v2.1"
        )
    return answer["total_count"], answer["results"]


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _texts(value: Any) -> list[str]:
    """A list of strings; the API gives lists, some portals a single string."""
    values = value if isinstance(value, list) else [value]
    return [text for text in (_text(v) for v in values) if text]


def _section(metas: dict[str, Any], name: str) -> dict[str, Any]:
    """One metadata template, its keys compared without case and ``_`` (``accrualPeriodicity``
    in ``dcat_ap``, ``accrualperiodicity`` in ``dcat``)."""
    section = metas.get(name)
    if not isinstance(section, dict):
        return {}
    return {re.sub(r"[_\W]", "", str(key)).lower(): value for key, value in section.items()}


def _first(*values: Any) -> str | None:
    return next((text for value in values if (text := _text(value))), None)


def dataset(item: Any, base: str, host: str, page: int = 1) -> SourceDataset:
    """One result of the catalogue (a dataset record of the Explore API v2.1)."""
    dataset_id = _text(item.get("dataset_id")) if isinstance(item, dict) else None
    if not dataset_id:
        raise SourceError(f"{base}{API} (page {page}): a result without a dataset_id")
    metas = item.get("metas") if isinstance(item.get("metas"), dict) else {}
    default = _section(metas, "default")
    dcat = _section(metas, "dcat")
    dcat_ap = _section(metas, "dcat_ap")
    dcat_ap_de = _section(metas, "dcat_ap_de")
    notes: list[tuple[str, str]] = []
    # dcat.spatial is mostly a place name; a URI there is a geocoding (checked by the metadata)
    geocoding = _texts(dcat_ap_de.get("politicalgeocodinguri"))
    geocoding += [v for v in _texts(dcat.get("spatial")) if "://" in v and v not in geocoding]
    return SourceDataset(
        guid=f"ods:{host}:{dataset_id}",
        name=dataset_id,
        title=_text(default.get("title")) or dataset_id,
        description=_text(default.get("description")) or "",
        tags=_texts(default.get("keyword")) or _texts(dcat_ap.get("keyword")),
        license=_licence(default, notes),
        themes=_themes(_texts(default.get("theme")) + _texts(dcat_ap.get("theme")), notes),
        modified=_text(default.get("modified")),
        issued=_first(dcat.get("issued"), dcat.get("created")),
        landing_page=f"{base}/explore/dataset/{quote(dataset_id, safe='')}/",
        temporal_start=_coverage(
            "temporal_coverage_start",
            _first(dcat.get("temporalcoveragestart"), dcat_ap.get("temporalstartdate")),
            notes,
        ),
        temporal_end=_coverage(
            "temporal_coverage_end",
            _first(dcat.get("temporalcoverageend"), dcat_ap.get("temporalenddate")),
            notes,
            end=True,
        ),
        publisher=_first(default.get("publisher"), dcat_ap.get("publishername")),
        publisher_uri=_first(dcat_ap_de.get("publisheruri")),
        contact_name=_first(dcat.get("contactname"), dcat_ap.get("contactname")),
        contact_email=_first(dcat.get("contactemail"), dcat_ap.get("contactemail")),
        frequency=_frequency(
            _first(
                dcat_ap_de.get("accrualperiodicity"),
                dcat.get("accrualperiodicity"),
                dcat_ap.get("accrualperiodicity"),
                default.get("updatefrequency"),
            )
        ),
        political_geocoding=geocoding,
        political_geocoding_level=_first(dcat_ap_de.get("politicalgeocodingleveluri")),
        spatial_granularity=_granularity(_text(dcat.get("granularity")), notes),
        resources=[_export(base, dataset_id, default)]
        if item.get("has_records") is not False
        else [],
        notes=notes,
    )


def _licence(default: dict[str, Any], notes: list[tuple[str, str]]) -> str | None:
    """``license_url`` or ``license``: the first the licence vocabulary knows, else as given.

    Portals fill the name from a list and let the URL be edited (a record names "Creative
    Commons - CC0" with the URL of CC BY), so the one that names a licence is kept and a name
    that names none is reported.
    """
    url, name = _text(default.get("licenseurl")), _text(default.get("license"))
    known = [value for value in (url, name) if value and vocabularies.licence(value)]
    if not known:
        given = url or name
        return canonical_dcatde_uri(given) if given else None
    chosen = vocabularies.licence(known[0])
    other = name if known[0] == url else url
    found = vocabularies.licence(other) if other else None
    if other and found is None:
        notes.append(
            (
                "licence-unconfirmed",
                f"licence: {other!r} names no licence of the vocabulary; {known[0]!r} "
                f"({chosen.code}) is used, check that both mean the same",
            )
        )
    elif found is not None and found.uri != chosen.uri:
        notes.append(
            (
                "licence-conflict",
                f"licence: the record names {found.code} ({other!r}) and {chosen.code} "
                f"({known[0]!r}); {chosen.code} is used",
            )
        )
    return chosen.uri


@functools.cache
def _label_index(name: str) -> dict[str, str]:
    """A vocabulary's values by their German and English labels and their last URI segment."""
    index = {}
    for entry in vocabularies.vocabulary(name):
        for label in [entry["value"].rsplit("/", 1)[-1], *entry["label"].values()]:
            index[_key(label)] = entry["value"]
    return index


def _key(label: str) -> str:
    return re.sub(r"[\s_-]+", "", label.casefold())


def _themes(values: list[str], notes: list[tuple[str, str]]) -> list[str]:
    """EU data themes by URI, code or label (``Regionen und Städte`` → REGI); the portal's own
    themes (``Bevölkerung``) name no EU theme and are reported."""
    index, themes = _label_index("themes"), []
    for value in values:
        uri = index.get(_key(canonical_dcatde_uri(value).rstrip("/").rsplit("/", 1)[-1]))
        if uri is None:
            notes.append(("field-left-out", f"theme {value!r} is no EU data theme, left out"))
        elif uri not in themes:
            themes.append(uri)
    return themes


def _frequency(value: str | None) -> str | None:
    """The EU frequency URI of any spelling the contract knows (an ISO 19115 code such as
    ``annually``, a label); another value is passed on as given (and reported by metadata)."""
    return canonical_frequency(value) or value


def _granularity(value: str | None, notes: list[tuple[str, str]]) -> str | None:
    """The portal's granularity for a label it knows (``Stadtteil``); else reported."""
    if value is None:
        return None
    found = _label_index("spatial_granularities").get(_key(value))
    if found is None:
        notes.append(
            ("field-left-out", f"granularity {value!r} is no granularity of the portal, left out")
        )
    return found


def _coverage(field: str, value: str | None, notes: list[tuple[str, str]], end=False) -> str | None:
    """A coverage bound as a date: ``2020`` starts on 1 January and ends on 31 December, ``2020-06``
    on the month's first and last day; a date-time is kept; anything else is reported."""
    if value is None:
        return None
    match = YEAR_OR_MONTH.match(value)
    if match is None:
        if re.match(r"^\d{4}-\d{2}-\d{2}", value):
            return value
        notes.append(("field-left-out", f"{field}: no date, left out: {value!r}"))
        return None
    year, month = int(match[1]), int(match[2] or (12 if end else 1))
    if not 1 <= month <= 12:
        notes.append(("field-left-out", f"{field}: no date, left out: {value!r}"))
        return None
    day = calendar.monthrange(year, month)[1] if end else 1
    return f"{year:04d}-{month:02d}-{day:02d}"


def _export(base: str, dataset_id: str, default: dict[str, Any]) -> SourceResource:
    """The CSV export of all records; ``data_processed`` says when the records last changed."""
    return SourceResource(
        url=f"{base}{API}/{quote(dataset_id, safe='')}/exports/csv?delimiter=%3B",
        name="CSV-Export",
        format="CSV",
        id=f"{dataset_id}/exports/csv",
        modified=_text(default.get("dataprocessed")) or _text(default.get("modified")),
    )
