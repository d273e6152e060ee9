"""How package_search asks Solr: German fields first, then a correction for typos.

CKAN searches free text with dismax over ``name^4 title^4 tags^2 groups^2 text``, fields
analysed in English only. For a free-text ``q`` (no ``:``, CKAN's own test for a fielded
query) this sets dismax over the configset's German fields (docs/search.md): the unstemmed
copies (``title_exact``, ``text_exact``) weigh more than the stemmed and decompounded ones
(``title_de``, ``text_de``), so "Wahl" ranks a table titled "Wahl" above one titled
"Stadtratswahl"; the data words (``vs_*``, see :mod:`.vocabulary`) weigh like a title. Fielded
queries, filters and parameters a caller set are left as they are.

Several words: dismax requires all but one of three or more words (``mm``), and the one that
dropped was often the city or the year, the word that decides which table is meant. So a
city's name or title from the contract becomes a filter on its organization (the rest of the
query ranks), and a year among other words is required (``+2019``). Dismax analyses each
blank-separated word alone, so an English synonym of several words ("election results") is
quoted: then the synonym filter sees it whole.

Typos: a free-text search with fewer than :data:`LITTLE` hits asks Solr's spellcheck (the
``spell`` field) for a collation, with the search's own filters (visibility included), so the
suggestion's count is what the user would get. ``package_search`` answers with
``vierstaedte_suggestion``; when the search found nothing it searches again: the suggestion
only if every correction is surely a typo (:func:`typo`: the spellcheck corrects any word
the index lacks, and a short real word is always near another one, "Arzt" near "art"), else
each long word fuzzily, else, for several words, with one word enough; it returns those
results with ``vierstaedte_searched`` saying what was searched instead (docs/api.md). The
portal reads both from :func:`note` for its "Meinten Sie …?".

``ckanext.vierstaedte.search.german = false`` switches all of it off: package_search is stock
CKAN (the benchmark's baseline, on a core with CKAN's own schema).

The parser stays CKAN's dismax: CKAN sends ``q.op=AND`` (its filters rely on it), and edismax
then requires every word whatever ``mm`` says, so one mistyped word among three found nothing.
Only the fuzzy retry uses edismax (dismax has no ``~``), requiring every word, each fuzzily.
CKAN passes only known Solr parameters through package_search; ``pf`` is not among them
(CKAN 2.12 ``VALID_SOLR_PARAMETERS``), so :func:`install` adds it when German search is on.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

import ckan.plugins.toolkit as tk
import flask
import pysolr
from ckan.lib.search import query as ckan_query

from ckanext.vierstaedte import solr
from vierstaedte_contract import cities, synonyms

log = logging.getLogger(__name__)

CONFIG_KEY = "ckanext.vierstaedte.search.german"
# Exact words over stemmed, decompounded and synonym ones: a synonym or compound part is rarer
# than the word typed, so its idf is higher; the exact fields weigh four times the German
# ones to keep the typed word first. The data words weigh about like a title.
QUERY_FIELDS = (
    "title_exact^20 title_de^5 vs_indicator^4 vs_area^4 vs_party^4 vs_city^3 vs_period^3 "
    "text_exact^4 text_de^1 name^2"
)
PHRASE_FIELDS = "title_exact^20 title_de^5 text_exact^4"
MINIMUM_MATCH = "2<-1 5<80%"  # CKAN's: up to two words all, up to five all but one, then 80 %
TIE = "0.1"
LITTLE = 3  # fewer hits than this and the spellcheck is asked for a better query
RETRY = "ext_vierstaedte_retry"  # marks package_search's own second search (no new suggestion)
TYPED = "ext_vierstaedte_typed"  # the query as typed, before cities, years and phrases
_WORD = re.compile(r"\w+")
_YEAR = re.compile(r"(19|20)\d\d")
TYPO_LETTERS = 6  # shorter words are never corrected without asking: "Arzt" is no typo of "art"
TWO_TYPOS_LETTERS = 10  # from this length a correction may be two edits away
ENDINGS = ("n", "s", "e", "en", "es", "er", "ern")  # inflections a correction may add


def enabled() -> bool:
    return tk.asbool(tk.config.get(CONFIG_KEY))


def install() -> None:
    if enabled():
        ckan_query.VALID_SOLR_PARAMETERS.add("pf")


def free_text(q: Any) -> bool:
    return isinstance(q, str) and bool(q.strip()) and ":" not in q


def search_params(params: dict[str, Any]) -> dict[str, Any]:
    """``before_dataset_search``: German fields and weights for a free-text query.

    A city named in the query becomes a filter on its organization and leaves the words, a
    year becomes a required word, an English term of several words a phrase (see the
    module docstring).
    """
    if enabled() and free_text(params.get("q")):
        params["extras"] = dict(params.get("extras") or {}, **{TYPED: params["q"]})
        params["q"], names = prepare(params["q"])
        if names:
            params["fq_list"] = [
                *params.get("fq_list", []),
                "organization:({})".format(" OR ".join(sorted(names))),
            ]
        params.setdefault("defType", "dismax")
        params.setdefault("qf", QUERY_FIELDS)
        params.setdefault("pf", PHRASE_FIELDS)
        params.setdefault("mm", MINIMUM_MATCH)
        params.setdefault("tie", TIE)
    return params


def prepare(q: str) -> tuple[str, set[str]]:
    """A free-text query as dismax gets it, and the cities it names (to filter on).

    The cities leave the words, a year among other words is required, an English term of
    several words is a phrase. The council search (``council/search.py``) asks the same way.
    """
    q, names = _cities_named(q)
    return _phrases(_years_required(q)), names


@functools.cache
def _city_words() -> tuple[tuple[tuple[str, ...], str], ...]:
    """Each way the contract names a city, as casefolded words, longest first, with its name."""
    named = {
        tuple(title.casefold().split()): city.name
        for city in cities.members()
        for title in (city.name, city.title, city.short_title)
    }
    return tuple(sorted(named.items(), key=lambda item: -len(item[0])))


def _cities_named(q: str) -> tuple[str, set[str]]:
    """``q`` without the cities it names, and their names; ``q`` itself if nothing else is left."""
    words, kept, names, i = q.split(), [], set(), 0
    folded = [w.casefold() for w in words]
    while i < len(words):
        for title, name in _city_words():
            if tuple(folded[i : i + len(title)]) == title:
                names.add(name)
                i += len(title)
                break
        else:
            kept.append(words[i])
            i += 1
    if not names or not any(_WORD.search(w) for w in kept):
        return q, set()
    return " ".join(kept), names


def _years_required(q: str) -> str:
    """A year among other words must match (``+2019``): it is what the searcher asked for."""
    words = q.split()
    if len(words) < 2:
        return q
    return " ".join(f"+{w}" if _YEAR.fullmatch(w) else w for w in words)


@functools.cache
def _multiword_terms() -> tuple[str, ...]:
    """The contract's synonym terms of several words, longest first."""
    found = {
        " ".join(term.term.casefold().split())
        for terms in synonyms.groups().values()
        for term in terms
        if len(term.term.split()) > 1
    }
    return tuple(sorted(found, key=len, reverse=True))


def _phrases(q: str) -> str:
    """Synonym terms of several words quoted, so Solr's synonyms see them whole.

    Dismax analyses each blank-separated word alone: "election results" would look up
    "election" and "results", never the term; quoted, the phrase goes through the analysis
    at once and the synonym filter maps it.
    """
    if '"' in q:
        return q
    for term in _multiword_terms():
        q = re.sub(rf"(?<![\w\"]){re.escape(term)}(?![\w\"])", f'"{term}"', q, flags=re.I)
    return q


def _pairs(named: Any) -> list[tuple[Any, Any]]:
    """Solr's named list as pairs, whether it came flat (``[k, v, k, v]``) or as an object."""
    if isinstance(named, dict):
        return list(named.items())
    named = named or []
    return list(zip(named[::2], named[1::2], strict=False))


def _collations(spellcheck: dict[str, Any]) -> list[dict[str, Any]]:
    """The collations with hits from Solr's spellcheck answer, with their corrected words."""
    return [
        {
            "query": value["collationQuery"],
            "count": int(value["hits"]),
            "pairs": _pairs(value.get("misspellingsAndCorrections")),
        }
        for key, value in _pairs(spellcheck.get("collations"))
        if key == "collation" and isinstance(value, dict) and value.get("hits")
    ]


def _visible(connection: pysolr.Solr, words: list[str], fq: Any) -> bool:
    """Every corrected word occurs in a dataset the searcher may see.

    Solr's spellcheck takes its words from the whole index, private datasets included; its
    collation is only checked to find something. Without this a collation could carry a
    word of a private title to anyone ("xylophonbau" suggested while a public "Xylophone"
    is what it finds).
    """
    for word in words:
        found = connection.search("{!term f=spell v=$word}", fq=fq, rows=0, word=word)
        if not found.hits:
            return False
    return True


def _surely(typed: str, spellcheck: dict[str, Any]) -> tuple[str, list[str]] | None:
    """``typed`` with each unknown word replaced by its nearest :func:`typo` correction.

    The collation prefers the more frequent word ("Apoteke": "apotheken", two edits); among
    the spellcheck's suggestions for each word the first that is surely a typo of it counts.
    None if a word has none; else the query and the words put in.
    """
    changes = []
    for word, found in _pairs(spellcheck.get("suggestions")):
        if not isinstance(found, dict):
            continue
        options = [o if isinstance(o, str) else o.get("word") for o in found.get("suggestion", [])]
        best = next((o for o in options if o and typo(word, o)), None)
        if best is None:
            return None
        changes.append((found["startOffset"], found["endOffset"], best))
    if not changes:
        return None
    for start, end, best in sorted(changes, reverse=True):
        typed = typed[:start] + best + typed[end:]
    return typed, [best for _, _, best in changes]


def suggestion(
    params: dict[str, Any], connection: pysolr.Solr | None = None
) -> dict[str, Any] | None:
    """A spellchecked query that finds something, under the search's own filters.

    The spellcheck corrects only words the index does not have, so a collation is a real
    correction even when it finds no more than the query (two of three words matched).
    ``connection``: another core than the catalogue's (the council search asks its own).
    """
    typed = (params.get("extras") or {}).get(TYPED, params["q"])
    ask = {
        key: params[key]
        for key in ("fq", "defType", "qf", "pf", "mm", "tie", "df", "q.op")
        if key in params
    }
    ask.update(
        {
            "rows": 0,
            "facet": "false",
            "spellcheck": "true",
            "spellcheck.q": typed,
            "spellcheck.dictionary": "default",
            "spellcheck.collate": "true",
            "spellcheck.collateExtendedResults": "true",
            "spellcheck.maxCollationTries": 5,
            "spellcheck.count": 10,
        }
    )
    try:
        connection = connection or solr.make_connection(decode_dates=False)
        answer = connection.search(params["q"], **ask)
        for found in _collations(answer.spellcheck or {}):
            if found["query"].casefold().split() == typed.casefold().split():
                continue
            if _visible(connection, [word for _, word in found.pop("pairs")], params.get("fq")):
                sure = _surely(typed, answer.spellcheck or {})
                visible = sure and _visible(connection, sure[1], params.get("fq"))
                found["sure"] = sure[0] if visible else None
                return found
    except (pysolr.SolrError, OSError) as error:
        log.warning("spellcheck failed for a search: %s", error)
    return None


def after_search(results: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """``after_dataset_search``: ``vierstaedte_suggestion`` when a free-text search found little."""
    if (
        enabled()
        and free_text(params.get("q"))
        and results.get("count", 0) < LITTLE
        and not (params.get("extras") or {}).get(RETRY)
    ):
        found = suggestion(params)
        if found:
            results["vierstaedte_suggestion"] = found
    return results


def _distance(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``: insertions, deletions, substitutions, adjacent swaps."""
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y)))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def edits(word: str) -> int:
    """Edits a word may be from a correction and still be a typo of it (0: never corrected)."""
    if len(word) < TYPO_LETTERS:
        return 0
    return 1 if len(word) < TWO_TYPOS_LETTERS else 2


def typo(typed: str, corrected: str) -> bool:
    """Whether searching ``corrected`` for ``typed`` is safe: a long word, a near miss.

    The spellcheck offers a correction for any word the index lacks, and a short real word
    ("Arzt", "Kino", "Park") is always near some other word ("art", "kind", "party"). The
    correction may be another form of the word meant ("Apoteke": "apotheken").
    """
    typed, corrected = typed.casefold(), corrected.casefold()
    forms = [corrected] + [corrected[: -len(e)] for e in ENDINGS if corrected.endswith(e)]
    return typed != corrected and 0 < min(_distance(typed, f) for f in forms) <= edits(typed)


def fuzzy(q: str) -> str | None:
    """``q`` with each long word made fuzzy (:func:`edits`); None if there is none."""
    words = _WORD.findall(q)
    if not any(edits(w) for w in words):
        return None
    return " ".join(f"{w}~{edits(w)}" if edits(w) else w for w in words)


@tk.chained_action
@tk.side_effect_free
def package_search(up, context, data_dict):
    """CKAN's package_search; a free-text search that found nothing is searched again corrected."""
    result = up(context, dict(data_dict))
    q = data_dict.get("q")
    if enabled() and free_text(q) and not result["count"] and not data_dict.get(RETRY):
        offered = result.get("vierstaedte_suggestion")
        sure = offered.pop("sure") if offered else None
        tries = [
            ("spellcheck", sure, {}),
            ("fuzzy", fuzzy(q), {"defType": "edismax"}),
            ("fewer_words", q if len(q.split()) > 1 else None, {"mm": "1"}),
        ]
        for method, query, change in tries:
            if not query:
                continue
            again = up(dict(context), dict(data_dict, q=query, **change, **{RETRY: "1"}))
            if again["count"]:
                if offered:
                    again["vierstaedte_suggestion"] = offered
                again["vierstaedte_searched"] = {"query": query, "original": q, "method": method}
                result = again
                break
    elif result.get("vierstaedte_suggestion"):
        result["vierstaedte_suggestion"].pop("sure", None)
    _remember(q, result)
    return result


def _remember(q: Any, result: dict[str, Any]) -> None:
    """Keep the suggestion for the page that asked (CKAN's search view passes on results only)."""
    if flask.has_request_context() and free_text(q) and q == tk.request.args.get("q"):
        flask.g.vierstaedte_search = {
            "q": q,
            "suggestion": result.get("vierstaedte_suggestion"),
            "searched": result.get("vierstaedte_searched"),
        }


def note(q: str) -> dict[str, Any] | None:
    """What package_search suggested or searched instead for ``q`` in this request, if anything."""
    kept = flask.g.get("vierstaedte_search") if flask.has_request_context() else None
    if kept and kept["q"] == q and (kept["suggestion"] or kept["searched"]):
        return kept
    return None
