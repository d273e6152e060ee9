"""CKAN Action API reader: paged ``package_search`` (e.g. the state portal filtered to one city).

The listing is proven complete only when the pages, sorted by id, add up to exactly the
``count`` every page announced: a page that comes back empty before that, a ``count`` that
moves (a dataset deleted while paging shifts another onto a page already read), or a page
that repeats the one before (a server that ignores ``start``) leave it incomplete. Records
whose ``type`` is not ``dataset`` (harvest sources, showcases) are skipped and reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import Any, ClassVar
from urllib.parse import urlsplit

from vierstaedte_harvest.fetch import Fetcher, FetchError
from vierstaedte_harvest.sources import (
    Skipped,
    SourceDataset,
    SourceError,
    SourceResource,
    SourceSettings,
    max_pages_field,
)

PAGE_ROWS = 100


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(SourceSettings):
    """``source`` of ``protocol: ckan``. Without ``organization`` or ``fq`` the reader lists the
    whole portal; both together are refused, as one of them would be ignored."""

    protocol: ClassVar[str] = "ckan"

    url: str = dataclasses.field()  # required (field(): no inherited default); the CKAN site
    organization: str | None = None  # lists only this organisation's datasets
    fq: str | None = None  # a Solr filter query instead of organization
    rows: int = dataclasses.field(default=PAGE_ROWS, metadata={"low": 1, "high": 1000})
    max_pages: int = max_pages_field()

    def __post_init__(self) -> None:
        if self.organization and self.fq:
            raise ValueError(
                "source.organization and source.fq: give one, not both (to filter "
                f"by both, fq: 'organization:{self.organization} AND …')"
            )

    @property
    def filter(self) -> str:
        """The ``fq`` of every ``package_search``; empty lists the whole portal."""
        return self.fq or (f"organization:{self.organization}" if self.organization else "")


def list_datasets(fetcher: Fetcher, settings: Settings) -> Generator[Any, None, str]:
    """The datasets matching the filter at the CKAN at ``url``, and the proof."""
    base = settings.url.rstrip("/")
    fq, rows, max_pages = settings.filter, settings.rows, settings.max_pages
    host = urlsplit(base).netloc
    url = f"{base}/api/3/action/package_search"
    start, count, previous = 0, None, None
    for page in range(1, max_pages + 1):
        params = {"fq": fq, "rows": rows, "start": start, "sort": "id asc"}
        result = _page(fetcher, url, params, page)
        at = f"{url}: page {page} (start={start})"
        if count is not None and result["count"] != count:
            raise SourceError(
                f"{at}: count changed from {count} to {result['count']}: the "
                "catalogue changed while it was listed",
                "count-changed",
            )
        count, packages = result["count"], result["results"]
        if not packages and start < count:
            raise SourceError(
                f"{at} is empty after {start} of count {count}", "listing-ended-early"
            )
        ids = [str(package.get("id")) if isinstance(package, dict) else "" for package in packages]
        if ids and ids == previous:
            raise SourceError(
                f"{at} repeats page {page - 1}: the server ignores start", "repeated-ids"
            )
        previous = ids
        for package in packages:
            yield _record(package, base, host)
        start += len(packages)
        if start > count:
            raise SourceError(
                f"{at}: {start} results, more than the count {count}", "count-changed"
            )
        if start == count:
            return f"all {count} of count {count} on {page} page{'s' if page > 1 else ''}"
    raise SourceError(
        f"{base}: more than {max_pages} pages of {rows} datasets; raise max_pages if that is real"
    )


def _page(fetcher: Fetcher, url: str, params: dict[str, Any], page: int) -> dict[str, Any]:
    """One ``package_search`` result with a whole-number ``count`` and a list of ``results``."""
    try:
        answer = fetcher.get_json(url, params=params)
    except FetchError as error:
        raise SourceError(f"listing page {page} of {url} failed: {error}") from error
    result = answer.get("result") if isinstance(answer, dict) and answer.get("success") else None
    count = result.get("count") if isinstance(result, dict) else None
    if (
        isinstance(count, bool)
        or not isinstance(count, int)
        or not isinstance(result.get("results", []), list)
    ):
        raise SourceError(f"{url} (page {page}) did not answer like a CKAN Action API")
    return {"count": count, "results": result.get("results") or []}


def _record(package: Any, base: str, host: str) -> SourceDataset | Skipped:
    """A dataset, or :class:`Skipped` for another type of record (CKAN's default: ``dataset``)."""
    if not isinstance(package, dict) or not package.get("id"):
        raise SourceError(f"{base}: a search result without an id")
    kind = str(package.get("type") or "dataset")
    if kind != "dataset":
        title = str(package.get("title") or package.get("name") or "")
        return Skipped(f"ckan:{host}:{package['id']}", kind, title)
    return _dataset(package, base, host)


def _extras(package: dict[str, Any]) -> dict[str, Any]:
    extras = {
        e.get("key"): e.get("value") for e in package.get("extras") or [] if isinstance(e, dict)
    }
    return {k: v for k, v in extras.items() if k}


def _dataset(package: dict[str, Any], base: str, host: str) -> SourceDataset:
    extras = _extras(package)
    return SourceDataset(
        guid=f"ckan:{host}:{package['id']}",
        name=str(package.get("name") or package["id"]),
        title=str(package.get("title") or package.get("name") or package["id"]),
        description=str(package.get("notes") or ""),
        tags=[
            str(t.get("name"))
            for t in package.get("tags") or []
            if isinstance(t, dict) and t.get("name")
        ],
        license=package.get("license_url") or package.get("license_id"),
        themes=[str(t) for t in (package.get("theme") or []) if isinstance(t, str)],
        modified=package.get("metadata_modified"),
        issued=package.get("metadata_created"),
        landing_page=package.get("url") or f"{base}/dataset/{package.get('name') or package['id']}",
        temporal_start=package.get("temporal_start")
        or extras.get("temporal_start")
        or extras.get("temporal_coverage_from"),
        temporal_end=package.get("temporal_end")
        or extras.get("temporal_end")
        or extras.get("temporal_coverage_to"),
        publisher=(package.get("organization") or {}).get("title"),
        contact_name=package.get("maintainer") or package.get("author"),
        contact_email=package.get("maintainer_email") or package.get("author_email"),
        resources=[
            SourceResource(
                url=str(r["url"]),
                name=str(r.get("name") or ""),
                format=str(r.get("format") or "").upper(),
                id=str(r.get("id") or ""),
                modified=r.get("last_modified") or r.get("metadata_modified"),
            )
            for r in package.get("resources") or []
            if isinstance(r, dict) and r.get("url")
        ],
        extras={
            k: extras[k]
            for k in ("politicalGeocodingURI", "politicalGeocodingLevelURI", "contributorID")
            if k in extras
        },
    )
