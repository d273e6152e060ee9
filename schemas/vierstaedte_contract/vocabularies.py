"""The controlled vocabularies: indicators, units, DCAT-AP.de lists and licences.

Indicators and units are CSV (statisticians edit them), the DCAT-AP.de
vocabularies JSON, and the licences CKAN's licence-register format, so that
CKAN's own ``licenses_group_url`` reads the very same file. This module is
their only reader, and it holds the one rule for spelling a DCAT-AP.de URI.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


# the political-geocoding keys DCAT-AP.de defines, each with its level and its digit count
GEOCODING_URI = re.compile(
    r"^http://dcat-ap\.de/def/politicalGeocoding/"
    r"(regionalKey/\d{12}|municipalityKey/\d{8}|districtKey/\d{5}|stateKey/\d{2})$"
)


def canonical_geocoding(uri: str | None) -> str | None:
    """A DCAT-AP.de political-geocoding URI in its one spelling, or None if it is none."""
    value = canonical_dcatde_uri(str(uri or ""))
    return value if GEOCODING_URI.match(value) else None


# how catalogues spell an update frequency besides the EU URI and code, folded by
# _frequency_key: the vocabulary's labels (de, en), ISO 19115 maintenance codes (Opendatasoft,
# INSPIRE), the last segment of Dublin Core's frequency URIs, and German words whose meaning is
# certain. "biannual" (twice a year, or every two years?) and "fortnightly" are none of them.
_FREQUENCY_SPELLINGS = {
    "DAILY": ("taeglich", "daily"),
    "WEEKLY": ("woechentlich", "weekly"),
    "MONTHLY": ("monatlich", "monthly"),
    "QUARTERLY": ("vierteljaehrlich", "quartalsweise", "quarterly"),
    "ANNUAL_2": ("halbjaehrlich", "semiannual", "biannually"),
    "ANNUAL": ("jaehrlich", "annual", "annually", "yearly"),
    "BIENNIAL": ("zweijaehrlich", "allezweijahre", "biennial", "biennially"),
    "IRREG": ("unregelmaessig", "irregular", "asneeded"),
    "NEVER": ("nie", "never", "notplanned"),
    "UNKNOWN": ("unbekannt", "unknown"),
}
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _frequency_key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold().translate(_FOLD))


@functools.cache
def _frequencies() -> dict[str, str]:
    """Folded spelling → EU frequency URI."""
    found = {
        _frequency_key(spelling): FREQUENCY_BASE + code
        for code, spellings in _FREQUENCY_SPELLINGS.items()
        for spelling in spellings
    }
    for entry in vocabulary("frequencies"):
        found.update(dict.fromkeys(map(_frequency_key, entry["label"].values()), entry["value"]))
    return found


def canonical_frequency(value: str | None) -> str | None:
    """The EU frequency URI a catalogue's update frequency names, else None.

    The EU URI in any scheme/case, its code (``MONTHLY``), a Dublin Core frequency URI
    (``http://purl.org/cld/freq/monthly``), an ISO 19115 code (``annually``) or a label
    (``monatlich``, ``vierteljährlich``, ``irregular``): the one rule all readers use.
    """
    text = str(value or "").strip().rstrip("/")
    code = text.rsplit("/", 1)[-1]
    uri = FREQUENCY_BASE + code.upper()
    if code and uri in values("frequencies"):
        return uri
    return _frequencies().get(_frequency_key(code)) or _frequencies().get(_frequency_key(text))


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def _by_id(name: str) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in _csv_rows(path(name).read_text(encoding="utf-8"))}


def units() -> dict[str, dict[str, str]]:
    """Unit id → its row of ``units.csv`` (labels, ``dimension``, ``factor``, ``symbols``).

    Typed units, spellings and conversions: :mod:`vierstaedte_contract.units`.
    """
    return _by_id("units.csv")


def indicators(extra: Path | str | None = None) -> dict[str, dict[str, str]]:
    """Indicator id → row of ``indicators.csv``, plus a city's own additions from ``extra``.

    ``extra`` has the same columns; an indicator there with an unknown unit is refused.
    """
    result = dict(_by_id("indicators.csv"))
    if extra is not None:
        rows = _csv_rows(Path(extra).read_text(encoding="utf-8"))
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            if row.get("unit") not in units():
                raise ValueError(
                    f"{extra} line {line}: indicator {row.get('id')!r} has unknown unit "
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
    """The licence register (CKAN's format: ``id``, ``title``, ``title_en``, ``url`` …).

    Derived from GovData's DCAT-AP.de licence lists by ``scripts/licences.py`` (provenance in
    ``data/SOURCES.md``): every licence of the vocabulary, then the URIs of older DCAT-AP.de
    versions (``status`` ``deprecated``, ``replaced_by`` their successor).
    """
    return list(_json("licenses.json"))


@dataclasses.dataclass(frozen=True)
class Licence:
    """One licence of the DCAT-AP.de vocabulary; ``open`` is Open Definition conformance."""

    uri: str
    code: str  # the vocabulary's identifier: cc-by/4.0, dl-by-de/2.0, other-closed
    title_de: str
    title_en: str
    url: str  # the licence text
    open: bool
    nc: bool  # non-commercial only
    nd: bool  # no derivatives
    active: bool
    replaced_by: str | None = None

    def title(self, lang: str = "de") -> str:
        return self.title_en if lang == "en" else self.title_de


def _licence_key(text: str) -> str:
    """How licence spellings compare: case, blanks, ``_ / . > -`` and dashes do not matter, nor
    the word "Version" (``Datenlizenz Deutschland – Namensnennung – Version 2.0``)."""
    words = re.split(r"[\s_/.>\-–—]+", text.strip().lower())
    return "-".join(word for word in words if word and word != "version")


def _url_key(url: str) -> str:
    """A licence URL without scheme, ``www.``, trailing slash, ``deed.xx`` or ``legalcode``."""
    parts = urlsplit(url.strip().lower())
    path = re.sub(r"/(deed\.[a-z-]+|legalcode(\.[a-z-]+)?)?/*$", "", parts.path)
    return parts.netloc.removeprefix("www.") + path


_VERSION = re.compile(r"(-\d+)+$")


@functools.cache
def _licence_index() -> tuple[dict[str, Licence], dict[str, Licence], dict[str, Licence]]:
    """Three ways in: DCAT-AP.de URI path, other URL, and text (ids, codes, CKAN/OGD ids).

    A URL two licences share (``…/by-nd/3.0/`` is the text of ``cc-by-nd`` and of
    ``cc-by-nd/3.0``) goes to the one whose version the URL names, else to neither.
    """
    by_path: dict[str, Licence] = {}
    by_url: dict[str, list[Licence]] = {}
    by_text: dict[str, Licence] = {}
    for row in licences():
        lic = Licence(
            uri=row["id"],
            code=row["code"],
            title_de=row["title"],
            title_en=row["title_en"],
            url=row["url"],
            open=row["od_conformance"] == "approved",
            nc=row["nc"],
            nd=row["nd"],
            active=row["status"] == "active",
            replaced_by=row.get("replaced_by"),
        )
        by_path.setdefault(_licence_key(lic.code), lic)  # active ones come first
        if not lic.active:
            continue
        for alias in [lic.code, *row["aliases"], lic.title_de, lic.title_en]:
            if "://" in alias:
                by_url.setdefault(_url_key(alias), []).append(lic)
            else:
                by_text.setdefault(_licence_key(alias), lic)
    urls = {}
    for key, found in by_url.items():
        named = [lic for lic in found if "/" in lic.code and lic.code.split("/")[-1] in key]
        if len({lic.uri for lic in found}) == 1 or len(named) == 1:
            urls[key] = named[0] if len(named) == 1 else found[0]
    return by_path, urls, by_text


def _find_licence(value: str) -> Licence | None:
    by_path, by_url, by_text = _licence_index()
    text = str(value).strip()
    if "://" not in text:
        return by_text.get(_licence_key(text))
    uri = canonical_dcatde_uri(text)
    if uri.startswith(LICENSE_BASE):
        return by_path.get(_licence_key(uri.removeprefix(LICENSE_BASE)))
    return by_url.get(_url_key(text))


def licence(value: str | None) -> Licence | None:
    """The licence a source means by ``value``, in the active entry of the vocabulary; else None.

    ``value`` may be a DCAT-AP.de URI in any spelling (``https://www.dcat-ap.de/…/dl-by-de/2_0``,
    a URI of an older DCAT-AP.de version: its successor), the vocabulary's code
    (``cc-by/4.0``), a CKAN/OGD id (``dl-de-by-2.0``, ``odc-odbl``, ``CC-BY-4.0``, ``CC BY 4.0``)
    or the licence's own URL (``https://creativecommons.org/licenses/by/4.0/``,
    ``https://www.govdata.de/dl-de/by-2-0``). A spelling without a version maps only to the
    vocabulary's own versionless entry (``cc-by``); otherwise it is None and
    :func:`licence_candidates` names the versions it could mean. An older URI without a
    successor is returned as it is (not active).
    """
    if not value or not str(value).strip():
        return None
    found = _find_licence(str(value))
    if found is not None and found.replaced_by:
        return _find_licence(found.replaced_by)
    return found


def licence_candidates(value: str | None) -> list[Licence]:
    """The active licences a versionless spelling could mean (``dl-by-de`` → 1.0 and 2.0).

    Empty if ``value`` names a licence, has a version, or resembles none.
    """
    if not value or licence(value) is not None:
        return []
    text = str(value).strip()
    uri = canonical_dcatde_uri(text)
    key = _licence_key(uri.removeprefix(LICENSE_BASE) if "://" in text else text)
    if _VERSION.search(key):
        return []
    _, _, by_text = _licence_index()
    found = {lic.uri: lic for alias, lic in by_text.items() if _VERSION.sub("", alias) == key}
    return sorted(found.values(), key=lambda lic: lic.code)


def active_licences() -> list[Licence]:
    """The licences a dataset may carry: the vocabulary's active entries, in register order."""
    by_path, _, _ = _licence_index()
    return [lic for lic in by_path.values() if lic.active]


def vocabulary(name: str) -> list[dict[str, Any]]:
    """Entries ``{"value": uri, "label": {"de": …, "en": …}}`` of one vocabulary.

    ``licenses`` is read from the licence register; the others
    (``themes``, ``frequencies``, ``geocoding_levels``, ``spatial_granularities``,
    ``validation_statuses``) from ``vocabularies.json``.
    """
    if name == "licenses":
        return [
            {"value": lic.uri, "label": {"de": lic.title_de, "en": lic.title_en}}
            for lic in active_licences()
        ]
    return _json("vocabularies.json")[name]


def values(name: str) -> frozenset[str]:
    return frozenset(entry["value"] for entry in vocabulary(name))


def label(name: str, value: str, lang: str = "de") -> str:
    for entry in vocabulary(name):
        if entry["value"] == value:
            return entry["label"].get(lang) or entry["label"]["de"]
    return value
