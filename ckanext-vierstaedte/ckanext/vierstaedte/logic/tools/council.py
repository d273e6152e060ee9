"""The council search tool: the four cities' council information for an assistant, cited.

It asks the same search as the page ``/rat`` (``vierstaedte_council_search``), so an assistant
finds exactly what a person finds. Each hit names its source twice: the page in the city's
council information system (``web``, the record of authority) and our page. A search without
hits is an honest refusal in the tools' shape, naming where the words do occur (other cities,
committees), never a made-up paper.
"""

from __future__ import annotations

import datetime
import html
import re
import zoneinfo
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic import exports
from ckanext.vierstaedte.logic.tools import answers, schemas
from vierstaedte_contract import cities

TOOL = "vierstaedte_tool_search_council"
PASSAGE_CHARS = 300
ALTERNATIVES = 10  # committees named when a filter found nothing
FILTERS = ("city", "committee", "paper_type", "type", "person", "date_from", "date_to")

TEXT = {
    "de": {
        "source": "Ratsinformationssystem der Stadt {city}",
        "said": "Ratsinformationen zu „{query}“{filters}: {n} Treffer.",
        "none": "Zu „{query}“{filters} gibt es in den Ratsinformationen keine Treffer.",
        "elsewhere": "Treffer gibt es ohne die Filter in: {where}.",
        "hit": "{title} ({about}). Quelle: {source}",
        "kinds": {"paper": "Vorlage", "meeting": "Sitzung", "file": "Dokument"},
        "portal": "im Portal",
    },
    "en": {
        "source": "council information system of the City of {city}",
        "said": "Council information on “{query}”{filters}: {n} {hits}.",
        "none": "The council information has no hits for “{query}”{filters}.",
        "elsewhere": "Without the filters there are hits in: {where}.",
        "hit": "{title} ({about}). Source: {source}",
        "kinds": {"paper": "paper", "meeting": "meeting", "file": "document"},
        "portal": "in the portal",
    },
}
_TAG = re.compile(r"</?(?:mark|em|b|strong)>")


def _plain(passage: str) -> str:
    """A highlighted passage as plain text, cut at a word near ``PASSAGE_CHARS``."""
    text = " ".join(html.unescape(_TAG.sub("", passage or "")).split())
    if len(text) <= PASSAGE_CHARS:
        return text
    return text[:PASSAGE_CHARS].rsplit(" ", 1)[0] + " …"


def _pad(date: str, last: bool) -> str:
    return date + (("-12-31", "-31", "") if last else ("-01-01", "-01", ""))[date.count("-")]


def _page_url(hit: dict[str, Any], lang: str) -> str | None:
    """Our page of a hit, absolute, in the language asked (English pages live under ``/en``)."""
    path = hit.get("url")
    if not path or path.startswith(("http://", "https://")):
        return path
    site = tk.config.get("ckan.site_url").rstrip("/")
    return f"{site}{'/en' if lang == 'en' else ''}{path}"


def _day(value: str | None) -> str | None:
    """A hit's date as the day in the cities' time (YYYY-MM-DD): a meeting at 23:30 is that day."""
    if not value:
        return None
    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo:
        moment = moment.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    return moment.date().isoformat()


def citation(hit: dict[str, Any], lang: str) -> dict[str, Any]:
    """Where a hit comes from: the city's council information system first, then our page."""
    city = cities.find(hit.get("city") or "")
    city_title = city.short_title if city else hit.get("city_title") or hit.get("city")
    source = TEXT[lang]["source"].format(city=city_title)
    page = _page_url(hit, lang)
    quoted = f"„{hit.get('title')}“" if lang == "de" else f"“{hit.get('title')}”"
    parts = [p for p in (hit.get("reference"), _day(hit.get("date"))) if p]
    text = f"{source}: {quoted}" + (f" ({', '.join(parts)})" if parts else "")
    text += "".join(f", {url}" for url in (hit.get("web"), page) if url)
    return {
        "text": text,
        "source": source,
        "title": hit.get("title"),
        "reference": hit.get("reference"),
        "date": _day(hit.get("date")),
        "city": hit.get("city"),
        "web": hit.get("web"),
        "page_url": page,
    }


def _result(hit: dict[str, Any], lang: str) -> dict[str, Any]:
    passages = [_plain(h) for h in hit.get("highlights") or []]
    return {
        "key": hit.get("key"),
        "type": hit.get("type"),
        "title": hit.get("title"),
        "reference": hit.get("reference"),
        "paper_type": hit.get("paper_type"),
        "date": _day(hit.get("date")),
        "city": hit.get("city"),
        "city_title": hit.get("city_title"),
        "body": hit.get("body"),
        "committees": hit.get("organizations") or [],
        "passage": passages[0] if passages else "",
        "citation": citation(hit, lang),
    }


def _line(result: dict[str, Any], lang: str) -> str:
    words = TEXT[lang]
    about = [words["kinds"].get(result["type"], result["type"] or "")]
    about += [result["reference"], result["city_title"] or result["city"]]
    about += [(result["date"] or "")[:10], ", ".join(result["committees"])]
    cite = result["citation"]
    source = cite["web"] or f"{cite['page_url']} ({words['portal']})"
    line = words["hit"].format(
        title=result["title"], about=", ".join(p for p in about if p), source=source
    )
    if not result["passage"]:
        return line
    quoted = f"„{result['passage']}“" if lang == "de" else f"“{result['passage']}”"
    return f"{line}\n  {quoted}"


def _filters_text(used: dict[str, Any]) -> str:
    named = [f"{key}={used[key]}" for key in FILTERS if used.get(key)]
    return f" ({', '.join(named)})" if named else ""


def _search(context: dict, arguments: dict[str, Any], filtered: bool) -> dict[str, Any]:
    search: dict[str, Any] = {
        "q": arguments["query"],
        "rows": arguments["limit"],
        "start": 0,
        "sort": arguments["sort"],
        "lang": arguments["lang"],
    }
    if filtered:
        names = {"committee": "organization"}
        for key in ("city", "committee", "paper_type", "type", "person"):
            if arguments.get(key):
                search[names.get(key, key)] = arguments[key]
        if arguments.get("city"):
            search["city"] = [arguments["city"]]
        for key, last in (("date_from", False), ("date_to", True)):
            if arguments.get(key):
                search[key] = _pad(arguments[key], last)
    try:
        return tk.get_action("vierstaedte_council_search")(exports.sub_context(context), search)
    except tk.ValidationError as error:
        # the action's names for the tool's parameters: the words are the tool's ``query``
        errors = error.error_dict
        raise tk.ValidationError(
            {"query" if k == "q" else k: v for k, v in errors.items()}
        ) from None


def _facet(found: dict[str, Any], field: str) -> list[dict[str, Any]]:
    facet = (found.get("facets") or {}).get(field) or {}
    if isinstance(facet, dict):
        items = [{"name": name, "count": count} for name, count in facet.items()]
    else:
        items = [{"name": i.get("name"), "count": i.get("count")} for i in facet]
    return sorted(items, key=lambda item: -int(item["count"] or 0))


def _refusal(context: dict, arguments: dict[str, Any], used: dict[str, Any]) -> dict[str, Any]:
    """No hits: where the same words do occur without the filters."""
    lang = arguments["lang"]
    words = TEXT[lang]
    text = words["none"].format(query=arguments["query"], filters=_filters_text(used))
    alternatives: dict[str, Any] = {}
    if any(used.get(key) for key in FILTERS):
        everywhere = _search(context, arguments, filtered=False)
        if everywhere.get("count"):
            alternatives = {
                "cities": _facet(everywhere, "city"),
                "committees": _facet(everywhere, "organization")[:ALTERNATIVES],
            }
            where = ", ".join(f"{c['name']} ({c['count']})" for c in alternatives["cities"])
            text += " " + words["elsewhere"].format(where=where)
    return answers.refusal("no_council_hits", text, alternatives, used)


@tk.side_effect_free
def vierstaedte_tool_search_council(context, data_dict):
    """Council papers, meetings and documents matching the words, each with passage and sources."""
    tk.check_access(TOOL, context, data_dict)
    arguments = schemas.validate(TOOL, data_dict)
    lang = arguments["lang"]
    used = {key: arguments[key] for key in ("query", *FILTERS, "sort") if arguments.get(key)}
    found = _search(context, arguments, filtered=True)
    results = [_result(hit, lang) for hit in found.get("results") or []]
    if not results:
        return _refusal(context, arguments, used)
    count = int(found.get("count") or 0)
    hits = "Treffer" if lang == "de" else ("hit" if count == 1 else "hits")
    said = TEXT[lang]["said"].format(
        query=arguments["query"], filters=_filters_text(used), n=count, hits=hits
    )
    return {
        "available": True,
        "answer": "\n".join([said, *(_line(result, lang) for result in results)]),
        "filter": used,
        "count": count,
        "results": results,
        "citations": [result["citation"] for result in results],
    }


def get_actions() -> dict[str, Any]:
    return {TOOL: vierstaedte_tool_search_council}
