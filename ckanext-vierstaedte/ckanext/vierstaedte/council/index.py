"""The council Solr core: one document per paper, meeting and file, built from the tables.

Why documents of their own and not CKAN's index: the council core (``scripts/solr/
schema-council.xml``) has the catalogue's German analysis but fields of its own, and thousands
of papers must not bury the statistics in the dataset search.

A paper's document carries what a searcher looks for in it: its name, reference, type, date,
the committees and persons named in it or its consultations, the consultations' roles and
results, and the extracted text of its files; a meeting's: its name, date, committees, the
names and results of its agenda items and the text of its files; a file's: its name and text,
with the papers and meetings it belongs to (``parent_keys``) and their page as its ``url``.

Consistency with the database: the upsert commits first and calls :func:`update` with the keys
it wrote; every written object carries ``needs_index`` from the same transaction, and only a
successful Solr write clears it (for the versions read before the write). A Solr that is down
therefore loses nothing: ``ckan vierstaedte council reindex`` indexes what is still marked (and
everything, when the core is empty while the database is not); ``--all`` rebuilds the core
without emptying it first (documents not rewritten by the rebuild are deleted at its end).
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

import ckan.model as ckan_model
import ckan.plugins.toolkit as tk
import pysolr
import sqlalchemy as sa

from ckanext.vierstaedte import solr
from ckanext.vierstaedte.council.model import CouncilFileText, CouncilObject

log = logging.getLogger(__name__)

CONFIG_KEY = "ckanext.vierstaedte.council.solr_url"
DOC_TYPES = ("paper", "meeting", "file")
# objects whose change changes the documents of the papers and meetings they link
LINKED_TYPES = ("consultation", "agendaItem", "file")
PAGES = {"paper": "/rat/vorlage/{key}", "meeting": "/rat/sitzung/{key}"}
FILE_TEXT_MAX = 300_000  # characters of file text in one paper's or meeting's document
BATCH = 200  # documents per Solr request
MEETING_FILES = ("invitation", "resultsProtocol", "verbatimProtocol", "auxiliaryFile")
PAPER_FILES = ("mainFile", "auxiliaryFile")
_CONTROL = re.compile(r"[^\S\n]+")  # blanks but line ends: tabs, form feeds, runs of spaces


class SolrUnavailable(RuntimeError):
    """The council core did not take a write; the objects stay marked ``needs_index``."""


def solr_url() -> str:
    """The council core's URL: the config key, or the catalogue's URL with its core renamed."""
    url = tk.config.get(CONFIG_KEY)
    if url:
        return url
    base, _, core = tk.config["solr_url"].rstrip("/").rpartition("/")
    suffix = core[len("ckan") :] if core.startswith("ckan") else ""
    return f"{base}/council{suffix}"


def connection() -> pysolr.Solr:
    return solr.make_connection(decode_dates=False, url=solr_url())


def _commit() -> bool:
    return tk.asbool(tk.config.get("ckan.search.solr_commit", True))


# --- reading the tables -----------------------------------------------------------------------


def _ids(value: Any) -> list[str]:
    """The OParl ids of a reference: an id, an embedded object, or a list of either."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, str) and item:
            found.append(item)
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            found.append(item["id"])
    return found


def _text(value: Any) -> str:
    """A string's words, each run of blanks one space: ALLRIS titles carry raw tabs."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _lines(text: str) -> str:
    """A file's text with control characters (pdftotext's form feeds, tabs) made blanks."""
    return _CONTROL.sub(" ", text)


def _date(value: Any) -> str | None:
    """An OParl date or date-time as Solr's UTC instant; None when it is none."""
    text = _text(value)
    if not text:
        return None
    try:
        if len(text) == 10:
            parsed = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)
        else:
            parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=datetime.UTC)
    except ValueError:
        return None
    return parsed.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Batch:
    """The objects a set of documents needs, loaded in a few queries."""

    def __init__(self, targets: list[CouncilObject]):
        self.targets = targets
        session = ckan_model.Session
        ids = [o.oparl_id for o in targets]
        # consultations, agenda items and files that link a target (either side may hold the link)
        linking = (
            session.query(CouncilObject)
            .filter(CouncilObject.links.overlap(ids), CouncilObject.deleted.is_(False))
            .all()
            if ids
            else []
        )
        self.by_id: dict[str, CouncilObject] = {o.oparl_id: o for o in [*targets, *linking]}
        self.linking = linking
        wanted = {i for o in self.by_id.values() for i in (o.links or [])}
        wanted |= {o.body for o in targets if o.body}
        self._load(wanted)
        # second level: the meetings, committees and persons of the consultations and items
        self._load({i for o in linking for i in (o.links or [])})
        files = [o.oparl_id for o in self.by_id.values() if o.type == "file"]
        self.texts: dict[str, str] = {}
        if files:
            rows = session.query(CouncilFileText.file_id, CouncilFileText.text).filter(
                CouncilFileText.file_id.in_(files), CouncilFileText.status == "ok"
            )
            self.texts = {file_id: _lines(text or "") for file_id, text in rows}
        orgs = {o.organization_id for o in targets}
        groups = session.query(ckan_model.Group.id, ckan_model.Group.name).filter(
            ckan_model.Group.id.in_(orgs)
        )
        self.cities = dict(groups)

    def _load(self, ids: set[str]) -> None:
        missing = [i for i in ids if i not in self.by_id]
        for start in range(0, len(missing), 1000):
            for found in ckan_model.Session.query(CouncilObject).filter(
                CouncilObject.oparl_id.in_(missing[start : start + 1000]),
                CouncilObject.deleted.is_(False),
            ):
                self.by_id[found.oparl_id] = found

    def get(self, oparl_id: str, kind: str | None = None) -> CouncilObject | None:
        found = self.by_id.get(oparl_id)
        if found is None or found.deleted or (kind and found.type != kind):
            return None
        return found

    def related(self, obj: CouncilObject, kind: str) -> list[CouncilObject]:
        """Objects of ``kind`` linked from ``obj`` or linking to it, each once."""
        seen: dict[str, CouncilObject] = {}
        for oparl_id in obj.links or []:
            found = self.get(oparl_id, kind)
            if found:
                seen[found.oparl_id] = found
        for other in self.linking:
            if other.type == kind and obj.oparl_id in (other.links or []):
                seen[other.oparl_id] = other
        return list(seen.values())

    def names(self, ids: Iterable[str], kind: str) -> list[str]:
        found = (self.get(i, kind) for i in ids)
        return _unique(_text(o.data.get("name")) for o in found if o)

    def file_texts(self, files: Iterable[CouncilObject], limit: int) -> list[str]:
        texts, used = [], 0
        for file in files:
            text = self.texts.get(file.oparl_id, "")[: max(0, limit - used)]
            if text:
                texts.append(text)
                used += len(text)
        return texts


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# --- documents --------------------------------------------------------------------------------


def _base(obj: CouncilObject, batch: _Batch, kind: str) -> dict[str, Any]:
    body = batch.get(obj.body, "body") if obj.body else None
    return {
        "id": obj.key,
        "key": obj.key,
        "oparl_id": obj.oparl_id,
        "type": kind,
        "city": batch.cities.get(obj.organization_id, obj.organization_id),
        "body": obj.body,
        "body_name": _text(body.data.get("name")) if body else None,
        "web": _text(obj.data.get("web")) or None,
        "modified": _date(obj.modified.isoformat()) if obj.modified else None,
    }


def _paper(obj: CouncilObject, batch: _Batch) -> dict[str, Any]:
    data = obj.data
    consultations = batch.related(obj, "consultation")
    org_ids = _ids(data.get("underDirectionOf")) + _ids(data.get("originatorOrganization"))
    person_ids = _ids(data.get("originatorPerson"))
    text = []
    for consultation in consultations:
        org_ids += _ids(consultation.data.get("organization"))
        meeting = next(iter(_ids(consultation.data.get("meeting"))), None)
        found = batch.get(meeting, "meeting") if meeting else None
        text += [
            _text(consultation.data.get("role")),
            _text(found.data.get("name")) if found else "",
        ]
        item = next(iter(_ids(consultation.data.get("agendaItem"))), None)
        item = batch.get(item, "agendaItem") if item else None
        if item:
            text += [_text(item.data.get(k)) for k in ("name", "result", "resolutionText")]
    files = [f for k in PAPER_FILES for i in _ids(data.get(k)) if (f := batch.get(i, "file"))]
    files += [f for f in batch.related(obj, "file") if f not in files]
    date = _date(data.get("date"))
    return {
        **_base(obj, batch, "paper"),
        "title": _text(data.get("name")) or _text(data.get("reference")),
        "reference": _text(data.get("reference")) or None,
        "paper_type": _text(data.get("paperType")) or None,
        "date": date,
        "year": int(date[:4]) if date else None,
        "organizations": batch.names(org_ids, "organization"),
        "organization_keys": _keys(batch, org_ids, "organization"),
        "persons": batch.names(person_ids, "person"),
        "person_keys": _keys(batch, person_ids, "person"),
        "text": _unique(text),
        "file_text": batch.file_texts(files, FILE_TEXT_MAX),
        "parent_keys": [f.key for f in files],
        "url": PAGES["paper"].format(key=obj.key),
    }


def _meeting(obj: CouncilObject, batch: _Batch) -> dict[str, Any]:
    data = obj.data
    items = batch.related(obj, "agendaItem")
    items.sort(key=lambda i: (i.data.get("order") is None, i.data.get("order") or 0))
    text = [_text(data.get("name"))]
    for item in items:
        text += [_text(item.data.get(k)) for k in ("number", "name", "result", "resolutionText")]
    location = data.get("location")
    if isinstance(location, dict):
        text.append(_text(location.get("description")))
    org_ids = _ids(data.get("organization"))
    person_ids = _ids(data.get("participant"))
    files = [f for k in MEETING_FILES for i in _ids(data.get(k)) if (f := batch.get(i, "file"))]
    files += [f for f in batch.related(obj, "file") if f not in files]
    date = _date(data.get("start"))
    orgs = batch.names(org_ids, "organization")
    title = _text(data.get("name")) or ", ".join(orgs)
    return {
        **_base(obj, batch, "meeting"),
        "title": title,
        "date": date,
        "year": int(date[:4]) if date else None,
        "organizations": orgs,
        "organization_keys": _keys(batch, org_ids, "organization"),
        "persons": batch.names(person_ids, "person"),
        "person_keys": _keys(batch, person_ids, "person"),
        "text": _unique(text),
        "file_text": batch.file_texts(files, FILE_TEXT_MAX),
        "parent_keys": [f.key for f in files],
        "url": PAGES["meeting"].format(key=obj.key),
    }


def _file(obj: CouncilObject, batch: _Batch) -> dict[str, Any]:
    data = obj.data
    parents = [p for k in ("paper", "meeting") for p in batch.related(obj, k)]
    first = parents[0] if parents else None
    date = _date(data.get("date")) or (_date(first.data.get("date")) if first else None)
    base = _base(obj, batch, "file")
    if not base["body"] and first is not None:
        base["body"] = first.body
    return {
        **base,
        "title": _text(data.get("name")) or _text(data.get("fileName")),
        "date": date,
        "year": int(date[:4]) if date else None,
        "paper_type": _text(first.data.get("paperType")) or None if first else None,
        "reference": _text(first.data.get("reference")) or None if first else None,
        "text": _unique(
            [_text(data.get("fileName"))] + [_text(p.data.get("name")) for p in parents]
        ),
        "file_text": [batch.texts[obj.oparl_id]] if batch.texts.get(obj.oparl_id) else [],
        "parent_keys": [p.key for p in parents],
        "web": _text(data.get("web")) or _text(data.get("accessUrl")) or None,
        "url": PAGES[first.type].format(key=first.key) if first else None,
    }


def _keys(batch: _Batch, ids: Iterable[str], kind: str) -> list[str]:
    return _unique(o.key for i in ids if (o := batch.get(i, kind)))


BUILDERS = {"paper": _paper, "meeting": _meeting, "file": _file}


def documents(targets: list[CouncilObject]) -> list[dict[str, Any]]:
    """The Solr documents of these (undeleted) papers, meetings and files."""
    batch = _Batch(targets)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    docs = []
    for obj in targets:
        doc = BUILDERS[obj.type](obj, batch)
        doc["indexed"] = stamp
        docs.append({k: v for k, v in doc.items() if v not in (None, [], "")})
    return docs


# --- writing ----------------------------------------------------------------------------------


def _targets(objects: list[CouncilObject]) -> tuple[list[CouncilObject], list[str]]:
    """The documents that change with these objects: to write, and (keys) to delete."""
    session = ckan_model.Session
    write: dict[str, CouncilObject] = {}
    delete = [o.key for o in objects if o.type in DOC_TYPES and o.deleted]
    for obj in objects:
        if obj.type in DOC_TYPES and not obj.deleted:
            write[obj.key] = obj
    linked = [o for o in objects if o.type in LINKED_TYPES]
    if linked:
        out = {i for o in linked for i in (o.links or [])}
        ids = [o.oparl_id for o in linked]
        query = session.query(CouncilObject).filter(
            CouncilObject.type.in_(("paper", "meeting")),
            CouncilObject.deleted.is_(False),
            sa.or_(CouncilObject.oparl_id.in_(out), CouncilObject.links.overlap(ids)),
        )
        for found in query:
            write.setdefault(found.key, found)
    return list(write.values()), [k for k in delete if k not in write]


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write(objects: list[CouncilObject], core: pysolr.Solr) -> int:
    targets, deleted = _targets(objects)
    for chunk in _chunks(targets, BATCH):
        core.add(documents(chunk), commit=False)
    if deleted:
        core.delete(id=deleted, commit=False)
    if _commit():
        core.commit(softCommit=True)
    return len(targets) + len(deleted)


def _clear(keys: list[str], read_at: datetime.datetime) -> None:
    """``needs_index`` off for the versions that were read before the Solr write."""
    session = ckan_model.Session
    for chunk in _chunks(keys, 1000):
        session.query(CouncilObject).filter(
            CouncilObject.key.in_(chunk), CouncilObject.updated <= read_at
        ).update({"needs_index": False}, synchronize_session=False)
    session.commit()


def update(keys: Iterable[str]) -> int:
    """Index the objects with these keys (and the documents they change); delete the documents
    of deleted ones. Returns the documents written or deleted; 0 when Solr refused (logged):
    the objects then stay marked ``needs_index`` for ``ckan vierstaedte council reindex``. The
    caller's database writes are committed before; this never undoes them."""
    try:
        return index_keys(keys)
    except SolrUnavailable as error:
        log.warning("council index: Solr refused, objects stay marked for reindex: %s", error)
        return 0


def index_keys(keys: Iterable[str]) -> int:
    """:func:`update`, raising :class:`SolrUnavailable` when Solr refuses."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return 0
    read_at = datetime.datetime.now(datetime.UTC)
    objects = []
    for chunk in _chunks(keys, 1000):
        objects += ckan_model.Session.query(CouncilObject).filter(CouncilObject.key.in_(chunk))
    try:
        done = _write(objects, connection())
    except (pysolr.SolrError, OSError) as error:
        ckan_model.Session.rollback()
        raise SolrUnavailable(str(error)) from error
    _clear([o.key for o in objects], read_at)
    return done


def pending(limit: int | None = None) -> list[str]:
    query = ckan_model.Session.query(CouncilObject.key).filter(CouncilObject.needs_index)
    return [key for (key,) in query.order_by(CouncilObject.key).limit(limit)]


def reindex(batch: int = 1000) -> int:
    """What a Solr outage left behind: the marked objects (all, if the core is empty)."""
    core = connection()
    if not core.search("*:*", rows=0).hits and _indexable():
        return rebuild()
    done = 0
    while keys := pending(batch):
        done += index_keys(keys)
        if set(keys) == set(pending(batch)):
            raise SolrUnavailable("the marked objects stayed marked")
    return done


def _indexable() -> bool:
    return bool(
        ckan_model.Session.query(CouncilObject.key)
        .filter(CouncilObject.type.in_(DOC_TYPES), CouncilObject.deleted.is_(False))
        .first()
    )


def rebuild(batch: int = 500) -> int:
    """Every paper, meeting and file again; documents of objects no longer there are deleted."""
    core = connection()
    started = datetime.datetime.now(datetime.UTC)
    session = ckan_model.Session
    keys = [
        k
        for (k,) in session.query(CouncilObject.key)
        .filter(CouncilObject.type.in_(DOC_TYPES), CouncilObject.deleted.is_(False))
        .order_by(CouncilObject.key)
    ]
    try:
        for chunk in _chunks(keys, batch):
            objects = session.query(CouncilObject).filter(CouncilObject.key.in_(chunk)).all()
            for part in _chunks(objects, BATCH):
                core.add(documents(part), commit=False)
            session.expunge_all()
        stale = started.strftime("%Y-%m-%dT%H:%M:%SZ")
        core.delete(q=f"indexed:[* TO {stale}}} OR (*:* -indexed:[* TO *])", commit=False)
        core.commit()
    except (pysolr.SolrError, OSError) as error:
        session.rollback()
        raise SolrUnavailable(str(error)) from error
    session.query(CouncilObject).filter(
        CouncilObject.needs_index, CouncilObject.updated <= started
    ).update({"needs_index": False}, synchronize_session=False)
    session.commit()
    return len(keys)
