"""The words of a dataset's data, for its Solr document: what people search a table by.

A table titled "Stadtratswahl 2024" holds the parties, the Ortsbezirke and the date of the
election; a table titled "Bevölkerung" holds the indicator "Einwohner insgesamt". Those words
are in the DataStore, not in the metadata CKAN indexes, so ``Gonsenheim`` or ``CDU`` found
nothing. At index time the dataset's Solr document gets them in ``vs_*`` fields (the
configset copies them into the German, the exact and the spellcheck fields, docs/search.md):

- ``vs_indicator``: the table's indicator ids and their labels (German and English);
- ``vs_area``: its area names, the contract's aliases of them and the words for their levels;
- ``vs_party``: the parties (``dimension_value`` where ``dimension`` is ``party``);
- ``vs_period``: its periods and their years;
- ``vs_city``: the city's name and titles from the contract (the organisation is the city).

The table is the dataset's normalised resource as the shared outputs find it
(:func:`ckanext.vierstaedte.logic.tables.usable`). Each field is one bounded DISTINCT read
(``datastore_search`` with ``distinct``, at most :data:`MOST` values). Indexing must never
fail because of a table: a missing, unreadable or unvalidated table adds no data words (the
city's still count) and the reason is logged.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic import tables
from vierstaedte_contract import areas, cities, vocabularies

log = logging.getLogger(__name__)

FIELDS = ("vs_indicator", "vs_area", "vs_party", "vs_period", "vs_city")
PARTY = "party"  # the ``dimension`` of election results by party (indicators.csv)
MOST = 2000  # distinct values read per field: a table of building blocks has a few thousand
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def city_words(city: str | None) -> list[str]:
    member = cities.find(city or "")
    if member is None:
        return []
    return list(dict.fromkeys((member.name, member.title, member.short_title)))


def _distinct(dataset: dict[str, Any], resource_id: str, field: str, **search: Any) -> list[str]:
    found = tk.get_action("datastore_search")(
        {"ignore_auth": True},
        dict(
            search,
            resource_id=resource_id,
            fields=[field],
            distinct=True,
            limit=MOST,
            include_total=False,
        ),
    )["records"]
    if len(found) == MOST:
        log.info(
            "search index: dataset %s has more than %d values of %s; the first are indexed",
            dataset.get("name"),
            MOST,
            field,
        )
    return [str(r[field]) for r in found if r.get(field) not in (None, "")]


def _indicator_words(ids: list[str]) -> list[str]:
    known = vocabularies.indicators()
    words = []
    for indicator in ids:
        words += [indicator, indicator.replace("_", " ")]
        if indicator in known:
            words += [known[indicator]["label_de"], known[indicator]["label_en"]]
    return words


def _area_words(city: str | None, names: list[str], levels: list[str]) -> list[str]:
    reference = {a.name: a for a in areas.areas(city)} if cities.find(city or "") else {}
    words = []
    for name in names:
        words.append(name)
        if name in reference:
            words += reference[name].aliases
    for level in levels:
        words += [level, vocabularies.label("spatial_granularities", level, "de") or level]
    return words


def _period_words(periods: list[str]) -> list[str]:
    return periods + [year for period in periods for year in _YEAR.findall(period)]


def table_words(dataset: dict[str, Any], city: str | None) -> dict[str, list[str]]:
    """The data words of the dataset's normalised table; raises for a table that cannot be read."""
    resource = tables.usable(dataset)
    if resource is None:
        return {}
    rid = resource["id"]
    return {
        "vs_indicator": _indicator_words(_distinct(dataset, rid, "indicator")),
        "vs_area": _area_words(
            city, _distinct(dataset, rid, "area_name"), _distinct(dataset, rid, "area_level")
        ),
        "vs_party": _distinct(dataset, rid, "dimension_value", filters={"dimension": PARTY}),
        "vs_period": _period_words(_distinct(dataset, rid, "period")),
    }


def fields(pkg_dict: dict[str, Any]) -> dict[str, list[str]]:
    """The ``vs_*`` fields of a dataset's Solr document (``pkg_dict`` as CKAN indexes it)."""
    city = pkg_dict.get("organization")  # CKAN has put the organisation's name here
    words: dict[str, list[str]] = {"vs_city": city_words(city)}
    try:
        dataset = json.loads(pkg_dict.get("validated_data_dict") or "{}")
        words.update(table_words(dataset, city))
    except tables.Skipped:
        pass  # logged with its reason
    except Exception:  # any DataStore or data error costs the data words, never the index
        log.warning(
            "search index: no data words for dataset %s", pkg_dict.get("name"), exc_info=True
        )
    return {field: list(dict.fromkeys(words.get(field, []))) for field in FIELDS}
