"""The controlled vocabularies: indicators, units, DCAT-AP.de lists and licences.

Indicators and units are CSV (statisticians edit them), the DCAT-AP.de
vocabularies JSON, and the licences CKAN's licence-register format, so that
CKAN's own ``licenses_group_url`` reads the very same file. This module is
their only reader, and it holds the one rule for spelling a DCAT-AP.de URI.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from pathlib import Path
from typing import Any

from vierstaedte_contract import path

DCATDE_BASE = "http://dcat-ap.de/def/"
LICENSE_BASE = DCATDE_BASE + "licenses/"
GEOCODING_BASE = DCATDE_BASE + "politicalGeocoding/"
DEFAULT_LICENSE = LICENSE_BASE + "dl-by-de/2.0"
DEFAULT_GEOCODING_LEVEL = GEOCODING_BASE + "Level/municipality"
THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
INDICATOR_COLUMNS = ("id", "label_de", "label_en", "unit", "definition_de", "definition_en")

# catalogues in the wild write https://www.dcat-ap.de/def/… (e.g. opendata-hro.de) and
# licence versions like dl-by-de/2_0; the vocabularies define http://dcat-ap.de/def/… and 2.0
_DCATDE_HOST = re.compile(r"^https?://(www\.)?dcat-ap\.de/def/", re.IGNORECASE)
_LICENCE_VERSION = re.compile(r"^(http://dcat-ap\.de/def/licenses/.+/\d+)_(\d+)$")


def canonical_dcatde_uri(uri: str) -> str:
    """One spelling per DCAT-AP.de URI, so licences and geocodings compare equal across portals.

    ``https://www.dcat-ap.de/def/licenses/dl-by-de/2_0`` →
    ``http://dcat-ap.de/def/licenses/dl-by-de/2.0``; other URIs are only trimmed.
    """
    value = _DCATDE_HOST.sub(DCATDE_BASE, uri.strip())
    return _LICENCE_VERSION.sub(r"\1.\2", value)


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def _by_id(name: str) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in _csv_rows(path(name).read_text(encoding="utf-8"))}


def units() -> dict[str, dict[str, str]]:
    """Unit id → ``id``, ``label_de``, ``label_en``."""
    return _by_id("units.csv")


def indicators(extra: Path | str | None = None) -> dict[str, dict[str, str]]:
    """Indicator id → row of ``indicators.csv``, plus a city's own additions from ``extra``.

    ``extra`` has the same columns; an indicator there with an unknown unit is refused.
    """
    result = dict(_by_id("indicators.csv"))
    if extra is not None:
        for row in _csv_rows(Path(extra).read_text(encoding="utf-8")):
            if row.get("unit") not in units():
                raise ValueError(
                    f"{extra}: indicator {row.get('id')!r} has unknown unit "
                    f"{row.get('unit')!r}; known units: {', '.join(units())}"
                )
            result[row["id"]] = row
    return result


def indicator_info(indicator: str, lang: str = "de") -> dict[str, str]:
    """Id, labels, definition and unit of an indicator; ``label``/``definition`` in ``lang``."""
    row = indicators()[indicator]
    lang = "en" if lang == "en" else "de"
    return {
        "id": indicator,
        "label": row[f"label_{lang}"],
        "label_de": row["label_de"],
        "label_en": row["label_en"],
        "definition": row[f"definition_{lang}"],
        "definition_de": row["definition_de"],
        "definition_en": row["definition_en"],
        "unit": row["unit"],
    }


def unit_info(unit: str, lang: str = "de") -> dict[str, str]:
    """Id and labels of a unit; an unknown unit is labelled with its id."""
    row = units().get(unit, {"label_de": unit, "label_en": unit})
    return {
        "id": unit,
        "label": row["label_en" if lang == "en" else "label_de"],
        "label_de": row["label_de"],
        "label_en": row["label_en"],
    }


@functools.cache
def _json(name: str) -> Any:
    return json.loads(path(name).read_text(encoding="utf-8"))


def licences() -> list[dict[str, Any]]:
    """The licence register (CKAN's format: ``id``, ``title``, ``title_en``, ``url`` …)."""
    return list(_json("licenses.json"))


def vocabulary(name: str) -> list[dict[str, Any]]:
    """Entries ``{"value": uri, "label": {"de": …, "en": …}}`` of one vocabulary.

    ``licenses`` is read from the licence register; the others
    (``themes``, ``frequencies``, ``geocoding_levels``, ``spatial_granularities``,
    ``validation_statuses``) from ``vocabularies.json``.
    """
    if name == "licenses":
        return [
            {"value": lic["id"], "label": {"de": lic["title"], "en": lic["title_en"]}}
            for lic in licences()
        ]
    return _json("vocabularies.json")[name]


def values(name: str) -> frozenset[str]:
    return frozenset(entry["value"] for entry in vocabulary(name))


def label(name: str, value: str, lang: str = "de") -> str:
    for entry in vocabulary(name):
        if entry["value"] == value:
            return entry["label"].get(lang) or entry["label"]["de"]
    return value
