"""CKAN Action API reader: paged ``package_search`` (e.g. the state portal filtered to one city).

The listing is proven complete only when the pages, sorted by id, add up to exactly the
``count`` every page announced: a page that comes back empty before that, a ``count`` that
moves (a dataset deleted while paging shifts another onto a page already read), or a page
that repeats the one before (a server that ignores ``start``) leave it incomplete.

Only datasets are harvested. ``package_search`` returns records of every type unless told
otherwise (CKAN 2.12 adds no type filter to the API; ckanext-harvest and ckanext-showcase hide
their own types only where installed and recent enough, a custom type never), so the query asks
for ``dataset_type`` ``dataset`` or ``datensatz`` (the OGD schema's name, older GovData-era
portals), and each record's ``type`` is checked again: a harvest source, a showcase, an OGD
``app`` or ``dokument`` is skipped and reported, never published.

Portals still serve the OGD schema of 2013–2016 beside today's layout: ``extras`` as a dict
instead of ``{key, value}`` pairs, values JSON-encoded in strings, tags as plain strings, the
publisher and contacts in ``extras.contacts`` roles, the place in ``spatial_reference``. The
reader reads both, prefers a field of the record to an extra, and notes what it cannot use;
where a record's AGS and its place name name different places, the record is kept and the
conflict noted (see :func:`_place_notes`), since either of the two may be the wrong one.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Generator
from typing import Any, ClassVar
from urllib.parse import urlsplit

from vierstaedte_contract import areas, cities
from vierstaedte_contract.vocabularies import (
    GEOCODING_BASE,
    canonical_frequency,
    canonical_geocoding,
)
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
# the ``type`` of a dataset: CKAN's own, and the OGD schema's (GovData 2013–2016: datensatz,
# dokument, app); a record without a type is a dataset (CKAN before 2.0)
DATASET_TYPES = ("dataset", "datensatz")


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
        """The ``fq`` of every ``package_search``: datasets only, of the organisation or ``fq``.

        Every clause is required (``+``): an older portal's Solr may default to OR, and there an
        optional ``organization:x`` beside a required type would match every dataset. An ``fq``
        that names ``dataset_type`` itself is sent as written.
        """
        own = self.fq or (f"organization:{self.organization}" if self.organization else "")
        if "dataset_type" in own:
            return own
        types = f"+dataset_type:({' OR '.join(DATASET_TYPES)})"
        return f"{types} +({own})" if own else types


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
    """A dataset, or :class:`Skipped` for another type of record (a harvest source, a showcase)."""
    if not isinstance(package, dict) or not package.get("id"):
        raise SourceError(f"{base}: a search result without an id")
    kind = _text(package.get("type")) or "dataset"
    if kind not in DATASET_TYPES:
        title = _text(package.get("title")) or _text(package.get("name"))
        return Skipped(f"ckan:{host}:{package['id']}", kind, title)
    return _dataset(package, base, host)


Notes = list[tuple[str, str]]


def _text(value: Any) -> str:
    """A scalar as text; anything else (a dict, a list, None, a boolean) as ``""``."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value).strip()


def _decoded(key: str, value: Any, notes: Notes) -> Any:
    """An extra as the record means it: OGD portals wrote dicts and lists as JSON strings."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            notes.append(("unreadable-field", f"extras {key}: not valid JSON, read as text"))
    return value


def _extras(package: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """The extras as one dict, from CKAN's list of ``{key, value}`` or the OGD schema's dict."""
    raw = package.get("extras")
    if isinstance(raw, dict):
        pairs: Any = raw.items()
    elif isinstance(raw, list):
        pairs = ((e.get("key"), e.get("value")) for e in raw if isinstance(e, dict))
    else:
        pairs = ()
    return {str(k): _decoded(str(k), v, notes) for k, v in pairs if _text(k)}


class _Fields:
    """A record's fields and its extras: the record's own field wins over an extra of its name
    (ckanext-scheming and ckanext-dcat put the same facts in either place)."""

    def __init__(self, package: dict[str, Any], extras: dict[str, Any]):
        self.package, self.extras = package, extras

    def first(self, *names: str) -> Any:
        """The first of ``names`` that holds a value, in the record or else in its extras."""
        for name in names:
            for source in (self.package, self.extras):
                value = source.get(name)
                if value not in (None, "", [], {}):
                    return value
        return None

    def text(self, *names: str) -> str:
        return _text(self.first(*names))

    def mapping(self, *names: str) -> dict[str, Any]:
        value = self.first(*names)
        return value if isinstance(value, dict) else {}


def _tags(value: Any) -> list[str]:
    """Tags as CKAN writes them (``{"name": …}``) or as the OGD schema does (plain strings)."""
    items = value if isinstance(value, list) else []
    names = (_text(t.get("name")) if isinstance(t, dict) else _text(t) for t in items)
    return [name for name in names if name]


def _date(field: str, value: Any, notes: Notes) -> str | None:
    """A date or date-time as given; a value that is neither is noted and left out."""
    text = _text(value)
    if text and not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        notes.append(("field-left-out", f"{field}: not a date, left out: {text[:100]!r}"))
        return None
    return text or None


def _frequency(fields: _Fields) -> str | None:
    """The update frequency as given: metadata reads every spelling the contract knows
    (``monatlich``, ``MONTHLY``, the EU URI) and reports what it cannot."""
    text = fields.text("frequency", "accrual_periodicity", "accrualPeriodicity", "update_frequency")
    return canonical_frequency(text) or text or None


def _strings(value: Any) -> list[str]:
    """A list of strings, from a list or from one string of blank- or comma-separated values."""
    items = value if isinstance(value, list) else re.split(r"[\s,]+", _text(value))
    return [text for text in map(_text, items) if text]


# the DCAT-AP.de geocoding key an AGS of this many digits is (without blanks: OGD wrote "12 0 64")
_AGS_KEYS = {2: "stateKey", 5: "districtKey", 8: "municipalityKey", 12: "regionalKey"}


def _geocoding(fields: _Fields, notes: Notes) -> tuple[list[str], list[str]]:
    """The record's political geocoding URIs, and the keys (AGS, ARS) they and its AGS state.

    A DCAT-AP.de URI is taken as given (the portal checks it); an AGS, from OGD's
    ``spatial_reference`` or an ``ags`` field, becomes the geocoding URI of its kind.
    """
    uris = _strings(fields.first("politicalGeocodingURI", "political_geocoding_uri"))
    keys = [u.rsplit("/", 1)[1] for u in map(canonical_geocoding, uris) if u]
    for given in (fields.mapping("spatial_reference").get("ags"), fields.first("ags")):
        ags = re.sub(r"\s+", "", _text(given))
        if not ags:
            continue
        if not ags.isdigit() or len(ags) not in _AGS_KEYS:
            notes.append(("field-left-out", f"ags: no AGS or ARS, left out: {ags[:40]!r}"))
            continue
        uri = f"{GEOCODING_BASE}{_AGS_KEYS[len(ags)]}/{ags}"
        uris += [uri] if uri not in uris else []
        keys += [ags] if ags not in keys else []
    return uris, keys


def _place_cities(text: str) -> set[str]:
    """The member cities ``text`` names: the city itself or one of its areas (``Gonsenheim``)."""
    return {
        city.name
        for city in cities.members()
        if areas.resolver(city.name).resolve(text, areas.CITY_LEVEL) is not None
        or areas.resolver(city.name).find(text)
    }


def _covers(key: str, city: cities.City) -> bool:
    """Whether an AGS or ARS names ``city`` or lies in it (``07`` and ``073150000000``: Mainz)."""
    return key[:5] == city.ags[:5] if len(key) >= 5 else city.ags.startswith(key)


def _place_notes(keys: list[str], texts: list[str]) -> Notes:
    """Where a key (AGS, ARS) and a place name of the record name different places.

    Names resolve through the contract's cities and areas, so only the member cities can be
    checked: a key agrees with a name of a city it names or lies in, or of one of that city's
    areas; a key of a member city disagrees with any other name, and so does a name of a member
    city with any key of elsewhere. A key and a name both outside the member cities are noted
    as not checked: the contract holds no register of every German municipality.
    """
    found: Notes = []
    for key in keys:
        inside = next((c for c in cities.members() if len(key) >= 5 and _covers(key, c)), None)
        unchecked = []
        for text in texts:
            named = [cities.get(name) for name in sorted(_place_cities(text))]
            if any(_covers(key, city) for city in named):
                continue
            if named:
                where = ", ".join(city.short_title for city in named)
                about = inside.short_title if inside else "no member city"
                message = f"AGS/ARS {key} ({about}) and place name {text!r} ({where}) disagree"
            elif inside is not None:
                message = (
                    f"AGS/ARS {key} is {inside.short_title}, but place name {text!r} is neither "
                    "the city nor one of its areas"
                )
            else:
                unchecked.append(repr(text))
                continue
            found.append(("place-conflict", f"{message}; the record is kept as the source says"))
        if unchecked:
            found.append(
                (
                    "place-unchecked",
                    f"AGS/ARS {key} and place name {' / '.join(unchecked)} lie outside the member "
                    "cities; whether they agree was not checked",
                )
            )
    return found


def _contacts(fields: _Fields) -> dict[str, dict[str, str]]:
    """The OGD schema's ``contacts`` by role (veroeffentlichende_stelle, ansprechpartner, autor)."""
    found: dict[str, dict[str, str]] = {}
    listed = fields.first("contacts")
    for contact in listed if isinstance(listed, list) else []:
        if isinstance(contact, dict) and _text(contact.get("role")):
            found.setdefault(_text(contact["role"]), {k: _text(v) for k, v in contact.items()})
    return found


def _dataset(package: dict[str, Any], base: str, host: str) -> SourceDataset:
    notes: Notes = []
    fields = _Fields(package, _extras(package, notes))
    contacts = _contacts(fields)
    publisher = contacts.get("veroeffentlichende_stelle", {})
    contact = contacts.get("ansprechpartner", {})
    author = contacts.get("autor", {})
    organization = package.get("organization")
    terms = fields.mapping("terms_of_use")  # OGD: the licence of the data, beside license_id
    uris, keys = _geocoding(fields, notes)
    place = fields.mapping("spatial_reference").get("text")
    named = (place, *(fields.first(n) for n in ("geocodingText", "spatial_text", "spatial-text")))
    texts = list(dict.fromkeys(t for t in map(_text, named) if t))
    notes += _place_notes(keys, texts)
    name = _text(package.get("name")) or str(package["id"])
    return SourceDataset(
        guid=f"ckan:{host}:{package['id']}",
        name=name,
        title=_text(package.get("title")) or name,
        description=_text(package.get("notes")),
        tags=_tags(package.get("tags")),
        license=_text(package.get("license_id"))
        or _text(package.get("license_url"))
        or _text(terms.get("license_id"))
        or _text(terms.get("license_url"))
        or None,
        themes=[str(t) for t in (package.get("theme") or []) if isinstance(t, str)],
        modified=package.get("metadata_modified"),
        issued=package.get("metadata_created"),
        landing_page=_text(package.get("url")) or f"{base}/dataset/{name}",
        temporal_start=_date(
            "temporal start",
            fields.first("temporal_start", "temporal_coverage_from"),
            notes,
        ),
        temporal_end=_date(
            "temporal end", fields.first("temporal_end", "temporal_coverage_to"), notes
        ),
        publisher=publisher.get("name")
        or fields.text("publisher_name")
        or (_text(organization.get("title")) if isinstance(organization, dict) else "")
        or _text(package.get("author"))
        or None,
        publisher_uri=publisher.get("url") or fields.text("publisher_uri", "publisher_url") or None,
        contact_name=contact.get("name")
        or _text(package.get("maintainer"))
        or author.get("name")
        or _text(package.get("author"))
        or None,
        contact_email=contact.get("email")
        or _text(package.get("maintainer_email"))
        or author.get("email")
        or _text(package.get("author_email"))
        or None,
        frequency=_frequency(fields),
        political_geocoding=uris,
        political_geocoding_level=fields.text(
            "politicalGeocodingLevelURI", "political_geocoding_level_uri"
        )
        or None,
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
        notes=notes,
    )
