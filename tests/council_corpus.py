"""A small council corpus for the council pages and the AI tool, written through the real actions.

Two cities' OParl objects (Mainz shaped like SessionNet, Trier like ALLRIS) with every link the
pages resolve: a paper with its consultation, meeting, agenda item, committee, person and file
(with extracted text), plus a paper whose strings are HTML and script, which every page must
show as text. They reach the live CKAN over HTTP through ``vierstaedte_council_upsert`` and
``vierstaedte_council_file_text`` exactly as the harvester sends them, so the pages read what a
harvest stores.
"""

from __future__ import annotations

import hashlib
from typing import Any

import requests

from vierstaedte_contract.council import object_key

OPARL = "https://schema.oparl.org/1.1/"
XSS_TITLE = '<script>alert("xss")</script> Kita <b>Sonnenschein</b>'
XSS_REFERENCE = "<img src=x onerror=alert(1)>"
FILE_TEXT = (
    "Der Bebauungsplan N 84 „Am Zollhafen“ sieht am Nordufer eine Kita mit fünf Gruppen, "
    "einen Quartiersplatz und Lärmschutz zur Rheinallee vor. Die Verwaltung empfiehlt den "
    "Aufstellungsbeschluss."
)


def _o(base: str, kind: str, slug: str, /, **data: Any) -> dict[str, Any]:
    oid = f"{base}/{kind.lower()}/{slug}"
    return {"id": oid, "type": OPARL + kind, "web": f"{base}/web/{kind.lower()}/{slug}", **data}


def mainz() -> dict[str, Any]:
    """Mainz: a committee, a person, a meeting with one agenda item, three papers, two files."""
    base = "https://ratsinfo.mainz.example/oparl"
    system = _o(base, "System", "1", oparlVersion="https://schema.oparl.org/1.1/", name="Mainz")
    body = _o(base, "Body", "1", name="Stadt Mainz", system=system["id"])
    committee = _o(
        base,
        "Organization",
        "bau",
        body=body["id"],
        name="Bau- und Sanierungsausschuss",
        shortName="BauA",
        organizationType="Gremium",
        classification="Ausschuss",
    )
    person = _o(
        base, "Person", "mustermann", body=body["id"], name="Erika Mustermann",
        familyName="Mustermann", givenName="Erika",
    )  # fmt: skip
    membership = _o(
        base, "Membership", "1", person=person["id"], organization=committee["id"],
        role="Vorsitzende", startDate="2024-07-01",
    )  # fmt: skip
    paper_id = f"{base}/paper/zollhafen"
    meeting_id = f"{base}/meeting/bau-2025-03"
    main_file = _o(
        base, "File", "zollhafen-pdf", name="Vorlage 0815/2025", fileName="0815-2025.pdf",
        mimeType="application/pdf", size=48213, accessUrl=f"{base}/files/0815-2025.pdf",
        downloadUrl=f"{base}/files/0815-2025.pdf?download=1", paper=[paper_id],
    )  # fmt: skip
    invitation = _o(
        base, "File", "einladung", name="Einladung", fileName="einladung.pdf",
        mimeType="application/pdf", size=9120, accessUrl=f"{base}/files/einladung.pdf",
        meeting=[meeting_id],
    )  # fmt: skip
    consultation = _o(
        base, "Consultation", "zollhafen-bau", paper=paper_id, meeting=meeting_id,
        agendaItem=f"{base}/agendaitem/bau-3-1", organization=[committee["id"]],
        authoritative=True, role="Entscheidung",
    )  # fmt: skip
    agenda_item = _o(
        base, "AgendaItem", "bau-3-1", meeting=meeting_id, number="3.1", order=3,
        name="Bebauungsplan „Am Zollhafen“ (N 84)", public=True,
        consultation=consultation["id"], result="einstimmig beschlossen",
        resolutionText="Der Ausschuss beschließt die Aufstellung des Bebauungsplans N 84.",
    )  # fmt: skip
    meeting = _o(
        base, "Meeting", "bau-2025-03", name="Sitzung des Bau- und Sanierungsausschusses",
        start="2025-03-12T16:00:00+01:00", end="2025-03-12T18:30:00+01:00",
        organization=[committee["id"]], participant=[person["id"]],
        agendaItem=[agenda_item], invitation=invitation,
    )  # fmt: skip
    paper = _o(
        base, "Paper", "zollhafen", body=body["id"],
        name="Bebauungsplan „Am Zollhafen“ (N 84) – Aufstellungsbeschluss",
        reference="0815/2025", date="2025-02-20", paperType="Beschlussvorlage",
        mainFile=main_file, consultation=[consultation], originatorPerson=[person["id"]],
    )  # fmt: skip
    cycling = _o(
        base, "Paper", "radwege", body=body["id"],
        name="Antrag: Sichere Radwege in der Neustadt (Radverkehr)", reference="0901/2025",
        date="2025-04-02", paperType="Antrag", originatorOrganization=[committee["id"]],
    )  # fmt: skip
    hostile = _o(
        base, "Paper", "xss", body=body["id"], name=XSS_TITLE, reference=XSS_REFERENCE,
        date="2025-01-15", paperType="Anfrage <i>kursiv</i>",
    )  # fmt: skip
    objects = [system, body, committee, person, membership, meeting, agenda_item, consultation]
    objects += [paper, main_file, invitation, cycling, hostile]
    return {
        "objects": objects,
        "body": body["id"],
        "texts": {main_file["id"]: ("ok", FILE_TEXT), invitation["id"]: ("empty", "")},
        "keys": {
            "paper": object_key(paper["id"]),
            "cycling": object_key(cycling["id"]),
            "hostile": object_key(hostile["id"]),
            "meeting": object_key(meeting["id"]),
            "committee": object_key(committee["id"]),
            "person": object_key(person["id"]),
        },
        "web": {"paper": paper["web"], "meeting": meeting["web"]},
        "files": {"main": main_file, "invitation": invitation},
    }


def trier() -> dict[str, Any]:
    """Trier: the city council with one climate paper and a cycling paper."""
    base = "https://ratsinfo.trier.example/oparl"
    system = _o(base, "System", "1", oparlVersion="https://schema.oparl.org/1.0/", name="Trier")
    body = _o(base, "Body", "1", name="Stadt Trier", system=system["id"])
    council = _o(base, "Organization", "stadtrat", body=body["id"], name="Stadtrat")
    climate = _o(
        base, "Paper", "klima", body=body["id"],
        name="Klimaschutzkonzept Trier 2030 – Fortschreibung", reference="123/2025",
        date="2025-05-05", paperType="Berichtsvorlage",
    )  # fmt: skip
    cycling = _o(
        base, "Paper", "rad", body=body["id"], name="Konzept für den Radverkehr in der Innenstadt",
        reference="140/2025", date="2025-06-10", paperType="Beschlussvorlage",
    )  # fmt: skip
    return {
        "objects": [system, body, council, climate, cycling],
        "body": body["id"],
        "texts": {},
        "keys": {"climate": object_key(climate["id"]), "cycling": object_key(cycling["id"])},
        "web": {"climate": climate["web"]},
    }


def _sent(obj: dict[str, Any], body: str) -> dict[str, Any]:
    kind = obj["type"].rsplit("/", 1)[-1]
    kind = kind[0].lower() + kind[1:]
    return {
        "id": obj["id"],
        "type": kind,
        "body": None if kind in ("system", "body") else body,
        "modified": "2025-06-30T12:00:00+02:00",
        "deleted": False,
        "data": obj,
    }


def store(url: str, token: str) -> dict[str, dict[str, Any]]:
    """Both cities' objects and file texts written through the actions; the corpus by city."""
    corpus = {"mainz": mainz(), "trier": trier()}
    headers = {"Authorization": token}
    for city, content in corpus.items():
        objects = [_sent(obj, content["body"]) for obj in content["objects"]]
        response = requests.post(
            f"{url}/api/3/action/vierstaedte_council_upsert",
            json={"city": city, "objects": objects},
            headers=headers,
            timeout=60,
        )
        assert response.ok, response.text
        for file_id, (status, text) in content["texts"].items():
            data = text.encode("utf-8")
            response = requests.post(
                f"{url}/api/3/action/vierstaedte_council_file_text",
                json={
                    "city": city,
                    "file_id": file_id,
                    "status": status,
                    "text": text,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                    "mime_type": "application/pdf",
                    "source_url": file_id,
                },
                headers=headers,
                timeout=60,
            )
            assert response.ok, response.text
    return corpus


def council_portal(ckan_server, reset_db, reset_index, migrate_db_for) -> dict[str, Any]:
    """Fresh databases, the four cities and the corpus stored; loads the plugins (the caller
    unloads them when its module is done)."""
    import ckan.plugins
    from ckan.tests import factories

    from ckanext.vierstaedte import seed
    from ckanext.vierstaedte.council import index

    ckan.plugins.load_all()
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("vierstaedte")
    reset_index()
    index.connection().delete(q="*:*", commit=True)  # the council core holds only this corpus
    sysadmin = factories.SysadminWithToken()
    seed.ensure_cities({"user": sysadmin["name"]}, echo=lambda _: None)
    corpus = store(ckan_server, sysadmin["token"])
    return {"url": ckan_server, "token": sysadmin["token"], "corpus": corpus}
