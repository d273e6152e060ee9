"""Source metadata → the portal's dataset schema (DCAT-AP.de), cleaned as untrusted input.

Text is kept as text (the portal escapes it when rendering) but stripped of
control characters and bounded in length; URIs are canonicalised where the
wild spells them differently, and a URL must be a valid http(s) URL (RFC 3986,
the portal's own rule) or it is left out and reported; tags are made
acceptable to CKAN. Nothing is invented: a value that cannot be mapped is left
out (and CKAN's validation reports a missing required field) rather than guessed.

Defaults (the city config's ``defaults``, the portal's city geocoding) fill only what the
source lacks, never replace what it says, and every field they fill is named in the run
report: a dataset labelled ANNUAL by the config while its catalogue says MONTHLY would be a
wrong fact the portal repeats with authority.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

from vierstaedte_contract import cities, vocabularies
from vierstaedte_contract.vocabularies import (
    GEOCODING_BASE,
    THEME_BASE,
    canonical_dcatde_uri,
    canonical_frequency,
    canonical_geocoding,
)
from vierstaedte_harvest.sources import SourceDataset

THEMES = frozenset(uri.removeprefix(THEME_BASE) for uri in vocabularies.values("themes"))
# (code, plain-language message) of each source field left out; None: the caller does not care
Problems = list[tuple[str, str]] | None
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG_BAD = re.compile(r"[^\w \-.]", re.UNICODE)


def clean_text(value: Any, limit: int) -> str:
    text = unicodedata.normalize("NFC", _CONTROL.sub("", str(value or ""))).strip()
    return text[:limit]


def canonical_license(value: str | None) -> str | None:
    """The canonical URI of the licence ``value`` names (``vierstaedte_contract.vocabularies``).

    ``https://www.dcat-ap.de/def/licenses/dl-by-de/2_0``, ``dl-de-by-2.0`` or
    ``https://www.govdata.de/dl-de/by-2-0`` → ``http://dcat-ap.de/def/licenses/dl-by-de/2.0``;
    None for a value the vocabulary does not know or a versionless one it cannot decide
    (:func:`licence_refusal` says which).
    """
    found = vocabularies.licence(value)
    return found.uri if found is not None and found.active else None


def _licence_problem(value: str) -> tuple[str, str]:
    """Why the source's licence ``value`` names no licence of the vocabulary."""
    shown = clean_text(value, 200)
    candidates = vocabularies.licence_candidates(value)
    if candidates:
        versions = " or ".join(lic.code for lic in candidates)
        return (
            "licence-ambiguous",
            f"licence {shown!r} names no version: it could be {versions}; "
            "the dataset is not published under a guessed one",
        )
    return (
        "licence-unknown",
        f"licence {shown!r} is not in the DCAT-AP.de licence vocabulary "
        "(http://dcat-ap.de/def/licenses/); the dataset is not published",
    )


def _restriction(lic: vocabularies.Licence) -> str:
    kinds = (("non-commercial", lic.nc), ("no derivatives", lic.nd))
    return ", ".join(word for word, flag in kinds if flag) or "closed"


def licence_refusal(source: SourceDataset, defaults: dict[str, Any]) -> tuple[str, str] | None:
    """``(code, message)`` if the dataset must not be published for its licence, else None.

    Refused: a licence the vocabulary does not know (or a versionless spelling it cannot
    decide), no licence at all where the config has no ``defaults.license``, and a licence that
    is not open (NC, ND, other-closed …) unless ``defaults.non_open_licences`` is ``flag``.
    """
    if source.license and str(source.license).strip():
        lic = vocabularies.licence(source.license)
        if lic is None or not lic.active:
            return _licence_problem(str(source.license))
    else:
        lic = vocabularies.licence(defaults.get("license"))
        if lic is None:
            return (
                "licence-missing",
                "the source gives no licence and the city config has no defaults.license; "
                "the dataset is not published without one",
            )
    if not lic.open and defaults.get("non_open_licences", "refuse") == "refuse":
        return (
            "licence-not-open",
            f"licence {lic.code} ({lic.title_de}) is not open ({_restriction(lic)}); refused as "
            "defaults.non_open_licences is refuse (flag publishes it marked as not open)",
        )
    return None


def _licence_notes(source: SourceDataset, defaults: dict[str, Any], problems: Problems) -> None:
    """Report a non-open licence published flagged (a defaulted one is in ``defaulted``)."""
    given = bool(source.license and str(source.license).strip())
    lic = vocabularies.licence(source.license if given else defaults.get("license"))
    if lic is not None and lic.active and not lic.open:
        _note(
            problems,
            f"licence {lic.code} ({lic.title_de}) is not open ({_restriction(lic)}); published "
            "flagged as not open (defaults.non_open_licences: flag)",
            "licence-not-open",
        )


def canonical_themes(values: list[str]) -> list[str]:
    """EU data-theme URIs (any spelling) or codes such as ``SOCI``; other themes are not EU themes
    and are left out."""
    themes = []
    for value in values:
        code = str(value).rstrip("/").rsplit("/", 1)[-1].upper()
        if code in THEMES and THEME_BASE + code not in themes:
            themes.append(THEME_BASE + code)
    return themes


def clean_tags(values: list[str]) -> list[dict[str, str]]:
    tags = []
    for value in values:
        tag = re.sub(r"\s+", " ", _TAG_BAD.sub(" ", clean_text(value, 100))).strip()
        if 2 <= len(tag) <= 100 and tag.lower() not in {t["name"].lower() for t in tags}:
            tags.append({"name": tag})
    return tags


def _date(value: str | None) -> str | None:
    match = re.match(r"^(\d{4}-\d{2}-\d{2})", str(value or ""))
    return match[1] if match else None


# RFC 3986 characters only (no blank, control character, quote or angle bracket); the portal's
# validator ``ckanext.vierstaedte.logic.validators.web_url`` applies the same rule.
_URI_CHARACTERS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")
_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def web_url(value: Any) -> str | None:
    """An absolute http(s) or mailto URL per RFC 3986, else None; non-ASCII is percent-encoded."""
    text = str(value or "").strip()
    if not text or _BLANK_OR_CONTROL.search(text):
        return None
    if not urlsplit(text).netloc.isascii():
        return None
    text = "".join(c if c.isascii() else quote(c, safe="") for c in text)
    if not _URI_CHARACTERS.match(text):
        return None
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            return None
        return text if parts.hostname else None
    if scheme == "mailto":
        local, at, domain = parts.path.partition("@")
        return text if local and at and domain and not parts.netloc else None
    return None


def _http(value: str | None, field: str, problems: Problems) -> str | None:
    """An http(s) URL of the source; an invalid one is left out and named in ``problems``."""
    url = web_url(value)
    if url is not None and url.lower().startswith(("http://", "https://")):
        return url
    if value and problems is not None:
        text = f"{field}: not a valid http(s) URL, left out: {clean_text(value, 200)!r}"
        problems.append(("invalid-url", text))
    return None


def link_url(resource: Any, problems: Problems = None) -> str | None:
    """The URL of a source's further resource (a link); None and a problem if it is invalid."""
    return _http(resource.url, f"resource {clean_text(resource.name, 100)!r} url", problems)


def dataset_name(city: str, source: SourceDataset) -> str:
    """A stable CKAN name: city, a slug of the source's name, and a hash of its guid (two sources
    never collide)."""
    text = unicodedata.normalize("NFKD", source.name.lower())
    text = text.replace("ß", "ss").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:70] or "datensatz"
    return f"{city}-{slug}-{hashlib.sha1(source.guid.encode()).hexdigest()[:8]}"


# the level a geocoding key states by its kind; a regional key (ARS) alone does not say whether a
# kreisfreie Stadt is meant as municipality or district, so its level is left to the source
_KEY_LEVELS = {
    "municipalityKey": "municipality",
    "districtKey": "administrativeDistrict",
    "stateKey": "state",
}


def _geocoding(source: SourceDataset, city: str, problems: Problems) -> tuple[str, str]:
    """The source's political geocoding and its level, canonical; ``""`` where it has none.

    Several URIs (a dataset about the city and its state) keep the one naming the city, else
    the first; the others are named in ``problems`` (the portal holds one).
    """
    found = []
    for value in source.political_geocoding:
        uri = canonical_geocoding(value)
        if uri is None:
            _note(
                problems, f"political geocoding: no DCAT-AP.de geocoding URI, left out: {value!r}"
            )
        elif uri not in found:
            found.append(uri)
    home = cities.find(city)
    own = [u for u in found if home and u in (home.geocoding_uri, _municipality_uri(home.ags))]
    uri = (own or found or [""])[0]
    for other in found:
        if other != uri:
            _note(problems, f"political geocoding: the portal keeps one, left out: {other}")
    level = canonical_dcatde_uri(source.political_geocoding_level or "")
    if level and level not in vocabularies.values("geocoding_levels"):
        _note(problems, f"political geocoding level: not in the vocabulary, left out: {level!r}")
        level = ""
    if uri and not level:
        kind = uri.removeprefix(GEOCODING_BASE).split("/", 1)[0]
        level = GEOCODING_BASE + "Level/" + _KEY_LEVELS[kind] if kind in _KEY_LEVELS else ""
    return uri, level


def _granularity(value: str | None, problems: Problems) -> str | None:
    """The source's spatial granularity if the portal's vocabulary has it; else left out."""
    if value and value not in vocabularies.values("spatial_granularities"):
        _note(problems, f"spatial granularity: not in the vocabulary, left out: {value!r}")
        return None
    return value or None


def _municipality_uri(ags: str) -> str:
    return GEOCODING_BASE + "municipalityKey/" + ags


def _note(problems: Problems, text: str, code: str = "field-left-out") -> None:
    if problems is not None:
        problems.append((code, clean_text(text, 500)))


def dataset_dict(
    source: SourceDataset,
    city: str,
    defaults: dict[str, Any],
    name: str,
    granularity: str | None = None,
    problems: Problems = None,
    defaulted: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The dataset as the portal stores it (without resources and without validation fields).

    A source field the portal would refuse (a landing page that is no valid URL) is left
    out, not a reason to fail the dataset; ``problems`` receives ``(code, message)`` naming it.
    ``defaulted`` receives one entry per field the source did not give and a default filled:
    ``{"field", "value", "by"}`` with ``by`` = ``config`` (the city config's ``defaults``),
    ``portal`` (the city's own value, filled in by the portal) or ``title``.
    """
    filled: list[dict[str, Any]] = []

    def fallback(field: str, given: Any, default: Any, by: str) -> Any:
        if given or not default:
            return given
        filled.append({"field": field, "value": default, "by": by})
        return default

    title = clean_text(source.title, 500) or source.name
    frequency = canonical_frequency(source.frequency)
    if source.frequency and frequency is None:
        _note(problems, f"frequency: not an EU frequency, left out: {source.frequency!r}")
    geocoding, level = _geocoding(source, city, problems)
    for theme in source.themes:
        if not canonical_themes([theme]):
            _note(problems, f"theme: no EU data theme, left out: {clean_text(theme, 200)!r}")
    data: dict[str, Any] = {
        "name": name,
        "title": title,
        "notes": fallback("notes", clean_text(source.description, 30_000), title, "title"),
        "owner_org": city,
        "theme": fallback(
            "theme",
            canonical_themes(source.themes),
            canonical_themes(defaults.get("themes", [])),
            "config",
        ),
        "license_id": fallback(
            "license_id",
            canonical_license(source.license),
            canonical_license(defaults.get("license")),
            "config",
        ),
        "tags": clean_tags(source.tags),
        "spatial_granularity": granularity
        or fallback(
            "spatial_granularity",
            _granularity(source.spatial_granularity, problems),
            defaults.get("spatial_granularity", "stadt"),
            "config",
        ),
        "temporal_start": _date(source.temporal_start),
        "temporal_end": _date(source.temporal_end),
        "frequency": fallback(
            "frequency", frequency, canonical_frequency(defaults.get("frequency")), "config"
        ),
        "political_geocoding_uri": geocoding,
        "political_geocoding_level_uri": level,
        "source_url": _http(source.landing_page, "source_url", problems),
        "source_identifier": source.guid,
    }
    _licence_notes(source, defaults, problems)
    home = cities.find(city)
    if home is not None:
        fallback("political_geocoding_uri", geocoding, home.geocoding_uri, "portal")
        fallback("political_geocoding_level_uri", level, home.geocoding_level_uri, "portal")
    if source.contact_name or source.contact_email:
        data["contact"] = [
            {
                "name": clean_text(source.contact_name, 200),
                "email": clean_text(source.contact_email, 200).removeprefix("mailto:"),
            }
        ]
    publisher_uri = _http(source.publisher_uri, "publisher uri", problems)
    if source.publisher or publisher_uri:
        data["publisher"] = [
            {
                k: v
                for k, v in (("name", clean_text(source.publisher, 200)), ("uri", publisher_uri))
                if v
            }
        ]
    if defaulted is not None:
        defaulted.extend(filled)
    return {k: v for k, v in data.items() if v not in (None, [], "")}


def differs(desired: dict[str, Any], existing: dict[str, Any]) -> list[str]:
    """The fields of ``desired`` that ``existing`` (a package_show result) does not already have."""
    changed = []
    for key, value in desired.items():
        current = existing.get(key)
        if key == "tags":
            value, current = (
                sorted(t["name"] for t in value),
                sorted(t["name"] for t in current or []),
            )
        elif key == "owner_org":
            current = (existing.get("organization") or {}).get("name")
        elif key in ("contact", "publisher"):
            current = [{k: v for k, v in item.items() if v} for item in current or []]
            value = [{k: v for k, v in item.items() if v} for item in value]
        if (value or None) != (current or None):
            changed.append(key)
    return changed
