"""Manifest reader: a YAML list of files that city IT maintains, for cities without a catalogue.

A manifest is one document, parsed whole or refused, so having read every entry is the proof
that the listing is complete. It can say everything a catalogue says about a dataset (the keys
are listed in docs/harvesters.md), so that the city config's defaults only fill what it leaves
out; a value the portal cannot use (an unknown frequency) is left out and reported by the
metadata step, never replaced silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from pathlib import Path
from typing import Any, ClassVar

import yaml

from vierstaedte_harvest.fetch import Fetcher, FetchError
from vierstaedte_harvest.sources import SourceDataset, SourceError, SourceResource, SourceSettings

DATASET_KEYS = {
    "id",
    "title",
    "description",
    "tags",
    "license",
    "themes",
    "modified",
    "issued",
    "landing_page",
    "temporal_start",
    "temporal_end",
    "publisher",
    "publisher_uri",
    "contact_name",
    "contact_email",
    "frequency",
    "geocoding",
    "geocoding_level",
    "spatial_granularity",
    "files",
}
FILE_KEYS = {"url", "name", "format", "modified"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(SourceSettings):
    """``source`` of ``protocol: manifest``: exactly one of ``path`` and ``url``."""

    protocol: ClassVar[str] = "manifest"

    path: str | None = None  # a local file, relative to the city config
    # the namespace of the datasets' ids: the config's city, not a key of its own
    city: str = dataclasses.field(default="manifest", metadata={"key": False})

    def __post_init__(self) -> None:
        if self.path and self.url:
            raise ValueError("source.path and source.url: give one, not both")
        if not (self.path or self.url):
            raise ValueError("source.path or source.url is required for protocol manifest")

    @property
    def location(self) -> str:
        return self.path or self.url or ""


def list_datasets(fetcher: Fetcher, settings: Settings) -> Generator[SourceDataset, None, str]:
    """Datasets from the manifest at ``path`` (a local file) or ``url`` (fetched), and the proof."""
    if settings.path:
        path = Path(settings.path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise SourceError(f"manifest {path}: {error}") from error
        where = str(path)
    else:
        try:
            body, _ = fetcher.get_bytes(settings.url)
        except FetchError as error:
            raise SourceError(f"manifest {settings.url}: {error}") from error
        text, where = body.decode("utf-8", errors="replace"), settings.url
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise SourceError(f"manifest {where}: not valid YAML: {error}") from error
    entries = data.get("datasets") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise SourceError(f"manifest {where}: expected a top-level 'datasets:' list")
    for number, entry in enumerate(entries, start=1):
        yield _dataset(entry, f"{where}: datasets[{number}]", settings.city)
    return f"the whole manifest {where} ({len(entries)} entries)"


def _dataset(entry: Any, at: str, city: str) -> SourceDataset:
    if not isinstance(entry, dict):
        raise SourceError(f"{at}: must be a mapping")
    unknown = set(entry) - DATASET_KEYS
    if unknown:
        raise SourceError(f"{at}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("id", "title", "files"):
        if not entry.get(key):
            raise SourceError(f"{at}: '{key}' is required")
    identifier = str(entry["id"])
    files = []
    for position, item in enumerate(entry["files"], start=1):
        if not isinstance(item, dict) or not item.get("url") or set(item) - FILE_KEYS:
            raise SourceError(
                f"{at}.files[{position}]: needs 'url' and only {', '.join(sorted(FILE_KEYS))}"
            )
        files.append(
            SourceResource(
                url=str(item["url"]),
                name=str(item.get("name") or ""),
                format=str(item.get("format") or Path(str(item["url"])).suffix.lstrip(".")).upper(),
                id=str(item["url"]),
                modified=_text(item.get("modified")),
            )
        )

    def listed(key: str) -> list[str]:
        value = entry.get(key) or []
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    return SourceDataset(
        guid=f"manifest:{city}:{identifier}",
        name=identifier,
        title=str(entry["title"]),
        description=str(entry.get("description") or ""),
        tags=listed("tags"),
        license=_text(entry.get("license")),
        themes=listed("themes"),
        modified=_text(entry.get("modified")),
        issued=_text(entry.get("issued")),
        landing_page=_text(entry.get("landing_page")),
        temporal_start=_text(entry.get("temporal_start")),
        temporal_end=_text(entry.get("temporal_end")),
        publisher=_text(entry.get("publisher")),
        publisher_uri=_text(entry.get("publisher_uri")),
        contact_name=_text(entry.get("contact_name")),
        contact_email=_text(entry.get("contact_email")),
        frequency=_text(entry.get("frequency")),
        political_geocoding=listed("geocoding"),
        political_geocoding_level=_text(entry.get("geocoding_level")),
        spatial_granularity=_text(entry.get("spatial_granularity")),
        resources=files,
    )


def _text(value: Any) -> str | None:
    """YAML turns 2024-01-31 into a date; the pipeline wants ISO text."""
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
