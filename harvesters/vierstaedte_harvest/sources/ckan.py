"""CKAN Action API reader: paged ``package_search`` (e.g. the state portal filtered to one city)."""
from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import urlsplit

from vierstaedte_harvest.fetch import FetchError, Fetcher
from vierstaedte_harvest.sources import SourceDataset, SourceError, SourceResource

PAGE_ROWS = 100


def list_datasets(fetcher: Fetcher, config: dict[str, Any]) -> Iterator[SourceDataset]:
    """Every dataset matching ``fq`` (or ``organization``) at the CKAN at ``url``."""
    base = str(config["url"]).rstrip("/")
    fq = config.get("fq") or (f"organization:{config['organization']}" if config.get("organization") else "")
    rows, max_pages = int(config.get("rows", PAGE_ROWS)), int(config.get("max_pages", 1000))
    host = urlsplit(base).netloc
    start = 0
    for page in range(max_pages):
        url = f"{base}/api/3/action/package_search"
        try:
            answer = fetcher.get_json(url, params={"fq": fq, "rows": rows, "start": start, "sort": "id asc"})
        except FetchError as error:
            raise SourceError(f"listing page {page + 1} of {url} failed: {error}") from error
        if not isinstance(answer, dict) or not answer.get("success") or not isinstance(answer.get("result"), dict):
            raise SourceError(f"{url} (page {page + 1}) did not answer like a CKAN Action API")
        result = answer["result"]
        packages = result.get("results") or []
        for package in packages:
            yield _dataset(package, base, host)
        start += len(packages)
        if not packages or start >= int(result.get("count", 0)):
            return
    raise SourceError(f"{base}: more than {max_pages} pages of {rows} datasets; raise max_pages if that is real")


def _extras(package: dict[str, Any]) -> dict[str, Any]:
    extras = {e.get("key"): e.get("value") for e in package.get("extras") or [] if isinstance(e, dict)}
    return {k: v for k, v in extras.items() if k}


def _dataset(package: dict[str, Any], base: str, host: str) -> SourceDataset:
    if not isinstance(package, dict) or not package.get("id"):
        raise SourceError(f"{base}: a search result without an id")
    extras = _extras(package)
    return SourceDataset(
        guid=f"ckan:{host}:{package['id']}",
        name=str(package.get("name") or package["id"]),
        title=str(package.get("title") or package.get("name") or package["id"]),
        description=str(package.get("notes") or ""),
        tags=[str(t.get("name")) for t in package.get("tags") or [] if isinstance(t, dict) and t.get("name")],
        license=package.get("license_url") or package.get("license_id"),
        themes=[str(t) for t in (package.get("theme") or []) if isinstance(t, str)],
        modified=package.get("metadata_modified"),
        issued=package.get("metadata_created"),
        landing_page=package.get("url") or f"{base}/dataset/{package.get('name') or package['id']}",
        temporal_start=package.get("temporal_start") or extras.get("temporal_start") or extras.get("temporal_coverage_from"),
        temporal_end=package.get("temporal_end") or extras.get("temporal_end") or extras.get("temporal_coverage_to"),
        publisher=(package.get("organization") or {}).get("title"),
        contact_name=package.get("maintainer") or package.get("author"),
        contact_email=package.get("maintainer_email") or package.get("author_email"),
        resources=[
            SourceResource(url=str(r["url"]), name=str(r.get("name") or ""), format=str(r.get("format") or "").upper(),
                           id=str(r.get("id") or ""), modified=r.get("last_modified") or r.get("metadata_modified"))
            for r in package.get("resources") or [] if isinstance(r, dict) and r.get("url")
        ],
        extras={k: extras[k] for k in ("politicalGeocodingURI", "politicalGeocodingLevelURI", "contributorID") if k in extras},
    )
