"""The council store: the harvester's writes (objects, file texts, sync state), the show
actions with their links resolved, the run kind, and the migration on an existing database.

In-process CKAN on the real test database; the writes also go over HTTP with a city editor's
token, as the harvester sends them.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.vierstaedte.council.model import CouncilObject
from vierstaedte_contract.council import BATCH_MAX, object_key

OPARL = "https://rat.mainz.example/oparl/v1.1"
BODY = f"{OPARL}/body/1"
PAPER = f"{BODY}/paper/4711"
CONSULTATION = f"{BODY}/consultation/9"
MEETING = f"{BODY}/meeting/77"
ITEM = f"{BODY}/agendaitem/770"
COMMITTEE = f"{BODY}/organization/5"
PERSON = f"{BODY}/person/12"
MEMBERSHIP = f"{BODY}/membership/120"
FILE = f"{BODY}/file/300"
TYPE = "https://schema.oparl.org/1.1/"
MODIFIED = "2026-10-01T10:00:00+02:00"


def sent(oparl_id, short, data, modified=MODIFIED, deleted=False, body=BODY):
    """One object as the harvester sends it."""
    return {
        "id": oparl_id,
        "type": short,
        "body": body,
        "modified": modified,
        "deleted": deleted,
        "data": {"id": oparl_id, "modified": modified, **data},
    }


def council(paper_name="Bebauungsplan Gonsenheim-Süd"):
    """A small council: a paper with an embedded consultation and file, the meeting it was
    discussed in (agenda embedded, naming no meeting), the committee, a member."""
    consultation = {
        "id": CONSULTATION,
        "type": TYPE + "Consultation",
        "paper": PAPER,
        "meeting": MEETING,
        "agendaItem": ITEM,
        "organization": [COMMITTEE],
        "role": "Entscheidung",
        "authoritative": True,
    }
    file = {
        "id": FILE,
        "type": TYPE + "File",
        "name": "Vorlage 4711",
        "fileName": "vorlage-4711.pdf",
        "mimeType": "application/pdf",
        "accessUrl": f"{OPARL}/files/4711.pdf",
    }
    item = {
        "id": ITEM,
        "type": TYPE + "AgendaItem",
        "number": "Ö 3",
        "order": 3,
        "name": paper_name,
        "public": True,
        "result": "beschlossen",
        "consultation": CONSULTATION,
    }
    paper = {
        "type": TYPE + "Paper",
        "name": paper_name,
        "reference": "0815/2026",
        "paperType": "Beschlussvorlage",
        "date": "2026-09-20",
        "body": BODY,
        "web": "https://rat.mainz.example/vo0050.asp?__kvonr=4711",
        "consultation": [consultation],
        "mainFile": file,
        "underDirectionOf": [COMMITTEE],
    }
    meeting = {
        "type": TYPE + "Meeting",
        "name": "Bauausschuss",
        "start": "2026-10-05T17:00:00+02:00",
        "organization": [COMMITTEE],
        "agendaItem": [item],
        "location": {"id": f"{BODY}/location/1", "description": "Ratssaal"},
        "web": "https://rat.mainz.example/to0040.asp?__ksinr=77",
    }
    return [
        sent(PAPER, "paper", paper),
        sent(CONSULTATION, "consultation", consultation),
        sent(FILE, "file", file),
        sent(MEETING, "meeting", meeting),
        sent(ITEM, "agendaItem", item),
        sent(COMMITTEE, "organization", {"type": TYPE + "Organization", "name": "Bauausschuss"}),
        sent(PERSON, "person", {"type": TYPE + "Person", "name": "Dr. Erika Muster"}),
        sent(
            MEMBERSHIP,
            "membership",
            {
                "type": TYPE + "Membership",
                "person": PERSON,
                "organization": COMMITTEE,
                "role": "Vorsitzende",
                "startDate": "2024-07-01",
            },
        ),
    ]


def upsert(objects, city="mainz", user=None):
    context = {"user": user} if user else {"ignore_auth": True}
    return call_action("vierstaedte_council_upsert", context=context, city=city, objects=objects)


def rows() -> dict[str, CouncilObject]:
    model.Session.remove()
    return {row.oparl_id: row for row in model.Session.query(CouncilObject)}


pytestmark = pytest.mark.usefixtures("with_plugins", "cities")


def test_upsert_is_idempotent_and_a_no_change_call_writes_nothing(app, city_editor):
    objects = council()
    response = app.post(
        "/api/3/action/vierstaedte_council_upsert",
        json={"city": "mainz", "objects": objects},
        headers={"Authorization": city_editor["token"]},
    ).json["result"]
    assert response == {
        "written": len(objects),
        "added": len(objects),
        "unchanged": 0,
        "deleted": 0,
    }
    stored = rows()
    assert set(stored) == {item["id"] for item in objects}
    paper = stored[PAPER]
    assert paper.key == object_key(PAPER) and paper.type == "paper" and paper.body == BODY
    assert not paper.deleted
    assert {CONSULTATION, FILE, COMMITTEE, BODY} <= set(paper.links)

    # a no-change call changes no row at all, and marks nothing for the index
    model.Session.execute(sa.update(CouncilObject).values(needs_index=False))
    model.Session.commit()
    before = {oparl_id: (row.updated, row.content_hash) for oparl_id, row in rows().items()}
    assert upsert(council()) == {"written": 0, "added": 0, "unchanged": len(objects), "deleted": 0}
    after = rows()
    assert {oparl_id: (row.updated, row.content_hash) for oparl_id, row in after.items()} == before
    assert not any(row.needs_index for row in after.values())

    # a changed paper is written and marked, nothing else
    changed = council(paper_name="Bebauungsplan Gonsenheim-Süd (geändert)")
    changed[0]["modified"] = changed[0]["data"]["modified"] = "2026-10-02T09:00:00+02:00"
    assert upsert(changed[:1]) == {"written": 1, "added": 0, "unchanged": 0, "deleted": 0}
    now = {oparl_id: (row.updated, row.content_hash) for oparl_id, row in rows().items()}
    assert {oparl_id for oparl_id in now if now[oparl_id] != before[oparl_id]} == {PAPER}


def test_an_embedded_copy_never_overwrites_the_full_object():
    """The agenda item embedded in its meeting names no meeting; the list's copy does. Sent in
    either order, run after run, neither copy undoes the other."""
    full = sent(ITEM, "agendaItem", {"name": "Kita", "meeting": MEETING, "number": "1"})
    embedded = sent(ITEM, "agendaItem", {"name": "Kita", "number": "1"})
    assert upsert([full]) == {"written": 1, "added": 1, "unchanged": 0, "deleted": 0}
    for _ in range(2):
        assert upsert([embedded]) == {"written": 0, "added": 0, "unchanged": 1, "deleted": 0}
        assert upsert([full]) == {"written": 0, "added": 0, "unchanged": 1, "deleted": 0}
    assert rows()[ITEM].data["meeting"] == MEETING
    older = sent(ITEM, "agendaItem", {"name": "alt"}, modified="2026-01-01T00:00:00Z")
    assert upsert([older])["unchanged"] == 1 and rows()[ITEM].data["name"] == "Kita"
    newer = sent(ITEM, "agendaItem", {"name": "neu"}, modified="2026-11-01T00:00:00Z")
    assert upsert([newer]) == {"written": 1, "added": 0, "unchanged": 0, "deleted": 0}
    assert rows()[ITEM].data["name"] == "neu" and "meeting" not in rows()[ITEM].data
    # the same object twice in one call counts once
    assert upsert([newer, newer]) == {"written": 0, "added": 0, "unchanged": 2, "deleted": 0}


def test_deleted_objects_are_flagged_and_never_shown():
    upsert(council())
    key = object_key(PAPER)
    assert call_action("vierstaedte_council_paper_show", key=key)["reference"] == "0815/2026"
    gone = sent(PAPER, "paper", {"deleted": True}, modified="2026-11-01T00:00:00Z")
    assert upsert([gone]) == {"written": 0, "added": 0, "unchanged": 0, "deleted": 1}
    assert upsert([gone]) == {"written": 0, "added": 0, "unchanged": 1, "deleted": 0}
    assert rows()[PAPER].deleted
    with pytest.raises(Exception, match="Nicht gefunden"):
        call_action("vierstaedte_council_paper_show", key=key)
    # the meeting's agenda no longer links the deleted paper
    meeting = call_action("vierstaedte_council_meeting_show", key=object_key(MEETING))
    assert meeting["agenda_items"][0]["papers"] == []
    # an object deleted before it was ever seen is stored as deleted
    never = sent(f"{BODY}/paper/1", "paper", {}, deleted=True)
    assert upsert([never])["deleted"] == 1 and rows()[never["id"]].deleted


def test_show_actions_resolve_links_both_ways(app):
    upsert(council())
    call_action(
        "vierstaedte_council_file_text",
        context={"ignore_auth": True},
        city="mainz",
        file_id=FILE,
        status="ok",
        text="Der  Stadtrat\nbeschließt den Bebauungsplan. " + "Begründung " * 200,
        source_url=f"{OPARL}/files/4711.pdf",
        mime_type="application/pdf",
    )
    paper = app.get(
        "/api/3/action/vierstaedte_council_paper_show", query_string={"key": object_key(PAPER)}
    ).json["result"]  # anonymous, over HTTP
    assert paper["key"] == object_key(PAPER) and paper["url"] == f"/rat/vorlage/{paper['key']}"
    assert (paper["city"], paper["city_title"]) == ("mainz", "Landeshauptstadt Mainz")
    assert (paper["title"], paper["reference"], paper["paper_type"], paper["date"]) == (
        "Bebauungsplan Gonsenheim-Süd",
        "0815/2026",
        "Beschlussvorlage",
        "2026-09-20",
    )
    assert paper["web"].endswith("__kvonr=4711")
    [consultation] = paper["consultations"]
    assert consultation["meeting"]["key"] == object_key(MEETING)
    assert consultation["meeting"]["url"] == f"/rat/sitzung/{object_key(MEETING)}"
    assert consultation["meeting"]["date"] == "2026-10-05T17:00:00+02:00"
    assert [o["title"] for o in consultation["organizations"]] == ["Bauausschuss"]
    assert consultation["agenda_item"]["result"] == "beschlossen"
    assert consultation["authoritative"] is True
    assert [o["url"] for o in paper["under_direction_of"]] == [
        f"/rat/gremium/{object_key(COMMITTEE)}"
    ]
    [file] = paper["files"]
    assert (file["role"], file["text_status"], file["access_url"]) == (
        "mainFile",
        "ok",
        f"{OPARL}/files/4711.pdf",
    )
    assert file["text_excerpt"].startswith("Der Stadtrat beschließt den Bebauungsplan.")
    assert len(file["text_excerpt"]) <= 502 and file["text_excerpt"].endswith("…")

    meeting = call_action("vierstaedte_council_meeting_show", key=object_key(MEETING))
    assert meeting["date"] == "2026-10-05T17:00:00+02:00"
    assert meeting["location"]["description"] == "Ratssaal"
    [item] = meeting["agenda_items"]
    assert (item["number"], item["result"]) == ("Ö 3", "beschlossen")
    assert [p["reference"] for p in item["papers"]] == ["0815/2026"]
    assert item["papers"][0]["url"] == f"/rat/vorlage/{object_key(PAPER)}"

    committee = call_action("vierstaedte_council_organization_show", key=object_key(COMMITTEE))
    assert [m["key"] for m in committee["meetings"]] == [object_key(MEETING)]
    assert [(m["person"]["title"], m["role"]) for m in committee["members"]] == [
        ("Dr. Erika Muster", "Vorsitzende")
    ]
    person = call_action("vierstaedte_council_person_show", key=object_key(PERSON))
    assert [m["organization"]["title"] for m in person["memberships"]] == ["Bauausschuss"]

    # a key of another type, or none at all, is not found; junk is a field error
    app.get(
        "/api/3/action/vierstaedte_council_meeting_show",
        query_string={"key": object_key(PAPER)},
        status=404,
    )
    app.get(
        "/api/3/action/vierstaedte_council_paper_show", query_string={"key": "x'--"}, status=409
    )


def test_file_text_and_state(app, city_editor):
    def store(expect=200, **fields):
        data = {
            "city": "mainz",
            "file_id": FILE,
            "status": "ok",
            "text": "Haushaltsplan 2026",
            "sha256": "ab" * 32,
            "size": 12345,
            "etag": '"v1"',
            "last_modified": "Wed, 01 Oct 2026 08:00:00 GMT",
            "mime_type": "application/pdf",
            "source_url": f"{OPARL}/files/300.pdf",
            **fields,
        }
        return app.post(
            "/api/3/action/vierstaedte_council_file_text",
            json=data,
            headers={"Authorization": city_editor["token"]},
            status=expect,
        ).json

    assert store()["result"]["written"] is True
    assert store()["result"]["written"] is False  # unchanged: nothing written
    state = call_action(
        "vierstaedte_council_file_state",
        context={"user": city_editor["user"]["name"]},
        city="mainz",
        file_ids=[FILE, f"{BODY}/file/unknown"],
    )
    assert state == {
        FILE: {
            "etag": '"v1"',
            "last_modified": "Wed, 01 Oct 2026 08:00:00 GMT",
            "sha256": "ab" * 32,
            "status": "ok",
            "source_url": f"{OPARL}/files/300.pdf",
        }
    }
    assert store(status="empty", text=None)["result"]["status"] == "empty"
    for bad in (
        {"status": "gelesen"},
        {"sha256": "xyz"},
        {"file_id": "ftp://x"},
        {"size": -1},
        {"text": "x" * 1_000_001},
        {"etag": "e" * 301},
        {"source_url": None},
    ):
        assert store(expect=409, **bad)["success"] is False, bad
    store(expect=403, city="trier")


def test_sync_state_per_body_and_list(app, city_editor):
    def update(**fields):
        return app.post(
            "/api/3/action/vierstaedte_council_sync_update",
            json={"city": "mainz", "body": BODY, **fields},
            headers={"Authorization": city_editor["token"]},
        ).json["result"]

    show = {"city": "mainz"}
    headers = {"Authorization": city_editor["token"]}
    url = "/api/3/action/vierstaedte_council_sync_show"
    assert app.post(url, json=show, headers=headers).json["result"] == {"lists": {}}
    update(list="paper", watermark="2026-10-01T10:00:00+02:00", full_sync=True)
    update(list="meeting", watermark=None, full_sync=False)
    lists = app.post(url, json=show, headers=headers).json["result"]["lists"]
    assert lists[f"{BODY} paper"]["watermark"] == "2026-10-01T08:00:00+00:00"
    assert lists[f"{BODY} paper"]["full_sync"] is True
    assert lists[f"{BODY} meeting"] == {
        "watermark": None,
        "full_sync": False,
        "updated": lists[f"{BODY} meeting"]["updated"],
    }
    update(list="paper", watermark="2026-11-01T00:00:00Z", full_sync=True)
    lists = app.post(url, json=show, headers=headers).json["result"]["lists"]
    assert lists[f"{BODY} paper"]["watermark"] == "2026-11-01T00:00:00+00:00"
    app.post(url, json={"city": "trier"}, headers=headers, status=403)
    app.post(url, json=show, status=403)  # anonymous


def test_a_city_never_writes_another_citys_objects(app, city_editor, cities):
    headers = {"Authorization": city_editor["token"]}
    url = "/api/3/action/vierstaedte_council_upsert"
    app.post(url, json={"city": "trier", "objects": council()}, headers=headers, status=403)
    app.post(url, json={"city": "mainz", "objects": council()}, status=403)  # anonymous
    assert rows() == {}
    upsert(council())
    # even a sysadmin cannot move Mainz's objects to Trier by sending them as Trier's
    sysadmin = factories.Sysadmin()
    with pytest.raises(Exception, match="anderen Stadt"):
        upsert(council("Übernommen"), city="trier", user=sysadmin["name"])
    assert rows()[PAPER].data["name"] == "Bebauungsplan Gonsenheim-Süd"
    with pytest.raises(Exception, match="anderen Stadt"):
        call_action(
            "vierstaedte_council_file_text",
            context={"ignore_auth": True},
            city="trier",
            file_id=FILE,
            status="ok",
            source_url=f"{OPARL}/files/300.pdf",
        )


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o.update(type="vorlage"),
        lambda o: o.update(type="meeting"),  # data says Paper
        lambda o: o.update(id="not a url"),
        lambda o: o["data"].update(id=f"{BODY}/paper/other"),
        lambda o: o.update(modified="gestern"),
        lambda o: o.update(deleted="vielleicht"),
        lambda o: o.update(body="javascript:alert(1)"),
        lambda o: o.update(extra=1),
        lambda o: o.update(data=[]),
        lambda o: o["data"].update(value=float("nan")),
        lambda o: o["data"].update(name="\ud800"),
        lambda o: o["data"].update(blob="x" * 600_000),
        lambda o: o["data"].update(
            deep=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
        ),
    ],
)
def test_junk_objects_are_field_errors(change):
    [paper] = copy.deepcopy(council()[:1])
    change(paper)
    with pytest.raises(Exception) as refused:
        upsert([paper])
    assert (
        type(refused.value).__name__ == "ValidationError" and "objects" in refused.value.error_dict
    )
    assert rows() == {}


def test_batches_are_bounded_and_nul_characters_dropped(app, city_editor):
    url, headers = (
        "/api/3/action/vierstaedte_council_upsert",
        {"Authorization": city_editor["token"]},
    )
    many = [sent(f"{BODY}/person/{n}", "person", {"name": f"P{n}"}) for n in range(BATCH_MAX + 1)]
    app.post(url, json={"city": "mainz", "objects": many}, headers=headers, status=409)
    app.post(url, json={"city": "mainz", "objects": []}, headers=headers, status=409)
    app.post(url, json={"city": "mainz", "objects": "[{"}, headers=headers, status=409)
    result = app.post(url, json={"city": "mainz", "objects": many[:-1]}, headers=headers)
    assert result.json["result"]["written"] == BATCH_MAX
    odd = sent(PERSON, "person", {"name": "Erika\x00 Muster"})
    assert upsert([odd])["written"] == 1 and rows()[PERSON].data["name"] == "Erika Muster"


def test_harvest_runs_have_a_kind(app, city_editor):
    from tests.ckanext.test_harvest_runs import run_payload

    headers = {"Authorization": city_editor["token"]}
    url = "/api/3/action/vierstaedte_harvest_run_create"
    catalogue = app.post(url, json=run_payload(), headers=headers).json["result"]
    assert catalogue["kind"] == "catalogue"
    counts = {"written": 120, "unchanged": 3, "deleted": 1, "files-ok": 7}
    council_run = app.post(
        url,
        json=run_payload(kind="council", counts=counts, status="ok"),
        headers=headers,
    ).json["result"]
    assert council_run["kind"] == "council" and council_run["counts"] == counts
    app.post(url, json=run_payload(kind="rat"), headers=headers, status=409)
    app.post(url, json=run_payload(counts=counts), headers=headers, status=409)  # catalogue
    app.post(url, json=run_payload(kind="council", counts={"A B": 1}), headers=headers, status=409)
    listed = "/api/3/action/vierstaedte_harvest_run_list"
    for kind, wanted in (("council", [council_run["id"]]), ("catalogue", [catalogue["id"]])):
        found = app.get(listed, query_string={"organization": "mainz", "kind": kind}).json
        assert [run["id"] for run in found["result"]["results"]] == wanted
    assert app.get(listed, query_string={"organization": "mainz"}).json["result"]["count"] == 2


def test_migration_upgrades_an_existing_database(request, city_editor):
    """``ckan db upgrade -p vierstaedte`` on a database of the previous revision with a run:
    the run becomes a catalogue run, the council tables appear."""
    from tests.ckanext.test_harvest_runs import run_payload

    call_action(
        "vierstaedte_harvest_run_create",
        context={"user": city_editor["user"]["name"]},
        **run_payload(),
    )
    model.Session.remove()
    ckan = [
        str(Path(sys.executable).with_name("ckan")),
        "-c",
        request.config.getoption("--ckan-ini"),
    ]

    def tables() -> set[str]:
        return set(sa.inspect(model.meta.engine).get_table_names())

    subprocess.run(
        [*ckan, "db", "downgrade", "-p", "vierstaedte", "--version", "3ac618676a68"],
        check=True,
        capture_output=True,
    )
    assert "vierstaedte_council_object" not in tables()
    subprocess.run([*ckan, "db", "upgrade", "-p", "vierstaedte"], check=True, capture_output=True)
    assert {
        "vierstaedte_council_object",
        "vierstaedte_council_file_text",
        "vierstaedte_council_sync",
    } <= tables()
    kinds = model.Session.execute(sa.text("SELECT kind FROM vierstaedte_harvest_run")).scalars()
    assert list(kinds) == ["catalogue"]
    assert upsert(council())["written"] == len(council())
