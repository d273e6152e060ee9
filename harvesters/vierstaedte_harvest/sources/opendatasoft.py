"""Opendatasoft reader: the Explore API v2.1 catalogue, paged with ``limit``/``offset``.

Each dataset becomes one resource, the portal's CSV export (``;``-delimited), because
Opendatasoft serves every dataset's records through the same export endpoint; a dataset
without records (``has_records: false``, e.g. documents only) has no resource.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from vierstaedte_contract.vocabularies import canonical_dcatde_uri
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
            yield _dataset(item, base, host, page)
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


def _dataset(item: Any, base: str, host: str, page: int) -> SourceDataset:
    dataset_id = _text(item.get("dataset_id")) if isinstance(item, dict) else None
    if not dataset_id:
        raise SourceError(f"{base}{API} (page {page}): a result without a dataset_id")
    metas = item.get("metas") if isinstance(item.get("metas"), dict) else {}
    default = metas.get("default") if isinstance(metas.get("default"), dict) else {}
    dcat = metas.get("dcat") if isinstance(metas.get("dcat"), dict) else {}
    licence = _text(default.get("license_url")) or _text(default.get("license"))
    territory = _texts(default.get("territory"))
    return SourceDataset(
        guid=f"ods:{host}:{dataset_id}",
        name=dataset_id,
        title=_text(default.get("title")) or dataset_id,
        description=_text(default.get("description")) or "",
        tags=_texts(default.get("keyword")),
        license=canonical_dcatde_uri(licence) if licence else None,
        themes=_texts(default.get("theme")),
        modified=_text(default.get("modified")),
        issued=_text(dcat.get("issued")) or _text(dcat.get("created")),
        landing_page=f"{base}/explore/dataset/{quote(dataset_id, safe='')}/",
        temporal_start=_text(dcat.get("temporal_coverage_start")),
        temporal_end=_text(dcat.get("temporal_coverage_end")),
        publisher=_text(default.get("publisher")),
        contact_name=_text(dcat.get("contact_name")),
        contact_email=_text(dcat.get("contact_email")),
        resources=[_export(base, dataset_id, default)]
        if item.get("has_records") is not False
        else [],
        extras={"territory": territory} if territory else {},
    )


def _export(base: str, dataset_id: str, default: dict[str, Any]) -> SourceResource:
    """The CSV export of all records; ``data_processed`` says when the records last changed."""
    return SourceResource(
        url=f"{base}{API}/{quote(dataset_id, safe='')}/exports/csv?delimiter=%3B",
        name="CSV-Export",
        format="CSV",
        id=f"{dataset_id}/exports/csv",
        modified=_text(default.get("data_processed")) or _text(default.get("modified")),
    )
