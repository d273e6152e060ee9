"""Validators of the DCAT-AP.de dataset schema.

Messages are German first (the portal's language) and always name the
offending value, so an API client can show them to a person unchanged.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

import ckan.plugins.toolkit as tk
from ckan import model

from vierstaedte_contract import cities, vocabularies
from vierstaedte_contract.vocabularies import canonical_dcatde_uri, canonical_geocoding

Invalid = tk.Invalid
_ = tk._

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


# RFC 3986: unreserved and reserved characters, and percent-encodings; nothing else (no blank,
# no control character, no quote or angle bracket).
_URI_CHARACTERS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")
_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
URL_SCHEMES = ("http", "https", "mailto")


def web_url(value: Any) -> str | None:
    """``value`` as an absolute RFC 3986 URL with scheme http, https or mailto; None if it is none.

    Non-ASCII characters outside the host (an IRI such as ``…/ämter``) are
    percent-encoded as UTF-8 (RFC 3987, 3.1); blanks and control characters
    are refused, never encoded. ``vierstaedte_harvest.metadata.web_url`` applies the same rule.
    """
    text = str(value).strip()
    if not text or _BLANK_OR_CONTROL.search(text):
        return None
    parts = urlsplit(text)
    if not parts.netloc.isascii():
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


def vierstaedte_uri(value: Any, context: dict) -> Any:
    """An absolute http(s) or mailto URL (:func:`web_url`); anything else is refused."""
    if value in (None, "", tk.missing):
        return value
    url = web_url(value)
    if url is None:
        raise Invalid(
            _("Keine gültige URL (http, https oder mailto, ohne Leerzeichen): {value}").format(
                value=value
            )
        )
    return url


def vierstaedte_resource_url(key: tuple, data: dict, errors: dict, context: dict) -> None:
    """A resource's URL: a link's must be valid (``vierstaedte_uri``); an upload's is its file."""
    value = data.get(key)
    if value in (None, "", tk.missing) or data.get(key[:-1] + ("url_type",)) == "upload":
        return
    try:
        data[key] = vierstaedte_uri(value, context)
    except Invalid as error:
        errors[key].append(error.error)


def _expand(vocab: str, value: str) -> str:
    """Accept a vocabulary entry by its URI or by its last path segment(s).

    ``SOCI`` → the EU data-theme URI, ``dl-by-de/2.0`` → the DCAT-AP.de
    licence URI. Unknown values pass through unchanged and are rejected later.
    """
    value = canonical_dcatde_uri(str(value))
    known = vocabularies.values(vocab)
    if value in known:
        return value
    matches = [uri for uri in known if uri.endswith("/" + value)]
    return matches[0] if len(matches) == 1 else value


def _unknown_message(vocab: str, bad: list[str]) -> str:
    allowed = ", ".join(
        sorted(v.rsplit("/", 2)[-1] if "/" in v else v for v in vocabularies.values(vocab))
    )
    return _("Unbekannter Wert: {bad}. Erlaubt sind: {allowed}").format(
        bad=", ".join(bad), allowed=allowed
    )


def vierstaedte_in_vocabulary(vocab: str):
    """One value from a vocabulary of ``data/vocabularies.json``."""

    def validator(value: Any, context: dict) -> Any:
        if value in (None, "", tk.missing):
            return value
        expanded = _expand(vocab, value)
        if expanded not in vocabularies.values(vocab):
            raise Invalid(_unknown_message(vocab, [str(value)]))
        return expanded

    return validator


def vierstaedte_licence(value: Any, context: dict) -> Any:
    """A licence of the DCAT-AP.de vocabulary, in any spelling, stored as its canonical URI.

    Every active licence is accepted, open or not: a licence that is not open (NC, ND,
    ``other-closed`` …) is shown as such (CKAN's ``isopen`` reads the register), and whether a
    harvested one is published at all is the harvester's configuration to say. A versionless
    spelling without its own entry (``dl-by-de``) is refused with the versions it could mean.
    """
    if value in (None, "", tk.missing):
        return value
    found = vocabularies.licence(str(value))
    if found is not None and found.active:
        return found.uri
    candidates = vocabularies.licence_candidates(str(value))
    if candidates:
        raise Invalid(
            _("Lizenz ohne Version: {value}. Gemeint ist eine von: {choices}").format(
                value=value, choices=", ".join(lic.code for lic in candidates)
            )
        )
    licences = vocabularies.active_licences()
    raise Invalid(
        _(
            "Unbekannter Wert: {value}. Erlaubt sind die DCAT-AP.de-Lizenzen "
            "(http://dcat-ap.de/def/licenses/), als URI oder Kurzform. Offen: {open}. "
            "Nicht offen (werden als nicht offen gekennzeichnet): {closed}"
        ).format(
            value=value,
            open=", ".join(lic.code for lic in licences if lic.open),
            closed=", ".join(lic.code for lic in licences if not lic.open),
        )
    )


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(v) for v in json.loads(text)]
        except ValueError as error:
            raise Invalid(_("Ungültige Liste: {error}").format(error=error)) from None
    return [part for part in re.split(r"[,\s]+", text) if part]


def vierstaedte_in_vocabulary_list(vocab: str):
    """A non-empty list of values from one vocabulary, stored as a JSON list."""

    def validator(value: Any, context: dict) -> Any:
        if value in (None, "", tk.missing):
            return value
        items = [_expand(vocab, item) for item in _as_list(value)]
        bad = [item for item in items if item not in vocabularies.values(vocab)]
        if bad:
            raise Invalid(_unknown_message(vocab, bad))
        return json.dumps(list(dict.fromkeys(items)))

    return validator


def vierstaedte_geocoding_uri(value: Any, context: dict) -> Any:
    """A DCAT-AP.de political-geocoding URI (regional, municipality, district or state key)."""
    if value in (None, "", tk.missing):
        return value
    canonical = canonical_geocoding(str(value))
    if canonical is None:
        raise Invalid(
            _(
                "Keine DCAT-AP.de-Geokodierungs-URI: {value}. Erwartet z. B. "
                "http://dcat-ap.de/def/politicalGeocoding/regionalKey/073150000000"
            ).format(value=value)
        )
    return canonical


def vierstaedte_semver(value: Any, context: dict) -> Any:
    if value in (None, "", tk.missing):
        return value
    if not SEMVER.match(str(value).strip()):
        raise Invalid(
            _("Versionsangabe im Format MAJOR.MINOR.PATCH erwartet, nicht: {value}").format(
                value=value
            )
        )
    return str(value).strip()


def _owner_city_field(data: dict, field: str, context: dict) -> str | None:
    """The owner organisation's value of ``field`` (its geocoding URI or level).

    Read from the model, not through ``organization_show``: that dictizes the
    organisation and counts its datasets in Solr, once per validation, a large share
    of every ``package_create`` (docs/performance.md). Looked up once per action call
    (the context).
    """
    owner = data.get(("owner_org",))
    if not owner or owner is tk.missing:
        return None
    cache = context.setdefault("vierstaedte_owner_fields", {})
    if owner not in cache:
        org = model.Group.get(owner)
        if org is None or not org.is_organization:
            cache[owner] = {}
        else:
            cache[owner] = {
                **(cities.as_dict(org.name) or {}),
                **{k: v for k, v in (org.extras or {}).items() if v},
            }
    return cache[owner].get(field)


def vierstaedte_default_from_city(field: str):
    """Fill an empty field from the owner city (e.g. its political-geocoding URI)."""

    def validator(key: tuple, data: dict, errors: dict, context: dict) -> None:
        if data.get(key) in (None, "", tk.missing):
            default = _owner_city_field(data, field, context)
            if default:
                data[key] = default

    return validator


def vierstaedte_dataset_after(key: tuple, data: dict, errors: dict, context: dict) -> None:
    """Checks that span fields: the temporal coverage must not end before it starts."""
    start, end = data.get(("temporal_start",)), data.get(("temporal_end",))
    if (
        start
        and end
        and start is not tk.missing
        and end is not tk.missing
        and not errors.get(("temporal_start",))
        and not errors.get(("temporal_end",))
        and str(end) < str(start)
    ):
        errors.setdefault(("temporal_end",), []).append(
            _("Das Ende des Zeitraums ({end}) liegt vor dem Beginn ({start}).").format(
                start=start, end=end
            )
        )


def get_validators() -> dict[str, Any]:
    return {
        "vierstaedte_uri": vierstaedte_uri,
        "vierstaedte_resource_url": vierstaedte_resource_url,
        "vierstaedte_in_vocabulary": vierstaedte_in_vocabulary,
        "vierstaedte_licence": vierstaedte_licence,
        "vierstaedte_in_vocabulary_list": vierstaedte_in_vocabulary_list,
        "vierstaedte_geocoding_uri": vierstaedte_geocoding_uri,
        "vierstaedte_semver": vierstaedte_semver,
        "vierstaedte_default_from_city": vierstaedte_default_from_city,
        "vierstaedte_dataset_after": vierstaedte_dataset_after,
    }
