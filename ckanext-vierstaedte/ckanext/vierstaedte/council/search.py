"""``vierstaedte_council_search``: the council core asked the way the catalogue search asks.

The words go through the catalogue's query preparation (``search.query.prepare``: a city's name
becomes a filter, a year among other words is required, an English multi-word synonym a
phrase) and the same dismax weights: the exact words (``title_exact``, ``text_exact``) over
the German stemmed and decompounded fields (``title``, ``text``), a reference typed as written
("0815/2025") over everything, a file's text below the paper's own words. So "Radverkehr"
finds the "Radverkehrskonzept" and "Kitas" the "Kita", as in the dataset search.

Highlighting: Solr's unified highlighter on the stored text fields, with ``hl.encoder=html``:
a passage is HTML-escaped first, then its matched words are wrapped in ``<mark>`` and
``</mark>`` — the only markup a passage holds (docs/api.md). A page may show it as HTML; a
client wanting plain text removes the two tags and unescapes.

Without words, hits are sorted by date (newest first); with words by relevance unless
``sort=date``. ``rows`` is at most :data:`ROWS_MAX`, ``start`` at most :data:`START_MAX`
(deep paging in Solr costs every shard the whole prefix; nobody reads page 500 of hits).
"""

from __future__ import annotations

import logging
from typing import Any

import ckan.plugins.toolkit as tk
import pysolr

from ckanext.vierstaedte.council import index
from ckanext.vierstaedte.search import query as german
from vierstaedte_contract import cities

log = logging.getLogger(__name__)

ROWS_MAX = 50
ROWS_DEFAULT = 20
START_MAX = 1000
QUERY_FIELDS = (
    "title_exact^20 title^5 reference_exact^20 text_exact^4 text^2 persons_text^2 file_text^1"
)
PHRASE_FIELDS = "title_exact^20 title^5 text_exact^4"
HIGHLIGHT_FIELDS = ("title", "text", "file_text")
# a file's score counts half: its paper or meeting holds its text too and is what was asked for
FILE_WEIGHT = 0.5
MARK = ("<mark>", "</mark>")
PASSAGES = 3
PASSAGE_CHARS = 220
FACETS = {
    "city": "city",
    "organization": "organizations",
    "paper_type": "paper_type",
    "type": "type",
    "year": "year",
}
FACET_LIMIT = 30
FIELDS = (
    "key,type,city,title,reference,paper_type,date,body_name,organizations,url,web,"
    "parent_keys,score"
)
# filters: argument -> the Solr fields a value may name (a name, a key or an OParl id)
TERM_FILTERS = {
    "body": ("body", "body_name"),
    "organization": ("organizations", "organization_keys"),
    "paper_type": ("paper_type",),
    "type": ("type",),
    "person": ("persons", "person_keys"),
}


def _term(field: str, value: str) -> str:
    """A filter matching ``value`` exactly in ``field``, whatever characters it holds."""
    return "{!term f=" + field + "}" + value


def _any(fields: tuple[str, ...], value: str) -> str:
    if len(fields) == 1:
        return _term(fields[0], value)
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    return " OR ".join(f'{f}:"{quoted}"' for f in fields)


def _day(value: str, last: bool) -> str:
    return f"{value}T23:59:59Z" if last else f"{value}T00:00:00Z"


def solr_params(data: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The Solr query, its parameters, and what was searched (the answer's ``query``)."""
    used: dict[str, Any] = {}
    fq = []
    cities_asked = list(data.get("city") or [])
    q = (data.get("q") or "").strip()
    params: dict[str, Any] = {}
    if q:
        prepared, named = german.prepare(q)
        used["q"] = q
        if named and not cities_asked:
            cities_asked = sorted(named)
            used["city_from_query"] = cities_asked
        # dismax on the words (its qf, pf, mm, tie from the request), its score multiplied by
        # the kind's weight; the words travel in a parameter of their own, never parsed as syntax
        params.update(
            {
                "qf": QUERY_FIELDS,
                "pf": PHRASE_FIELDS,
                "mm": german.MINIMUM_MATCH,
                "tie": german.TIE,
                "council.words": prepared,
                "council.dismax": "{!dismax v=$council.words}",
                "council.kind": f"if(termfreq(type,'file'),{FILE_WEIGHT},1)",
            }
        )
        q = "{!boost b=$council.kind v=$council.dismax}"
    else:
        q = "*:*"
    if cities_asked:
        used["city"] = cities_asked
        fq.append("{!terms f=city}" + ",".join(c.replace(",", "") for c in cities_asked))
    for name, fields in TERM_FILTERS.items():
        if data.get(name):
            used[name] = data[name]
            fq.append(_any(fields, data[name]))
    if data.get("date_from") or data.get("date_to"):
        start = _day(data["date_from"], False) if data.get("date_from") else "*"
        end = _day(data["date_to"], True) if data.get("date_to") else "*"
        used.update({k: data[k] for k in ("date_from", "date_to") if data.get(k)})
        fq.append(f"date:[{start} TO {end}]")
    sort = data.get("sort") or ("relevance" if used.get("q") else "date")
    used["sort"] = sort
    params.update(
        {
            "fq": fq,
            "fl": FIELDS,
            "rows": data["rows"],
            "start": data["start"],
            "sort": "date desc, id asc" if sort == "date" else "score desc, date desc, id asc",
            "facet": "true",
            "facet.field": list(FACETS.values()),
            "facet.mincount": 1,
            "facet.limit": FACET_LIMIT,
        }
    )
    if used.get("q"):
        params.update(
            {
                "hl": "true",
                "hl.method": "unified",
                "hl.fl": ",".join(HIGHLIGHT_FIELDS),
                "hl.snippets": PASSAGES,
                "hl.fragsize": PASSAGE_CHARS,
                "hl.encoder": "html",
                "hl.tag.pre": MARK[0],
                "hl.tag.post": MARK[1],
                "hl.requireFieldMatch": "false",
                "hl.maxAnalyzedChars": index.FILE_TEXT_MAX,
                "hl.defaultSummary": "false",
            }
        )
    return q, params, used


def _city_titles() -> dict[str, str]:
    """The cities' short titles ("Mainz", not "Landeshauptstadt Mainz"), as the facets show them."""
    return {c.name: c.short_title for c in cities.members()}


def _facet(counts: list, field: str, titles: dict[str, str]) -> list[dict[str, Any]]:
    items = []
    for name, count in zip(counts[::2], counts[1::2], strict=False):
        label = titles.get(name, str(name)) if field == "city" else str(name)
        items.append({"name": str(name), "label": label, "count": count})
    return items


def _highlights(found: dict[str, Any]) -> list[str]:
    passages = []
    for field in HIGHLIGHT_FIELDS:
        passages += [p for p in found.get(field) or [] if MARK[0] in p]
    return passages[:PASSAGES]


def search(data: dict[str, Any]) -> dict[str, Any]:
    """The validated arguments (``logic/schema.py:council_search``) answered from Solr."""
    q, params, used = solr_params(data)
    try:
        answer = index.connection().search(q, **params)
    except (pysolr.SolrError, OSError) as error:
        log.warning("council search failed: %s", error)
        raise tk.ValidationError({"q": [tk._("Die Suche ist gerade nicht erreichbar.")]}) from None
    titles = _city_titles()
    highlighting = answer.highlighting or {}
    results = []
    for doc in answer.docs:
        key = doc["key"]
        results.append(
            {
                "key": key,
                "type": doc.get("type"),
                "city": doc.get("city"),
                "city_title": titles.get(doc.get("city"), doc.get("city")),
                "title": doc.get("title"),
                "reference": doc.get("reference"),
                "paper_type": doc.get("paper_type"),
                "date": doc.get("date"),
                "body": doc.get("body_name"),
                "organizations": doc.get("organizations") or [],
                "url": doc.get("url"),
                "web": doc.get("web"),
                "highlights": _highlights(highlighting.get(key) or {}),
                "score": doc.get("score"),
            }
        )
    fields = (answer.facets or {}).get("facet_fields") or {}
    facets = {name: _facet(fields.get(field) or [], name, titles) for name, field in FACETS.items()}
    return {"count": answer.hits, "results": results, "facets": facets, "query": used}


@tk.side_effect_free
def vierstaedte_council_search(context, data_dict):
    """Search the council information of the four cities (docs/api.md, "Council")."""
    from ckanext.vierstaedte.logic import schema

    tk.check_access("vierstaedte_council_search", context, data_dict)
    data = schema.validate(data_dict, schema.council_search(), context)
    return search(data)


def get_actions() -> dict[str, Any]:
    return {"vierstaedte_council_search": vierstaedte_council_search}
