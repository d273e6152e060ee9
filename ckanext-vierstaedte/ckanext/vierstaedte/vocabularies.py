"""The controlled vocabularies and the four cities, loaded once from ``data/``.

Kept as data, not code, so the schema, the validators, the seed command and
the harvesters all read the same lists.
"""
from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

DATA = resources.files("ckanext.vierstaedte") / "data"
GEOCODING_BASE = "http://dcat-ap.de/def/politicalGeocoding/"
DEFAULT_LICENSE = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
DEFAULT_GEOCODING_LEVEL = GEOCODING_BASE + "Level/municipality"


@functools.cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def vocabulary(name: str) -> list[dict[str, Any]]:
    """Entries ``{"value": uri, "label": {"de": …, "en": …}}`` of one vocabulary.

    The licences live in ``licenses.json`` in CKAN's licence-register format,
    so CKAN's own ``licenses_group_url`` reads the very same file.
    """
    if name == "licenses":
        return [
            {"value": lic["id"], "label": {"de": lic["title"], "en": lic["title_en"]}}
            for lic in _load("licenses.json")
        ]
    return _load("vocabularies.json")[name]


def values(name: str) -> frozenset[str]:
    return frozenset(entry["value"] for entry in vocabulary(name))


def label(name: str, value: str, lang: str = "de") -> str:
    for entry in vocabulary(name):
        if entry["value"] == value:
            return entry["label"].get(lang) or entry["label"]["de"]
    return value


def cities() -> list[dict[str, Any]]:
    """The four cities with their official keys and derived DCAT-AP.de URIs."""
    return [
        dict(
            city,
            political_geocoding_uri=GEOCODING_BASE + "regionalKey/" + city["regional_key"],
            political_geocoding_level_uri=DEFAULT_GEOCODING_LEVEL,
        )
        for city in _load("cities.json")["cities"]
    ]


def city(name: str) -> dict[str, Any] | None:
    return next((c for c in cities() if c["name"] == name), None)
