"""The council store's actions: the harvester writes OParl objects, file texts and its sync
state; anyone reads a paper, meeting, committee or person with its links resolved.

Writes are idempotent. An object's ``content_hash`` covers everything stored of it, so a
re-harvest of an unchanged object writes nothing (a no-change run touches no row and no Solr
document). The same object often arrives twice, embedded in its parent and from its own list,
and the embedded copy may leave out back-references: a copy with the same ``modified`` (or
none) is merged into the stored one instead of replacing it, and an older copy is ignored, so
the two copies never overwrite each other run after run. ``deleted: true`` flags the object;
it is kept (a stale list cannot resurrect it) but never shown.

A city writes only its own objects: the auth functions check the caller's rights in ``city``,
the actions refuse an object or file already stored for another city. After the commit the
changed keys go to ``council.index.update``; the rows were marked ``needs_index`` in the same
transaction, so a Solr failure loses nothing (``ckan vierstaedte council reindex`` catches up).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan import model
from sqlalchemy.exc import IntegrityError

from ckanext.vierstaedte.council import index
from ckanext.vierstaedte.council.model import CouncilFileText, CouncilObject, CouncilSync
from ckanext.vierstaedte.logic import schema
from vierstaedte_contract.council import object_key

log = logging.getLogger(__name__)
_ = tk._

# the fields of OParl objects that hold the ids of other objects (a URL, an embedded object,
# or a list of either): what ``links`` holds, so either side of a link finds the other
LINK_FIELDS = (
    "body",
    "organization",
    "person",
    "membership",
    "meeting",
    "agendaItem",
    "paper",
    "consultation",
    "relatedPaper",
    "superordinatedPaper",
    "subordinatedPaper",
    "mainFile",
    "auxiliaryFile",
    "invitation",
    "resultsProtocol",
    "verbatimProtocol",
    "resolutionFile",
    "location",
    "originatorPerson",
    "originatorOrganization",
    "underDirectionOf",
    "participant",
    "onBehalfOf",
    "subOrganizationOf",
    "legislativeTerm",
)
MAX_LINKS = 2000  # ids kept per object
MAX_LINKED = 200  # linked objects of one kind a show action returns
EXCERPT_CHARS = 500  # of a file's text on a paper or meeting page
PAGES = {
    "paper": "/rat/vorlage/",
    "meeting": "/rat/sitzung/",
    "organization": "/rat/gremium/",
    "person": "/rat/person/",
}


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _iso(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).isoformat() if value else None


def _ids(value: Any) -> list[str]:
    """The OParl ids in a link field: URLs, embedded objects' ids, lists of either."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("id")
        if isinstance(item, str) and item.startswith(("http://", "https://")) and len(item) < 2000:
            found.append(item)
    return found


def links_of(data: dict[str, Any]) -> list[str]:
    found: dict[str, None] = {}
    for field in LINK_FIELDS:
        for oparl_id in _ids(data.get(field)):
            found.setdefault(oparl_id)
    return list(found)[:MAX_LINKS]


def _content_hash(item: dict[str, Any]) -> str:
    stored = [item["type"], item["body"], _iso(item["modified"]), item["deleted"], item["data"]]
    text = json.dumps(stored, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _foreign(rows, organization_id: str) -> list[str]:
    return [row.oparl_id for row in rows if row.organization_id != organization_id]


def _refuse_foreign(ids: list[str], field: str = "objects") -> None:
    if ids:
        raise tk.ValidationError(
            {
                field: [
                    _("Diese Objekte gehören einer anderen Stadt: {ids}").format(
                        ids=", ".join(ids[:5])
                    )
                ]
            }
        )


def _merged(row: CouncilObject | None, item: dict[str, Any]) -> dict[str, Any] | None:
    """What to store of ``item`` given the stored ``row``: None when the copy is older."""
    if row is None:
        return item
    if row.modified and item["modified"] and item["modified"] < row.modified:
        return None
    if item["modified"] == row.modified and item["deleted"] == row.deleted:
        return dict(item, data={**row.data, **item["data"]})
    return item


def _reindex(keys: list[str]) -> None:
    """Solr after the commit; a failure leaves the rows marked for the next reindex."""
    if not keys:
        return
    try:
        index.update(keys)
    except Exception:  # the write is committed; the marks stay for a reindex
        log.exception("council index update failed for %d objects; they stay marked", len(keys))
        model.Session.rollback()


def vierstaedte_council_upsert(context, data_dict):
    """Store up to ``BATCH_MAX`` OParl objects of one city; returns ``{written, added,
    unchanged, deleted}``: ``written`` the objects stored (new or changed), ``added`` those of
    them stored for the first time (an object sent twice in one call counts once, the other copy
    as unchanged)."""
    tk.check_access("vierstaedte_council_upsert", context, data_dict)
    data = schema.validate(data_dict, schema.council_upsert(), context)
    organization_id = data["city"]
    latest = {item["key"]: item for item in data["objects"]}
    counts = {
        "written": 0,
        "added": 0,
        "unchanged": len(data["objects"]) - len(latest),
        "deleted": 0,
    }
    rows = {
        row.key: row
        for row in model.Session.query(CouncilObject)
        .filter(CouncilObject.key.in_(list(latest)))
        .with_for_update()
    }
    _refuse_foreign(_foreign(rows.values(), organization_id))
    now, changed = _utcnow(), []
    for key, item in latest.items():
        row, stored = rows.get(key), _merged(rows.get(key), latest[key])
        if stored is None:
            counts["unchanged"] += 1
            continue
        content_hash = _content_hash(stored)
        if row is not None and row.content_hash == content_hash:
            counts["unchanged"] += 1
            continue
        if row is None:
            row = CouncilObject(key=key, oparl_id=item["id"], organization_id=organization_id)
            row.created = now
            model.Session.add(row)
            counts["added"] += not stored["deleted"]
        row.type, row.body, row.modified = stored["type"], stored["body"], stored["modified"]
        row.deleted, row.data, row.links = (
            stored["deleted"],
            stored["data"],
            links_of(stored["data"]),
        )
        row.content_hash, row.needs_index, row.updated = content_hash, True, now
        counts["deleted" if stored["deleted"] else "written"] += 1
        changed.append(key)
    try:
        model.Session.commit()
    except IntegrityError:  # another call stored one of the objects meanwhile
        model.Session.rollback()
        raise tk.ValidationError(
            {"objects": [_("Gleichzeitig geschrieben; bitte den Aufruf wiederholen.")]}
        ) from None
    _reindex(changed)
    return counts


def _file_row_check(file_id: str, organization_id: str) -> CouncilFileText | None:
    key = object_key(file_id)
    row = model.Session.get(CouncilFileText, key, with_for_update=True)
    owner = model.Session.execute(
        sa.select(CouncilObject.organization_id).where(CouncilObject.key == key)
    ).scalar()
    if owner not in (None, organization_id) or _foreign([row] if row else [], organization_id):
        _refuse_foreign([file_id], "file_id")
    return row


FILE_FIELDS = ("status", "text", "sha256", "size", "etag", "last_modified", "mime_type")


def vierstaedte_council_file_text(context, data_dict):
    """Store the extracted text of an OParl File (and how to tell whether it changed);
    returns ``{file_id, key, status, written}``."""
    tk.check_access("vierstaedte_council_file_text", context, data_dict)
    data = schema.validate(data_dict, schema.council_file_text(), context)
    row = _file_row_check(data["file_id"], data["city"])
    wanted = {field: data.get(field) for field in (*FILE_FIELDS, "source_url")}
    written = row is None or any(getattr(row, name) != value for name, value in wanted.items())
    if row is None:
        row = CouncilFileText(
            key=object_key(data["file_id"]),
            file_id=data["file_id"],
            organization_id=data["city"],
        )
        model.Session.add(row)
    if written:
        for name, value in wanted.items():
            setattr(row, name, value)
        row.updated = _utcnow()
        # the file's document is part of what is indexed: its object is due for reindexing
        model.Session.execute(
            sa.update(CouncilObject).where(CouncilObject.key == row.key).values(needs_index=True)
        )
    result = {"file_id": row.file_id, "key": row.key, "status": row.status, "written": written}
    try:
        model.Session.commit()
    except IntegrityError:
        model.Session.rollback()
        raise tk.ValidationError(
            {"file_id": [_("Gleichzeitig geschrieben; bitte den Aufruf wiederholen.")]}
        ) from None
    if written:
        _reindex([result["key"]])
    return result


@tk.side_effect_free
def vierstaedte_council_file_state(context, data_dict):
    """``{file_id: {etag, last_modified, sha256, status, source_url}}`` of the files of the
    city that have a stored text, so the harvester never downloads an unchanged file twice."""
    tk.check_access("vierstaedte_council_file_state", context, data_dict)
    data = schema.validate(data_dict, schema.council_file_state(), context)
    rows = model.Session.query(CouncilFileText).filter(
        CouncilFileText.key.in_([object_key(file_id) for file_id in data["file_ids"]]),
        CouncilFileText.organization_id == data["city"],
    )
    return {
        row.file_id: {
            "etag": row.etag,
            "last_modified": row.last_modified,
            "sha256": row.sha256,
            "status": row.status,
            "source_url": row.source_url,
        }
        for row in rows
    }


def _sync_entry(row: CouncilSync) -> dict[str, Any]:
    return {
        "watermark": _iso(row.watermark),
        "full_sync": row.full_sync,
        "updated": _iso(row.updated),
    }


@tk.side_effect_free
def vierstaedte_council_sync_show(context, data_dict):
    """``{"lists": {"<body id> <list>": {watermark, full_sync, updated}}}`` of one city."""
    tk.check_access("vierstaedte_council_sync_show", context, data_dict)
    data = schema.validate(data_dict, schema.council_sync_show(), context)
    rows = model.Session.query(CouncilSync).filter(CouncilSync.organization_id == data["city"])
    return {"lists": {f"{row.body} {row.list}": _sync_entry(row) for row in rows}}


def vierstaedte_council_sync_update(context, data_dict):
    """Set how far one list of one body has been read (after every object of it is stored)."""
    tk.check_access("vierstaedte_council_sync_update", context, data_dict)
    data = schema.validate(data_dict, schema.council_sync_update(), context)
    key = (data["city"], data["body"], data["list"])
    row = model.Session.get(CouncilSync, key, with_for_update=True)
    if row is None:
        row = CouncilSync(organization_id=key[0], body=key[1], list=key[2])
        model.Session.add(row)
    row.watermark, row.full_sync, row.updated = data["watermark"], data["full_sync"], _utcnow()
    entry = _sync_entry(row)
    model.Session.commit()
    return {f"{key[1]} {key[2]}": entry}


def get_actions() -> dict[str, Any]:
    return {
        "vierstaedte_council_upsert": vierstaedte_council_upsert,
        "vierstaedte_council_file_text": vierstaedte_council_file_text,
        "vierstaedte_council_file_state": vierstaedte_council_file_state,
        "vierstaedte_council_sync_show": vierstaedte_council_sync_show,
        "vierstaedte_council_sync_update": vierstaedte_council_sync_update,
    }
