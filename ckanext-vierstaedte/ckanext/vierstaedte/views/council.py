"""The council pages ``/rat``: search across the four cities' council information, and one page
per paper, meeting, committee and person.

The pages only read the council actions (``vierstaedte_council_search`` and the ``…_show``
actions), so a page shows exactly what the API and the AI tool answer. The search is a plain
GET form whose query arguments are the search action's own, so a link such as
``/rat?city=mainz`` from a city page or another portal works as it is; facets and paging only
change those arguments. Every hit links to our page and to the original system's ``web`` URL,
because the council's own system stays the record of authority.
"""

from __future__ import annotations

import html
import re
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint
from markupsafe import Markup, escape

blueprint = Blueprint("vierstaedte_council", __name__)

ROWS = 20
MAX_PAGE = 50  # the search action's ``start`` stays below 1,000
FACETS = ("city", "organization", "paper_type", "type", "year")
SINGLE = ("q", "body", "organization", "paper_type", "type", "person", "date_from", "date_to")


def _demo() -> bool:
    """Whether the portal shows demo data (``ckanext.vierstaedte.demo``): the pages say so."""
    return tk.asbool(tk.config.get("ckanext.vierstaedte.demo", False))


def _lang() -> str:
    return "en" if tk.h.lang() == "en" else "de"


def _page_number(text: str | None) -> int:
    try:
        page = int(text or 1)
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def _query() -> dict[str, Any]:
    """The search action's arguments from the page's query string; empty values are left out."""
    args = tk.request.args
    query: dict[str, Any] = {key: args[key].strip() for key in SINGLE if args.get(key, "").strip()}
    wanted = [city for city in args.getlist("city") if city]
    if wanted:
        query["city"] = list(dict.fromkeys(wanted))
    if args.get("sort") in ("relevance", "date"):
        query["sort"] = args["sort"]
    return query


def _facet_items(found: Any) -> list[dict[str, Any]]:
    """A facet as ``[{name, label, count}]``, from a ``{name: count}`` map or a list of items."""
    if isinstance(found, dict):
        items = [{"name": name, "count": count} for name, count in found.items()]
    else:
        items = [dict(item) for item in found or []]
    for item in items:
        item["name"] = str(item.get("name", ""))
        item["label"] = item.get("label") or item.get("display_name") or item.get("title")
        item["label"] = item["label"] or item["name"]
    return sorted(items, key=lambda item: (-int(item.get("count") or 0), item["label"]))


def _link(query: dict[str, Any], **changes: Any) -> str:
    """The search page for ``query`` with ``changes`` (a value None removes the argument)."""
    merged = {**query, **changes}
    return tk.h.url_for(
        "vierstaedte_council.search", **{k: v for k, v in merged.items() if v not in (None, "")}
    )


def _year_of(query: dict[str, Any]) -> str | None:
    first, last = query.get("date_from", ""), query.get("date_to", "")
    if first[:4] == last[:4] and first.endswith("-01-01") and last.endswith("-12-31"):
        return first[:4]
    return None


def _facets(
    result: dict[str, Any], query: dict[str, Any], city_titles: dict[str, str]
) -> list[dict[str, Any]]:
    """Each facet with its items, each item with the link that selects or unselects it."""
    titles = {
        "city": tk._("Stadt"),
        "organization": tk._("Gremium"),
        "paper_type": tk._("Art der Vorlage"),
        "type": tk._("Art des Treffers"),
        "year": tk._("Jahr"),
    }
    kinds = {"paper": tk._("Vorlage"), "meeting": tk._("Sitzung"), "file": tk._("Datei")}
    cities = query.get("city", [])
    year = _year_of(query)
    facets = []
    for field in FACETS:
        items = _facet_items((result.get("facets") or {}).get(field))
        if field == "year":
            items.sort(key=lambda item: item["name"], reverse=True)
        for item in items:
            name = item["name"]
            if field == "type":
                item["label"] = kinds.get(name, item["label"])
            if field == "city":
                item["label"] = city_titles.get(name, item["label"])
            if field == "city":
                item["active"] = name in cities
                chosen = [c for c in cities if c != name] if item["active"] else cities + [name]
                item["url"] = _link(query, city=chosen or None, page=None)
            elif field == "year":
                item["active"] = name == year
                span = (None, None) if item["active"] else (f"{name}-01-01", f"{name}-12-31")
                item["url"] = _link(query, date_from=span[0], date_to=span[1], page=None)
            else:
                item["active"] = query.get(field) == name
                item["url"] = _link(
                    query, **{field: None if item["active"] else name, "page": None}
                )
        if items:
            facets.append({"field": field, "title": titles[field], "items": items})
    return facets


_MARK = re.compile(r"(</?(?:mark|em|b|strong)>)")


def _marked(passage: str) -> Markup:
    """A highlighted passage as HTML: the matched words in ``<mark>``, everything else escaped.

    The search escapes a passage before marking it; the text between the marks is unescaped
    and escaped again, so an OParl string can never become markup, whether or not it was
    escaped once already.
    """
    parts = []
    for part in _MARK.split(passage or ""):
        if _MARK.fullmatch(part):
            parts.append(Markup("</mark>" if part.startswith("</") else "<mark>"))
        else:
            parts.append(escape(html.unescape(part)))
    return Markup("").join(parts)


def _hits(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The hits with their passages as safe HTML and the link to our page in the page's language."""
    hits = []
    for hit in result.get("results") or []:
        page = {"paper": "paper", "meeting": "meeting"}.get(hit.get("type"))
        url = (
            tk.h.url_for(f"vierstaedte_council.{page}", key=hit["key"])
            if page and hit.get("key")
            else tk.h.url_for(hit["url"])
            if hit.get("url")
            else None
        )
        hits.append(
            dict(hit, page_url=url, passages=[_marked(h) for h in hit.get("highlights") or []])
        )
    return hits


def _errors(error: tk.ValidationError) -> dict[str, str]:
    found = error.error_dict if isinstance(error.error_dict, dict) else {}
    return {
        key: " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
        for key, messages in found.items()
    }


def search():
    """The search form, its facets and one page of hits with their highlighted passages."""
    query = _query()
    page = _page_number(tk.request.args.get("page"))
    extra: dict[str, Any] = {
        "query": query,
        "page": page,
        "result": None,
        "facets": [],
        "errors": {},
        "demo": _demo(),
        "cities": tk.get_action("vierstaedte_city_list")({}, {}),
    }
    arguments = dict(query, rows=ROWS, start=(page - 1) * ROWS, lang=_lang())
    try:
        result = tk.get_action("vierstaedte_council_search")({}, arguments)
    except tk.ValidationError as error:
        extra["errors"] = _errors(error)
        return tk.render("council/search.html", extra), 400
    count = int(result.get("count") or 0)
    extra.update(
        result=result,
        hits=_hits(result),
        facets=_facets(result, query, {c["name"]: c["short_title"] for c in extra["cities"]}),
        page_count=min(max(-(-count // ROWS), 1), MAX_PAGE),
        previous_url=_link(query, page=page - 1 if page > 2 else None) if page > 1 else None,
        next_url=_link(query, page=page + 1) if page * ROWS < count and page < MAX_PAGE else None,
        sort_urls={s: _link(query, sort=s, page=None) for s in ("relevance", "date")},
    )
    return tk.render("council/search.html", extra)


def _show(action: str, key: str, template: str, missing: str):
    try:
        found = tk.get_action(action)({}, {"key": key})
    except (tk.ObjectNotFound, tk.ValidationError):
        return tk.abort(404, missing)
    return tk.render(template, {"item": found, "demo": _demo()})


def paper(key: str):
    """A paper: reference, type, date, consultations with meetings and results, files."""
    return _show(
        "vierstaedte_council_paper_show", key, "council/paper.html", tk._("Vorlage nicht gefunden")
    )


def meeting(key: str):
    """A meeting: date, body, agenda with its papers, files."""
    return _show(
        "vierstaedte_council_meeting_show",
        key,
        "council/meeting.html",
        tk._("Sitzung nicht gefunden"),
    )


def organization(key: str):
    """A committee, faction or other body of the council, with its meetings and members."""
    return _show(
        "vierstaedte_council_organization_show",
        key,
        "council/organization.html",
        tk._("Gremium nicht gefunden"),
    )


def person(key: str):
    """A person with their memberships."""
    return _show(
        "vierstaedte_council_person_show", key, "council/person.html", tk._("Person nicht gefunden")
    )


blueprint.add_url_rule("/rat", view_func=search, endpoint="search")
blueprint.add_url_rule("/rat/vorlage/<key>", view_func=paper, endpoint="paper")
blueprint.add_url_rule("/rat/sitzung/<key>", view_func=meeting, endpoint="meeting")
blueprint.add_url_rule("/rat/gremium/<key>", view_func=organization, endpoint="organization")
blueprint.add_url_rule("/rat/person/<key>", view_func=person, endpoint="person")
