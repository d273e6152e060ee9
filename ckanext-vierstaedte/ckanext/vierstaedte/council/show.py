"""The council show actions: one paper, meeting, committee or person with its links resolved.

OParl links objects both ways, and vendors fill in different sides (a paper lists its
consultations, or only the consultations name their paper; a meeting embeds its agenda, or
the agenda items name their meeting), so each link is looked up both ways: forward by the
ids the object holds, backward through the ``links`` column (GIN-indexed). Every linked object
carries ``key``, ``title``/``name``, ``url`` (our page, for the types that have one) and
``web`` (the original system's page); deleted and not yet harvested objects are left out.
Lists are bounded (``MAX_LINKED``), a file's text is shown as an excerpt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan import model
from sqlalchemy.dialects.postgresql import ARRAY

from ckanext.vierstaedte.council.actions import EXCERPT_CHARS, MAX_LINKED, PAGES, _ids
from ckanext.vierstaedte.council.model import CouncilFileText, CouncilObject
from ckanext.vierstaedte.logic import schema

_ = tk._
_SPACE = re.compile(r"\s+")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _url(row: CouncilObject) -> str | None:
    return PAGES[row.type] + row.key if row.type in PAGES else None


def _linked(row: CouncilObject) -> dict[str, Any]:
    """A linked object: key, type, title/name, our page, the original page, a few facts."""
    data = row.data
    name = _text(data.get("name")) or _text(data.get("fileName"))
    found = {
        "key": row.key,
        "id": row.oparl_id,
        "type": row.type,
        "title": name,
        "name": name,
        "url": _url(row),
        "web": _text(data.get("web")),
    }
    if row.type == "paper":
        found.update(reference=_text(data.get("reference")), date=_text(data.get("date")))
    elif row.type == "meeting":
        found.update(date=_text(data.get("start")), end=_text(data.get("end")))
    elif row.type == "organization":
        found.update(short_name=_text(data.get("shortName")))
    return found


def _by_ids(ids: Iterable[str], kind: str | None = None) -> dict[str, CouncilObject]:
    """The stored, not deleted objects of these OParl ids (of one type, if given)."""
    wanted = list(dict.fromkeys(ids))[: MAX_LINKED * 5]
    if not wanted:
        return {}
    query = model.Session.query(CouncilObject).filter(
        CouncilObject.oparl_id.in_(wanted), CouncilObject.deleted.is_(False)
    )
    if kind:
        query = query.filter(CouncilObject.type == kind)
    return {row.oparl_id: row for row in query}


def _referring(ids: Iterable[str], kind: str, limit: int = MAX_LINKED) -> list[CouncilObject]:
    """Objects of type ``kind`` that link to any of ``ids`` (by the GIN index on ``links``)."""
    wanted = list(dict.fromkeys(ids))[: MAX_LINKED * 5]
    if not wanted:
        return []
    return (
        model.Session.query(CouncilObject)
        .filter(
            CouncilObject.type == kind,
            CouncilObject.deleted.is_(False),
            CouncilObject.links.op("&&")(sa.cast(wanted, ARRAY(sa.UnicodeText))),
        )
        .order_by(CouncilObject.key)
        .limit(limit)
        .all()
    )


def _both_ways(row: CouncilObject, field: str, kind: str) -> list[CouncilObject]:
    """The objects of ``kind`` that ``row`` names in ``field`` or that name ``row``."""
    forward = _by_ids(_ids(row.data.get(field)), kind)
    for other in _referring([row.oparl_id], kind):
        forward.setdefault(other.oparl_id, other)
    return list(forward.values())[:MAX_LINKED]


def _city(row: CouncilObject) -> dict[str, Any]:
    group = model.Session.get(model.Group, row.organization_id)
    return {
        "city": group.name if group else None,
        "city_title": group.title if group else None,
    }


def _get(data_dict: dict, context: dict, kind: str) -> CouncilObject:
    data = schema.validate(data_dict, schema.council_show(), context)
    row = model.Session.get(CouncilObject, data["key"])
    if row is None or row.type != kind or row.deleted:
        raise tk.ObjectNotFound(_("Nicht gefunden: {key}").format(key=data["key"]))
    return row


def _object(row: CouncilObject) -> dict[str, Any]:
    return {**_linked(row), **_city(row), "modified": _text(row.data.get("modified"))}


def _excerpt(text: str | None) -> str | None:
    if not text:
        return None
    flat = _SPACE.sub(" ", text[: EXCERPT_CHARS * 4]).strip()
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " …"


def _files(rows_and_roles: list[tuple[CouncilObject, str]]) -> list[dict[str, Any]]:
    """Files (each with the field that names it) with their text status and excerpt."""
    keys = [row.key for row, _role in rows_and_roles]
    texts = {
        text.key: text
        for text in model.Session.query(CouncilFileText).filter(CouncilFileText.key.in_(keys))
    }
    files = []
    for row, role in rows_and_roles:
        data = row.data
        text = texts.get(row.key)
        files.append(
            {
                **_linked(row),
                "role": role,
                "file_name": _text(data.get("fileName")),
                "mime_type": (text.mime_type if text else None) or _text(data.get("mimeType")),
                "size": data.get("size") if isinstance(data.get("size"), int) else None,
                "date": _text(data.get("date")),
                "access_url": _text(data.get("accessUrl")),
                "download_url": _text(data.get("downloadUrl")),
                "text_status": text.status if text else None,
                "text_excerpt": _excerpt(text.text) if text else None,
            }
        )
    return files


def _file_rows(data: dict[str, Any], fields: tuple[str, ...]) -> list[tuple[Any, str]]:
    wanted = [(oparl_id, field) for field in fields for oparl_id in _ids(data.get(field))]
    stored = _by_ids([oparl_id for oparl_id, _field in wanted], "file")
    seen, found = set(), []
    for oparl_id, field in wanted:
        if oparl_id in stored and oparl_id not in seen:
            seen.add(oparl_id)
            found.append((stored[oparl_id], field))
    return found[:MAX_LINKED]


def _agenda_item(row: CouncilObject | None) -> dict[str, Any] | None:
    if row is None:
        return None
    data = row.data
    return {
        **_linked(row),
        "number": _text(data.get("number")),
        "order": data.get("order") if isinstance(data.get("order"), int) else None,
        "public": data.get("public") if isinstance(data.get("public"), bool) else None,
        "result": _text(data.get("result")),
        "resolution_text": _text(data.get("resolutionText")),
    }


def _first(data: dict[str, Any], field: str) -> str | None:
    found = _ids(data.get(field))
    return found[0] if found else None


@tk.side_effect_free
def vierstaedte_council_paper_show(context, data_dict):
    """A paper with its body, originators, consultations (meeting, committees, agenda item and
    result), related papers and files (text status and excerpt)."""
    tk.check_access("vierstaedte_council_paper_show", context, data_dict)
    row = _get(data_dict, context, "paper")
    data = row.data
    consultations = _both_ways(row, "consultation", "consultation")
    linked = _by_ids(
        oparl_id
        for consultation in consultations
        for field in ("meeting", "agendaItem", "organization")
        for oparl_id in _ids(consultation.data.get(field))
    )
    found = []
    for consultation in consultations:
        meeting = linked.get(_first(consultation.data, "meeting") or "")
        agenda = linked.get(_first(consultation.data, "agendaItem") or "")
        found.append(
            {
                "key": consultation.key,
                "role": _text(consultation.data.get("role")),
                "authoritative": consultation.data.get("authoritative") is True,
                "meeting": _linked(meeting) if meeting else None,
                "organizations": [
                    _linked(linked[oparl_id])
                    for oparl_id in _ids(consultation.data.get("organization"))
                    if oparl_id in linked
                ],
                "agenda_item": _agenda_item(agenda),
            }
        )
    found.sort(key=lambda item: ((item["meeting"] or {}).get("date") or "", item["key"]))
    people = ("originatorPerson", "originatorOrganization", "underDirectionOf")
    others = _by_ids(
        oparl_id
        for field in ("body", *people, "relatedPaper", "superordinatedPaper", "subordinatedPaper")
        for oparl_id in _ids(data.get(field))
    )

    def named(*fields: str, kind: str | None = None) -> list[dict[str, Any]]:
        ids = dict.fromkeys(i for field in fields for i in _ids(data.get(field)))
        rows = [others[i] for i in ids if i in others and (kind is None or others[i].type == kind)]
        return [_linked(other) for other in rows]

    body = others.get(row.body or _first(data, "body") or "")
    return {
        **_object(row),
        "reference": _text(data.get("reference")),
        "paper_type": _text(data.get("paperType")),
        "date": _text(data.get("date")),
        "body": _linked(body) if body else None,
        "originators": named("originatorPerson", "originatorOrganization"),
        "under_direction_of": named("underDirectionOf"),
        "consultations": found,
        "related_papers": named(
            "relatedPaper", "superordinatedPaper", "subordinatedPaper", kind="paper"
        ),
        "files": _files(_file_rows(data, ("mainFile", "auxiliaryFile"))),
    }


@tk.side_effect_free
def vierstaedte_council_meeting_show(context, data_dict):
    """A meeting with its committees, location, agenda (each item with its papers and result)
    and files (invitation, protocols, auxiliary files)."""
    tk.check_access("vierstaedte_council_meeting_show", context, data_dict)
    row = _get(data_dict, context, "meeting")
    data = row.data
    items = _both_ways(row, "agendaItem", "agendaItem")
    item_ids = [item.oparl_id for item in items]
    consultations = {
        c.oparl_id: c
        for c in _referring(item_ids, "consultation", MAX_LINKED * 2)
        + list(
            _by_ids(
                (i for item in items for i in _ids(item.data.get("consultation"))), "consultation"
            ).values()
        )
    }
    papers = _by_ids(
        (i for c in consultations.values() for i in _ids(c.data.get("paper"))), "paper"
    )
    papers_of: dict[str, dict[str, None]] = {}
    for consultation in consultations.values():
        for item_id in _ids(consultation.data.get("agendaItem")):
            for paper_id in _ids(consultation.data.get("paper")):
                papers_of.setdefault(item_id, {})[paper_id] = None
    for item in items:
        for consultation_id in _ids(item.data.get("consultation")):
            consultation = consultations.get(consultation_id)
            for paper_id in _ids(consultation.data.get("paper")) if consultation else []:
                papers_of.setdefault(item.oparl_id, {})[paper_id] = None
    agenda = []
    for item in items:
        entry = _agenda_item(item)
        entry["papers"] = [
            _linked(papers[p]) for p in papers_of.get(item.oparl_id, {}) if p in papers
        ]
        agenda.append(entry)
    agenda.sort(key=lambda e: (e["order"] is None, e["order"] or 0, e["number"] or "", e["key"]))
    organizations = _by_ids(_ids(data.get("organization")), "organization")
    location = data.get("location")
    if not isinstance(location, dict):
        stored = _by_ids(_ids(location), "location")
        location = next(iter(stored.values())).data if stored else None
    return {
        **_object(row),
        "date": _text(data.get("start")),
        "end": _text(data.get("end")),
        "cancelled": data.get("cancelled") is True,
        "meeting_state": _text(data.get("meetingState")),
        "organizations": [_linked(o) for o in organizations.values()],
        "location": {
            "description": _text(location.get("description")),
            "street_address": _text(location.get("streetAddress")),
            "room": _text(location.get("room")),
        }
        if isinstance(location, dict)
        else None,
        "agenda_items": agenda,
        "files": _files(
            _file_rows(data, ("invitation", "resultsProtocol", "verbatimProtocol", "auxiliaryFile"))
        ),
    }


def _membership(row: CouncilObject, linked: dict[str, CouncilObject]) -> dict[str, Any]:
    data = row.data
    person = linked.get(_first(data, "person") or row.oparl_id)
    organization = linked.get(_first(data, "organization") or "")
    return {
        "key": row.key,
        "person": _linked(person) if person else None,
        "organization": _linked(organization) if organization else None,
        "role": _text(data.get("role")),
        "voting_right": data.get("votingRight")
        if isinstance(data.get("votingRight"), bool)
        else None,
        "start_date": _text(data.get("startDate")),
        "end_date": _text(data.get("endDate")),
    }


def _memberships(rows: list[CouncilObject]) -> list[dict[str, Any]]:
    linked = _by_ids(
        i for row in rows for field in ("person", "organization") for i in _ids(row.data.get(field))
    )
    # a membership embedded in its person may not name the person: the person names it
    for person in _referring([row.oparl_id for row in rows], "person", MAX_LINKED * 2):
        for membership_id in _ids(person.data.get("membership")):
            linked.setdefault(membership_id, person)
    found = [_membership(row, linked) for row in rows]
    found.sort(key=lambda m: (m["end_date"] is not None, m["start_date"] or "", m["key"]))
    return found


@tk.side_effect_free
def vierstaedte_council_organization_show(context, data_dict):
    """A committee, faction or other body of the council, with its meetings and members."""
    tk.check_access("vierstaedte_council_organization_show", context, data_dict)
    row = _get(data_dict, context, "organization")
    data = row.data
    meetings = [_linked(m) for m in _referring([row.oparl_id], "meeting", MAX_LINKED * 5)]
    meetings.sort(key=lambda m: (m.get("date") or "", m["key"]), reverse=True)
    members = _both_ways(row, "membership", "membership")
    return {
        **_object(row),
        "short_name": _text(data.get("shortName")),
        "organization_type": _text(data.get("organizationType")),
        "classification": _text(data.get("classification")),
        "start_date": _text(data.get("startDate")),
        "end_date": _text(data.get("endDate")),
        "meetings": meetings[:MAX_LINKED],
        "members": [m for m in _memberships(members) if m["person"]],
    }


@tk.side_effect_free
def vierstaedte_council_person_show(context, data_dict):
    """A person with their memberships (committee, role, period)."""
    tk.check_access("vierstaedte_council_person_show", context, data_dict)
    row = _get(data_dict, context, "person")
    data = row.data
    return {
        **_object(row),
        "family_name": _text(data.get("familyName")),
        "given_name": _text(data.get("givenName")),
        "form_of_address": _text(data.get("formOfAddress")),
        "memberships": _memberships(_both_ways(row, "membership", "membership")),
    }


def get_actions() -> dict[str, Any]:
    return {
        "vierstaedte_council_paper_show": vierstaedte_council_paper_show,
        "vierstaedte_council_meeting_show": vierstaedte_council_meeting_show,
        "vierstaedte_council_organization_show": vierstaedte_council_organization_show,
        "vierstaedte_council_person_show": vierstaedte_council_person_show,
    }
