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
``sort=date``. ``rows`` and ``start`` are bounded by the action's schema
(``council/validators.py``: ``SEARCH_ROWS_MAX``, ``SEARCH_START_MAX``).
"""

from __future__ import annotations

import calendar
import html
import logging
import re
from typing import Any

import ckan.plugins.toolkit as tk
import pysolr

from ckanext.vierstaedte.council import index
from ckanext.vierstaedte.search import query as german
from vierstaedte_contract import cities

log = logging.getLogger(__name__)

QUERY_FIELDS = (
    "title_exact^20 title^5 title_parts^4 reference_exact^20 text_exact^4 text^2 text_parts^1.5 "
    "persons_text^2 file_text^1"
)
PHRASE_FIELDS = "title_exact^20 title^5 text_exact^4"
# neighbouring words as written ("Trierer Straße") weigh above each word stemmed ("trier")
PAIR_BOOSTS = (("title_exact", 30), ("text_exact", 8))
# a query that is a paper's reference ("0038/2025", "BV/0038/2025", "20260016"): that paper
REFERENCE = re.compile(r"(?:[^\W\d_]{1,6}[/ -]?)?\d[\d/.-]*\d(?:/\d{2,4})?")
REFERENCE_BOOST = 1000
# words that only say a reference follows ("Drucksache 0049/2026", "Vorlage BV/0043/2026"):
# beside a reference they name nothing of their own
REFERENCE_WORDS = frozenset(
    """drucksache drucksachen ds vorlage vorlagen beschlussvorlage antrag anfrage mitteilung
    mitteilungsvorlage informationsvorlage vorlagennummer nr nr. nummer no no. paper""".split()
)
# "Nr. 74", "Nummer 12": a short number after these is a plan's or a paper's number, no
# agenda number
NUMBER_WORDS = frozenset({"nr", "nr.", "nummer", "no", "no."})
HIGHLIGHT_FIELDS = ("title", "text", "file_text")
# a paper is the answer; a meeting lists many papers' titles in its agenda, and a file's text is
# also its paper's, so they count less: a meeting at 0.6, a file at 0.4 of its words' score
KIND_WEIGHT = "if(termfreq(type,'file'),0.4,if(termfreq(type,'meeting'),0.6,1))"
# mm: up to two words all, up to five all but one, then 75 %; a search that finds nothing is
# searched again (:func:`search`): spellchecked, fuzzily, then with one word enough
MINIMUM_MATCH = german.MINIMUM_MATCH
# words that ask, not name: out of the query when other words remain ("Gibt es genug Kitas?")
QUESTION_WORDS = frozenset(
    """wer wen wem wessen was wann wo wohin woher wie wieviel wieviele warum weshalb wieso welche
    welcher welches welchen welchem gibt gab gibts es ist sind war waren wurde wurden werden wird
    hat haben hatte hatten kann können konnte soll sollen sollte genug viele viel mehr schon
    beschlossen beschließt beschlossene entschieden geplant plant planen stadt städte city
    which what when where who how why does do did is are was were the a an of to for on about
    any there plans plan planned decided""".split()
)
# Solr syntax a searcher types as a word or by accident: dismax would parse it (and fail on
# a lone quote or "&&"); here it is only a separator
OPERATORS = re.compile(r"&&|\|\||[!(){}\[\]^~*?:\\]|(?<!\S)[+-]+|(?<!\S)(?:AND|OR|NOT)(?!\S)")
STREET = re.compile(
    r"\s(?:straße|strasse|str\.?|platz|weg|allee|ring|tor|brücke|gasse|ufer)\b", re.I
)
# a month with its year ("Sitzung März 2025", "council meeting March 2026"): that month's
# documents; no text says "März" of its own date (a meeting has its start, a paper its date)
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "januar jänner january jan",
            "februar february feb",
            "märz maerz march mär mar",
            "april apr",
            "mai may",
            "juni june jun",
            "juli july jul",
            "august aug",
            "september sept sep",
            "oktober october okt oct",
            "november nov",
            "dezember december dez dec",
        ),
        start=1,
    )
    for name in names.split()
}
MONTH_YEAR = re.compile(r"(?<!\S)([^\W\d_]+)\.?\s+((?:19|20)\d\d)(?!\S)")
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


def words(q: str) -> str:
    """The searcher's words, Solr syntax neutralised, question words out while others remain.

    A quote stays only as a pair (a phrase); a lone one, ``+``/``-`` before a word, ``&&``,
    ``||``, ``AND``/``OR``/``NOT`` and brackets are separators. A number of one or two digits
    among other words is an agenda number ("Ö 3"), no topic: it goes too. Words of a
    vocabulary term stay whole ("heat action plan", "zoning plan", "Tempo 30"): its "plan" or
    "30" is no question word nor agenda number there.
    """
    typed, q = q, OPERATORS.sub(" ", q)
    if q.count('"') % 2:
        q = q.replace('"', " ")
    kept = q.split()
    if '"' not in q:
        termed = _in_terms(q)
        topical = [
            w
            for i, w in enumerate(kept)
            if i in termed
            or (
                w.casefold().strip(".,;") not in QUESTION_WORDS
                and not (re.fullmatch(r"\d{1,2}", w) and not _numbered(kept[:i]))
            )
        ]
        kept = topical or kept
    # nothing but syntax ("OR", a lone quote): its letters as words, if any
    return " ".join(kept) or " ".join(re.findall(r"\w+", typed.casefold()))


def _in_terms(q: str) -> set[int]:
    """The positions of ``q``'s blank-separated words that belong to a vocabulary term of
    several words (``search.query``'s multi-word synonyms)."""
    spans = [
        m.span()
        for term in german._multiword_terms()
        for m in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", q, flags=re.I)
    ]
    return {
        i
        for i, word in enumerate(re.finditer(r"\S+", q))
        if any(start <= word.start() and word.end() <= end for start, end in spans)
    }


def _month(typed: str) -> tuple[str, str, str] | None:
    """``typed`` without a month and its year ("März 2025"), and that month's first and last
    day; None without one, or if no other word would remain."""
    for m in MONTH_YEAR.finditer(typed):
        number = MONTHS.get(m.group(1).casefold())
        rest = (typed[: m.start()] + " " + typed[m.end() :]).split()
        if number and rest:
            year = int(m.group(2))
            last = calendar.monthrange(year, number)[1]
            return " ".join(rest), f"{year}-{number:02d}-01", f"{year}-{number:02d}-{last:02d}"
    return None


def _numbered(before: list[str]) -> bool:
    """Whether the word after ``before`` is a number the searcher named ("Nr. 74")."""
    return bool(before) and before[-1].casefold() in NUMBER_WORDS


def _reference(q: str) -> str | None:
    """The reference a query is, or None: one token with digits ("0038/2025"), maybe after
    words that only announce it ("Drucksache 0038/2025", "Vorlage BV/0043/2026")."""
    tokens = [t.strip('"') for t in q.split()]
    named = [t for t in tokens if t.casefold() not in REFERENCE_WORDS]
    if len(named) != 1:
        return None
    q = named[0]
    if REFERENCE.fullmatch(q) and ("/" in q or sum(c.isdigit() for c in q) >= 5):
        return q
    return None


def _phrase(value: str) -> str:
    """``value`` as a quoted phrase of the standard query parser (a boost query's syntax)."""
    return '"' + value.replace("\\", " ").replace('"', " ") + '"'


def _dismax(prepared: str, mm: str, parser: str = "dismax") -> dict[str, Any]:
    """The parameters of the words' query: dismax (its qf, pf, mm, tie from the request), its
    score multiplied by the kind's weight, the words in a parameter of their own, never parsed as
    syntax; boosts for an exact reference and for neighbouring words as written."""
    params = {
        "qf": QUERY_FIELDS,
        "pf": PHRASE_FIELDS,
        "mm": mm,
        "tie": german.TIE,
        "council.words": prepared,
        "council.dismax": "{!" + parser + " v=$council.words}",
        "council.kind": KIND_WEIGHT,
    }
    boosts = []
    reference = _reference(prepared)
    if reference:
        boosts.append(f"reference_exact:{_phrase(reference)}^{REFERENCE_BOOST}")
        # only what holds the reference as written, not every document of the year "2025"
        params["council.words"] = '"' + reference.replace('"', "") + '"'
    plain = [w for w in prepared.replace('"', " ").split() if not w.startswith("+")]
    for pair in zip(plain, plain[1:], strict=False):
        boosts += [f"{f}:{_phrase(' '.join(pair))}^{w}" for f, w in PAIR_BOOSTS]
    if boosts:
        params["bq"] = boosts
    return params


def solr_params(
    data: dict[str, Any], retry: dict[str, str] | None = None
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The Solr query, its parameters, and what was searched (the answer's ``query``).

    ``retry`` searches other words (``q``), with another ``mm`` or parser (:func:`search`).
    """
    used: dict[str, Any] = {}
    fq = []
    cities_asked = list(data.get("city") or [])
    q = (data.get("q") or "").strip()
    params: dict[str, Any] = {}
    if q:
        typed = words((retry or {}).get("q") or q)
        month = None if data.get("date_from") or data.get("date_to") else _month(typed)
        if month:
            typed, first, last = month
            data = dict(data, date_from=first, date_to=last)
            used["month_from_query"] = first[:7]
        prepared, named = german.prepare(typed)
        if named and STREET.search(typed):
            # "Trierer Straße", "Mainzer Str.": a street named after a city, no city filter
            prepared, named = german._phrases(german._years_required(typed)), set()
        used["q"] = q
        if named and not cities_asked:
            cities_asked = sorted(named)
            used["city_from_query"] = cities_asked
        retry = retry or {}
        if re.search(r"\sOR\s", q) and "mm" not in retry:
            retry = dict(retry, mm="1")  # "Radweg OR Fahrradstraße": either word is enough
        params.update(
            _dismax(prepared, retry.get("mm", MINIMUM_MATCH), retry.get("parser", "dismax"))
        )
        # no word at all ("&&"): nothing matches, and that is no error
        q = "{!boost b=$council.kind v=$council.dismax}" if typed else "-*:*"
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
                # which words the index lacks (a typo, mostly): then a correction is asked for
                "spellcheck": "true",
                "spellcheck.q": params.get("council.words", ""),
                "spellcheck.dictionary": "default",
                "spellcheck.collate": "false",
                "spellcheck.count": 1,
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


def _passage(text: str) -> str:
    """A passage of about :data:`PASSAGE_CHARS` around its first mark, cut between words.

    The passage is HTML-escaped with ``<mark>`` tags: a cut at a blank never splits an entity,
    and a mark cut open is closed.
    """
    text = " ".join(text.split())
    if len(text) <= PASSAGE_CHARS:
        return text
    first = text.find(MARK[0])
    start = max(0, first - PASSAGE_CHARS // 4)
    if start:
        start = text.find(" ", start) + 1 if text.find(" ", start) != -1 else start
    end = start + PASSAGE_CHARS
    if end < len(text):
        blank = text.rfind(" ", start, end)
        end = blank if blank > first + len(MARK[0]) else end
    passage = text[start:end]
    if passage.count(MARK[0]) > passage.count(MARK[1]):
        passage += MARK[1]
    return ("… " if start else "") + passage + (" …" if end < len(text) else "")


def _plain(passage: str) -> str:
    return html.unescape(passage.replace(MARK[0], "").replace(MARK[1], "")).casefold()


def _highlights(found: dict[str, Any]) -> list[str]:
    passages, seen = [], set()
    for field in HIGHLIGHT_FIELDS:
        for p in found.get(field) or []:
            if MARK[0] not in p:
                continue
            p = _passage(p)
            if _plain(p) in seen:
                continue
            seen.add(_plain(p))
            passages.append(p)
    return passages[:PASSAGES]


def _ask(data: dict[str, Any], retry: dict[str, str] | None = None):
    q, params, used = solr_params(data, retry)
    try:
        return index.connection().search(q, **params), params, used
    except (pysolr.SolrError, OSError) as error:
        log.warning("council search failed: %s", error)
        raise tk.ValidationError({"q": [tk._("Die Suche ist gerade nicht erreichbar.")]}) from None


def _suggestion(typed: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The catalogue's spellcheck (``search.query.suggestion``) asked of the council core."""
    ask = {k: params[k] for k in ("qf", "pf", "mm", "tie", "fq")}
    ask.update(q=params["council.words"], defType="dismax", extras={german.TYPED: typed})
    return german.suggestion(ask, index.connection())


def _retries(data: dict[str, Any], offered: dict[str, Any] | None) -> list[tuple]:
    """What an empty search tries next, as the catalogue's package_search does."""
    typed = words(data["q"])
    sure = offered.get("sure") if offered else None
    return [
        ("spellcheck", sure, {}),
        ("fuzzy", german.fuzzy(typed), {"parser": "edismax"}),
        ("fewer_words", typed if len(typed.split()) > 1 else None, {"mm": "1"}),
    ]


def search(data: dict[str, Any]) -> dict[str, Any]:
    """The validated arguments (``logic/schema.py:council_search``) answered from Solr.

    Few hits: Solr's spellcheck offers a correction (``suggestion``: ``{query, count}``); no
    hit: the search is repeated, spellchecked if every correction is surely a typo, else each
    long word fuzzily, else with one word enough; ``searched`` then says what was searched
    instead (``{query, original, method}``), as the catalogue's package_search does.
    """
    if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
        raise tk.ValidationError(
            {"date_to": [tk._("Das Ende des Zeitraums liegt vor seinem Beginn.")]}
        )
    answer, params, used = _ask(data)
    offered = searched = None
    unknown = german._pairs((answer.spellcheck or {}).get("suggestions"))
    if used.get("q") and (answer.hits < german.LITTLE or unknown):
        offered = _suggestion(words(data["q"]), params)
    if offered and offered.get("sure") and answer.hits:
        # a typo in a compound still finds its parts ("Klimschutzkonzept": every "konzept"):
        # the correction is what was meant
        again, _, again_used = _ask(data, {"q": offered["sure"]})
        if again.hits:
            answer, used = again, dict(again_used, q=data["q"])
            searched = {"query": offered["sure"], "original": data["q"], "method": "spellcheck"}
    if used.get("q") and not answer.hits:
        for method, query, change in _retries(data, offered):
            if not query:
                continue
            again, _, again_used = _ask(data, {"q": query, **change})
            if again.hits:
                answer, used = again, dict(again_used, q=data["q"])
                searched = {"query": query, "original": data["q"], "method": method}
                break
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
    found = {"count": answer.hits, "results": results, "facets": facets, "query": used}
    if offered:
        found["suggestion"] = {"query": offered["query"], "count": offered["count"]}
    if searched:
        found["searched"] = searched
    return found


@tk.side_effect_free
def vierstaedte_council_search(context, data_dict):
    """Search the council information of the four cities (docs/api.md, "Council")."""
    from ckanext.vierstaedte.logic import schema

    tk.check_access("vierstaedte_council_search", context, data_dict)
    data = schema.validate(data_dict, schema.council_search(), context)
    return search(data)


def get_actions() -> dict[str, Any]:
    return {"vierstaedte_council_search": vierstaedte_council_search}
