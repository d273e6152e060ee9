"""Generate a seeded, invented OParl system per city: the council data of the local demo.

Why generated and not recorded: none of the four cities has its OParl interface switched on
publicly (see ``../shared/fixtures/real/oparl/SOURCES.md``), and a recorded system of another
council would put real people's names into our demo. So this module invents a council that
looks like each city's product: Somacos SessionNet (OParl 1.1, ``…/oparl/1.1/bodies/0001/
papers?page=2``) for Mainz, Koblenz and Ludwigshafen, CC e-gov ALLRIS net 4.1 (OParl 1.0,
``…/papers.asp?body=1&page=2``) for Trier, with ALLRIS' known quirks baked in: a single
``auxiliaryFile`` sent as an object instead of a list, ``mimeType: "pdf"`` and raw control
characters in some strings (``render_json``). Places are real, people and decisions invented,
and the System, the Body and every ``web`` address say so (``DEMO_WEB`` in the path,
``keyword: ["demo"]``).

The same seed, size and epoch give the same system byte for byte. An *epoch* is a later state
of the same system, for incremental harvests: each epoch revises a few papers (new main file),
deletes a few (``deleted: true`` stubs), adds a few and cancels a meeting, stamped at the
epoch's time (``epoch_times``; the replay server passes the wall-clock time it switched at).
URLs hold the placeholder ``{base}``, which the replay server replaces by its own address.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from demo.council import words

BERLIN = ZoneInfo("Europe/Berlin")
SEED = 17
# the base corpus was "last modified" here; meetings after it are still to come
ANCHOR = datetime(2026, 10, 30, 18, 0, tzinfo=BERLIN)
SPAN_START = date(2025, 1, 13)
SPAN_END = date(2027, 1, 29)
DEMO_WEB = "demo-ratsinfo"  # every object's web address has this path segment
DEFAULT_PAPERS = 150  # per city in the local demo (and about half as many meetings)
CITY_NAMES = tuple(words.CITIES)


@dataclass
class Document:
    """What a File's bytes say; rendered on first request by ``documents.render``."""

    kind: str  # pdf | scan | docx | odt
    title: str
    lines: list[str]  # header lines (authority, reference, date)
    sections: list[tuple[str, str]]  # (heading, text)
    modified: datetime

    def version(self) -> str:
        import hashlib

        text = repr((self.kind, self.title, self.lines, self.sections, self.modified))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class System:
    """One generated OParl system: objects by id, the external lists, the files' contents."""

    city: str
    vendor: str  # sessionnet | allris
    system_url: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)  # list URL → object ids
    documents: dict[str, Document] = field(default_factory=dict)  # accessUrl → content
    file_modified: dict[str, datetime] = field(default_factory=dict)  # accessUrl → modified

    @property
    def oparl_version(self) -> str:
        return "1.0" if self.vendor == "allris" else "1.1"

    def count(self, kind: str) -> int:
        return sum(1 for o in self.objects.values() if _short(o) == kind and not o.get("deleted"))


def _short(obj: dict[str, Any]) -> str:
    last = obj["type"].rsplit("/", 1)[-1]
    return last[0].lower() + last[1:]


def stamp(moment: datetime) -> str:
    """OParl's date-time: local time with offset, no microseconds."""
    return moment.astimezone(BERLIN).replace(microsecond=0).isoformat()


class _Layout:
    """Where a vendor puts its objects: SessionNet paths or ALLRIS ``.asp?id=`` queries."""

    LISTS_10 = ("organization", "person", "meeting", "paper")
    PLURAL = {
        "organization": "organizations",
        "person": "persons",
        "meeting": "meetings",
        "paper": "papers",
        "membership": "memberships",
        "agendaItem": "agendaitems",
        "consultation": "consultations",
        "file": "files",
        "location": "locations",
        "legislativeTerm": "legislativeterms",
    }

    def __init__(self, city: str, vendor: str):
        self.city, self.vendor = city, vendor
        root = "{base}/oparl/" + city
        self.files_root = root + "/bi"
        self.web_root = "{base}/" + DEMO_WEB + "/" + city + "/bi"
        if vendor == "allris":
            self.api = root + "/bi/oparl/1.0"
            self.system = self.api + "/system.asp"
            self.bodies = self.api + "/bodies.asp"
            self.body = self.api + "/bodies.asp?id=1"
        else:
            self.api = root + "/bi/oparl/1.1"
            self.system = self.api + "/system"
            self.bodies = self.api + "/bodies"
            self.body = self.api + "/bodies/0001"

    def type_uri(self, kind: str) -> str:
        version = "1.0" if self.vendor == "allris" else "1.1"
        return f"https://schema.oparl.org/{version}/{kind[0].upper()}{kind[1:]}"

    def list_url(self, kind: str) -> str:
        if self.vendor == "allris":
            return f"{self.api}/{self.PLURAL[kind]}.asp?body=1"
        return f"{self.body}/{self.PLURAL[kind]}"

    def object_url(self, kind: str, number: int) -> str:
        if self.vendor == "allris":
            return f"{self.api}/{self.PLURAL[kind]}.asp?id={number}"
        return f"{self.body}/{self.PLURAL[kind]}/{number}"

    def access_url(self, number: int) -> str:
        if self.vendor == "allris":
            return f"{self.files_root}/do.asp?DOLFDNR={number}"
        return f"{self.files_root}/getfile.asp?id={number}&type=do"

    def web(self, kind: str, number: int) -> str:
        pages = {  # the products' own page names, under the demo path
            "sessionnet": {
                "paper": "vo0050.asp?__kvonr=",
                "meeting": "si0057.asp?__ksinr=",
                "person": "kp0050.asp?__kpenr=",
                "organization": "au0050.asp?__kagrnr=",
                "agendaItem": "to0050.asp?__ktonr=",
            },
            "allris": {
                "paper": "vo020.asp?VOLFDNR=",
                "meeting": "to010.asp?SILFDNR=",
                "person": "kp020.asp?KPLFDNR=",
                "organization": "au020.asp?AULFDNR=",
                "agendaItem": "to020.asp?TOLFDNR=",
            },
        }[self.vendor]
        page = pages.get(kind, f"{self.PLURAL.get(kind, kind.lower())}.asp?id=")
        return f"{self.web_root}/{page}{number}"


class _Builder:
    def __init__(self, city: str, papers: int, seed: int):
        self.city = city
        self.info = words.CITIES[city]
        self.rng = random.Random(f"{seed}:{city}")
        self.papers_wanted = papers
        self.layout = _Layout(city, self.info["vendor"])
        self.allris = self.info["vendor"] == "allris"
        self.system = System(city, self.info["vendor"], self.layout.system)
        self.numbers: dict[str, int] = {}
        self.by_type: dict[str, list[str]] = {}
        self.per_year: dict[int, int] = {}

    # ---- objects -------------------------------------------------------------------------
    def new(self, kind: str, created: datetime, modified: datetime | None = None, **fields):
        start = _FIRST_NUMBER.get(kind, 1)
        number = self.numbers[kind] = self.numbers.get(kind, start) + 1
        obj: dict[str, Any] = {
            "id": self.layout.object_url(kind, number),
            "type": self.layout.type_uri(kind),
        }
        obj.update(fields)
        obj["web"] = self.layout.web(kind, number)
        obj["created"] = stamp(created)
        obj["modified"] = stamp(max(modified or created, created))
        self.system.objects[obj["id"]] = obj
        self.by_type.setdefault(kind, []).append(obj["id"])
        return obj

    def slots(self, year: int | None = None) -> dict[str, Any]:
        rng, info = self.rng, self.info
        year = year or rng.choice([2024, 2025, 2026])
        streets = rng.sample(info["streets"], 2)
        values = {
            "street": streets[0],
            "street2": streets[1],
            "district": rng.choice(info["districts"]),
            "year": year,
            "last_year": year - 1,
            "stage": rng.randrange(1, 5),
            "next_year": year + 1,
            "city": info["title"],
            "amount": f"{rng.randrange(40, 9000) * 1000:,}".replace(",", "."),
            "amount2": f"{rng.randrange(5, 800) * 1000:,}".replace(",", "."),
            "count": rng.randrange(2, 40),
            "percent": rng.randrange(5, 90),
            "date": f"{rng.randrange(1, 28)}.{rng.randrange(1, 13)}.{year}",
            "month": rng.choice(words.MONTHS),
            "school": rng.choice(info["schools"]),
            "kita": f"Kita {rng.choice(['Sonnenschein', 'Regenbogen', 'Pusteblume', 'Arche'])}"
            f" in {rng.choice(info['districts'])}",
            "line": rng.choice(info["line"]),
            "committee": rng.choice(words.COMMITTEES)[0],
            "fraction": rng.choice(words.FRACTIONS)[1],
            "plan": self.plan_name(),
        }
        return values

    def plan_name(self) -> str:
        letter = self.rng.choice("ABFGHMNOW")
        return self.info["plan"].format(letter=letter, number=self.rng.randrange(12, 420))

    def when(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)

    # ---- structure -----------------------------------------------------------------------
    def build(self) -> System:
        lay, info = self.layout, self.info
        founded = self.when(date(2024, 7, 1), 9)
        self.terms = [
            self.new(
                "legislativeTerm",
                founded,
                body=lay.body,
                name="Wahlperiode 2019–2024",
                startDate="2019-07-01",
                endDate="2024-06-30",
            ),
            self.new(
                "legislativeTerm",
                founded,
                body=lay.body,
                name="Wahlperiode 2024–2029",
                startDate="2024-07-01",
                endDate="2029-06-30",
            ),
        ]
        self.organizations()
        self.persons()
        self.meetings()
        last = (ANCHOR.date() - timedelta(days=3) - SPAN_START).days
        days = sorted(
            SPAN_START + timedelta(days=self.rng.randrange(last)) for _ in range(self.papers_wanted)
        )
        for day in days:
            self.paper(day)
        self.agendas()
        body_fields = self.body_object(founded)
        system = {
            "id": lay.system,
            "type": lay.type_uri("system"),
            "oparlVersion": f"https://schema.oparl.org/{self.system.oparl_version}/",
            "name": f"Demo-Ratsinformationssystem {info['title']} (erfundene Daten)",
            "body": lay.bodies,
            "contactName": "Vier Städte Open Data (Demo)",
            "website": "{base}/" + DEMO_WEB + "/" + self.city + "/bi/",
            "vendor": "http://cc-egov.de/" if self.allris else "https://www.somacos.de/",
            "product": "http://cc-egov.de/produkte/allris"
            if self.allris
            else "https://www.somacos.de/loesungen/sitzungsmanagement/session/",
            "keyword": ["demo"],
            "web": "{base}/" + DEMO_WEB + "/" + self.city + "/bi/",
            "created": stamp(founded),
            "modified": stamp(founded),
        }
        self.system.objects[system["id"]] = system
        self.system.objects[body_fields["id"]] = body_fields
        self.system.lists[lay.bodies] = [body_fields["id"]]
        return self.system

    def body_object(self, founded: datetime) -> dict[str, Any]:
        lay, info = self.layout, self.info
        name, street, postcode, lon, lat = info["townhall"]
        body: dict[str, Any] = {
            "id": lay.body,
            "type": lay.type_uri("body"),
            "system": lay.system,
            "name": f"Stadt {info['title']} (Demo)",
            "shortName": info["title"],
            "website": "{base}/" + DEMO_WEB + "/" + self.city + "/",
            "organization": lay.list_url("organization"),
            "person": lay.list_url("person"),
            "meeting": lay.list_url("meeting"),
            "paper": lay.list_url("paper"),
            "legislativeTerm": self.terms,
            "classification": "Stadt",
            "keyword": ["demo"],
        }
        if not self.allris:  # the lists OParl 1.1 added
            body.update(
                {
                    "legislativeTermList": lay.list_url("legislativeTerm"),
                    "agendaItem": lay.list_url("agendaItem"),
                    "consultation": lay.list_url("consultation"),
                    "file": lay.list_url("file"),
                    "locationList": lay.list_url("location"),
                    "membership": lay.list_url("membership"),
                }
            )
        body["location"] = self.location(name, street, postcode, lon, lat, founded)
        body["web"] = "{base}/" + DEMO_WEB + "/" + self.city + "/bi/"
        body["created"] = stamp(founded)
        body["modified"] = stamp(founded)
        return body

    def location(self, description, street, postcode, lon, lat, created) -> dict[str, Any]:
        return self.new(
            "location",
            created,
            description=description,
            streetAddress=street,
            postalCode=postcode,
            locality=self.info["title"],
            geojson={
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
                "properties": {"name": description},
            },
        )

    def organizations(self) -> None:
        rng, lay, info = self.rng, self.layout, self.info
        founded = self.when(date(2024, 7, 1), 9)
        self.committee_for: dict[str, list[dict]] = {}
        self.council = self.new(
            "organization",
            founded,
            body=lay.body,
            name=words.COUNCIL[0],
            shortName=words.COUNCIL[1],
            organizationType="Gremium",
            classification="Stadtrat",
            startDate="2024-07-01",
        )
        self.committees = []
        for name, short, topics in words.COMMITTEES:
            org = self.new(
                "organization",
                founded,
                body=lay.body,
                name=name,
                shortName=short,
                organizationType="Gremium",
                classification="Ausschuss",
                startDate="2024-07-01",
            )
            self.committees.append(org)
            for topic in topics:
                self.committee_for.setdefault(topic, []).append(org)
        self.ortsbeirat: dict[str, dict] = {}
        for district in rng.sample(info["districts"], 6):
            self.ortsbeirat[district] = self.new(
                "organization",
                founded,
                body=lay.body,
                name=info["ortsbeirat"].format(district=district),
                shortName=f"OBR {district}",
                organizationType="Gremium",
                classification="Ortsbeirat",
                startDate="2024-07-01",
            )
        self.fractions = [
            self.new(
                "organization",
                founded,
                body=lay.body,
                name=name,
                shortName=short,
                organizationType="Fraktion",
                classification="Fraktion",
                startDate="2024-07-01",
            )
            for name, short in words.FRACTIONS[: rng.randrange(6, 9)]
        ]
        self.departments = [
            self.new(
                "organization",
                founded,
                body=lay.body,
                name=name,
                organizationType="Verwaltungsbereich",
                classification="Dezernat",
            )
            for name in words.DEPARTMENTS
        ]

    def persons(self) -> None:
        rng, lay = self.rng, self.layout
        founded = self.when(date(2024, 7, 1), 9)
        self.members: dict[str, list[dict]] = {}  # fraction id → persons
        org_members: dict[str, list[str]] = {}
        used = set()
        for index in range(48):
            given, gender = rng.choice(words.GIVEN)
            family = rng.choice(words.FAMILY)
            while (given, family) in used:
                family = rng.choice(words.FAMILY)
            used.add((given, family))
            title = rng.choice(words.TITLES)
            fraction = self.fractions[min(index % 11, len(self.fractions) - 1)]
            person = self.new(
                "person",
                founded,
                body=lay.body,
                name=f"{title}{given} {family}",
                familyName=family,
                givenName=given,
                title=[title.strip()] if title else [],
                formOfAddress="Frau" if gender == "female" else "Herr",
                gender=gender,
                status=["Ratsmitglied"],
            )
            self.members.setdefault(fraction["id"], []).append(person)
            organs = [(self.council, "Mitglied"), (fraction, rng.choice(words.ROLES_MEMBER))]
            organs += [
                (c, rng.choice(words.ROLES_MEMBER))
                for c in rng.sample(self.committees, rng.randrange(1, 4))
            ]
            if rng.random() < 0.3:
                organs.append((rng.choice(list(self.ortsbeirat.values())), "Mitglied"))
            memberships = []
            for org, role in organs:
                fields: dict[str, Any] = {
                    "person": person["id"],
                    "organization": org["id"],
                    "role": role,
                    "votingRight": True,
                    "startDate": "2024-07-01",
                }
                if org is not fraction:
                    fields["onBehalfOf"] = fraction["id"]
                memberships.append(self.new("membership", founded, **fields))
                org_members.setdefault(org["id"], []).append(memberships[-1]["id"])
            if rng.random() < 0.25:  # also sat in the previous council
                memberships.append(
                    self.new(
                        "membership",
                        founded,
                        person=person["id"],
                        organization=self.council["id"],
                        role="Mitglied",
                        votingRight=True,
                        startDate="2019-07-01",
                        endDate="2024-06-30",
                    )
                )
                org_members[self.council["id"]].append(memberships[-1]["id"])
            person["membership"] = memberships
        for org_id in self.by_type["organization"]:
            org = self.system.objects[org_id]
            if org_id in org_members:
                org["membership"] = org_members[org_id]

    def meetings(self) -> None:
        rng = self.rng
        total = max(24, self.papers_wanted // 2)
        bodies = [(self.council, 3.0)] + [(c, 1.6) for c in self.committees]
        bodies += [(o, 0.7) for o in self.ortsbeirat.values()]
        weight = sum(w for _, w in bodies)
        span = (SPAN_END - SPAN_START).days
        self.schedule: dict[str, list[dict]] = {}
        hall = self.info["townhall"]
        self.hall = self.location(
            hall[0], hall[1], hall[2], hall[3], hall[4], self.when(date(2024, 7, 1), 9)
        )
        for org, w in bodies:
            count = max(2, round(total * w / weight))
            for n in range(count):
                day = SPAN_START + timedelta(days=round(span * (n + rng.random() * 0.5) / count))
                if n == count - 1:  # every body has a meeting still to come
                    ahead = (SPAN_END - ANCHOR.date()).days
                    day = ANCHOR.date() + timedelta(days=rng.randrange(5, ahead))
                day -= timedelta(days=max(0, day.weekday() - 4))  # a weekday
                start = self.when(day, rng.choice([15, 16, 17, 18]))
                meeting = self.new(
                    "meeting",
                    min(start - timedelta(days=21), ANCHOR),
                    name=f"{n + 1}. Sitzung – {org['name']}",
                    start=stamp(start),
                    end=stamp(start + timedelta(hours=3)),
                    organization=[org["id"]],
                    cancelled=False,
                    meetingState="durchgeführt" if start < ANCHOR else "eingeladen",
                )
                if org["classification"] == "Ortsbeirat":
                    district = org["shortName"][4:]
                    meeting["location"] = self.location(
                        f"Ortsverwaltung {district}",
                        rng.choice(self.info["streets"]) + f" {rng.randrange(1, 80)}",
                        self.info["postcode"],
                        hall[3] + rng.uniform(-0.04, 0.04),
                        hall[4] + rng.uniform(-0.03, 0.03),
                        min(start - timedelta(days=21), ANCHOR),
                    )
                else:
                    meeting["location"] = self.hall
                meeting["agendaItem"] = []
                self.schedule.setdefault(org["id"], []).append(meeting)
        self.starts: dict[str, list[datetime]] = {}
        for org_id, meetings in self.schedule.items():
            meetings.sort(key=lambda m: m["start"])
            self.starts[org_id] = [datetime.fromisoformat(m["start"]) for m in meetings]

    def next_meeting(self, org: dict, after: datetime) -> dict | None:
        meetings = self.schedule.get(org["id"], [])
        index = bisect.bisect_left(self.starts[org["id"]], after)
        return meetings[index] if index < len(meetings) else None

    # ---- papers --------------------------------------------------------------------------
    def paper(
        self,
        day: date,
        kind: str | None = None,
        created: datetime | None = None,
        consult: bool = True,
    ) -> dict:
        rng, lay = self.rng, self.layout
        kind = (
            kind
            or rng.choices(
                ["Beschlussvorlage", "Antrag", "Anfrage", "Mitteilung"], [40, 25, 20, 15]
            )[0]
        )
        topic = rng.choices(
            list(words.TITLES_BY_TOPIC),
            [
                5 if t in ("bebauungsplan", "haushalt", "kita", "rad", "klima") else 2
                for t in words.TITLES_BY_TOPIC
            ],
        )[0]
        slots = self.slots(year=day.year if rng.random() < 0.7 else None)
        slots["topic"] = words.PHRASES[topic].format(**slots)
        title = rng.choice(words.TITLES_BY_TOPIC[topic][kind]).format(**slots)
        fraction = rng.choice(self.fractions)
        if kind in ("Antrag", "Anfrage"):
            title = f"{kind} der {fraction['name']}: {title}" if rng.random() < 0.5 else title
        created = created or self.when(day, rng.randrange(8, 16), rng.randrange(60))
        modified = min(created + timedelta(days=rng.choice([0, 0, 1, 3, 12])), ANCHOR)
        number = self.per_year[day.year] = self.per_year.get(day.year, 0) + 1
        reference = self.info["reference"].format(
            number=number,
            year=day.year,
            prefix={"Beschlussvorlage": "BV", "Antrag": "AT", "Anfrage": "AF", "Mitteilung": "UV"}[
                kind
            ],
        )
        if self.allris and rng.random() < 0.12:  # text pasted from a word processor
            title = title.replace(" ", "\t", 1) if rng.random() < 0.5 else title + "\x0b"
        paper = self.new(
            "paper",
            created,
            modified,
            body=lay.body,
            name=title,
            reference=reference,
            date=day.isoformat(),
            paperType=kind,
        )
        if kind in ("Antrag", "Anfrage"):
            paper["originatorOrganization"] = [fraction["id"]]
            authors = self.members.get(fraction["id"]) or []
            if authors:
                paper["originatorPerson"] = [
                    p["id"] for p in rng.sample(authors, min(len(authors), rng.randrange(1, 3)))
                ]
        else:
            department = self.departments[words.TOPIC_DEPARTMENT[topic]]
            paper["underDirectionOf"] = [department["id"]]
            paper["originatorOrganization"] = [department["id"]]
        if topic in ("bebauungsplan", "rad", "strasse", "gruen") and rng.random() < 0.8:
            _, _, postcode, lon, lat = self.info["townhall"]
            paper["location"] = [
                self.location(
                    f"{slots['street']}, {postcode} {self.info['title']}",
                    slots["street"],
                    postcode,
                    lon + rng.uniform(-0.05, 0.05),
                    lat + rng.uniform(-0.03, 0.03),
                    created,
                )
            ]
        paper["_topic"], paper["_slots"], paper["_day"] = topic, slots, day
        if consult:
            self.consultations(paper, kind, topic, slots, created)
        self.paper_files(paper, kind, slots, created)
        return paper

    def consultations(self, paper, kind, topic, slots, created) -> None:
        rng = self.rng
        steps: list[tuple[dict, str, bool]] = []
        district_board = self.ortsbeirat.get(slots["district"])
        committee = rng.choice(self.committee_for[topic])
        if kind == "Beschlussvorlage":
            if district_board is not None and rng.random() < 0.7:
                steps.append((district_board, "Anhörung", False))
            if rng.random() < 0.3:
                steps.append((committee, "Entscheidung", True))
            else:
                steps += [(committee, "Vorberatung", False), (self.council, "Entscheidung", True)]
        elif kind == "Antrag":
            board = district_board if district_board is not None and rng.random() < 0.3 else None
            steps.append((board or self.council, "Entscheidung", True))
        elif kind == "Anfrage":
            if rng.random() < 0.6:
                steps.append((rng.choice([committee, self.council]), "Beantwortung", False))
        else:
            steps.append((committee, "Kenntnisnahme", False))
        paper["consultation"] = []
        after = created + timedelta(days=7)
        for org, role, authoritative in steps:
            meeting = self.next_meeting(org, after)
            fields: dict[str, Any] = {
                "paper": paper["id"],
                "organization": [org["id"]],
                "role": role,
                "authoritative": authoritative,
            }
            moment = created
            if meeting is not None:
                fields["meeting"] = meeting["id"]
                moment = datetime.fromisoformat(meeting["start"])
                after = moment + timedelta(days=7)
            modified = min(max(moment, created), ANCHOR)
            consultation = self.new("consultation", created, modified, **fields)
            paper["consultation"].append(consultation)
            if meeting is not None:
                meeting["agendaItem"].append(consultation)  # turned into items in agendas()
        if not paper["consultation"]:
            del paper["consultation"]

    def file(self, name: str, kind: str, doc: Document, created: datetime, **back) -> dict:
        extension = {"pdf": "pdf", "scan": "pdf", "docx": "docx", "odt": "odt"}[kind]
        mime = {
            "pdf": "application/pdf",
            "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "odt": "application/vnd.oasis.opendocument.text",
        }[extension]
        number = self.numbers.get("file", 50000) + 1
        access = self.layout.access_url(number)
        slug = "".join(c if c.isalnum() else "_" for c in name.lower())[:40].strip("_")
        obj = self.new(
            "file",
            created,
            doc.modified,
            name=name,
            fileName=f"{slug}.{extension}",
            mimeType=extension if self.allris else mime,
            date=created.date().isoformat(),
            accessUrl=access,
            downloadUrl=access + "&download=1" if not self.allris else access,
        )
        if not self.allris:  # 1.1's back references
            obj.update({k: [v] for k, v in back.items()})
        self.system.documents[access] = doc
        return obj

    def paper_text(self, paper, kind, slots) -> list[tuple[str, str]]:
        rng = self.rng

        def say(section: str, low: int, high: int) -> str:
            chosen = rng.sample(words.SENTENCES[section], rng.randrange(low, high))
            return " ".join(s.format(**slots) for s in chosen)

        sections: list[tuple[str, str]] = []
        if kind == "Anfrage":
            sections.append(("Sachverhalt", say("Sachverhalt", 1, 3)))
            sections.append(("Fragen", say("Fragen", 2, 5)))
        else:
            decisions = words.DECISIONS.get(kind)
            if decisions:
                label = "Beschlussvorschlag" if kind == "Beschlussvorlage" else "Antrag"
                sections.append((label, rng.choice(decisions).format(**slots)))
            sections.append(("Sachverhalt", say("Sachverhalt", 2, 5)))
            sections.append(("Begründung", say("Begründung", 1, 4)))
            if kind == "Beschlussvorlage":
                sections.append(("Finanzielle Auswirkungen", say("Finanzielle Auswirkungen", 1, 3)))
        return sections

    def paper_files(self, paper, kind, slots, created) -> None:
        rng = self.rng
        head = [
            f"Stadt {self.info['title']} (Demo, erfundene Daten)",
            f"Drucksache {paper['reference']} vom {paper['_day'].strftime('%d.%m.%Y')}",
            kind,
        ]
        doc = Document(
            "pdf",
            paper["name"].replace("\t", " ").replace("\x0b", ""),
            head,
            self.paper_text(paper, kind, slots),
            created,
        )
        paper["mainFile"] = self.file(
            f"{kind} {paper['reference']}", "pdf", doc, created, paper=paper["id"]
        )
        extras = []
        if kind == "Anfrage" and rng.random() < 0.7:
            answer = " ".join(
                s.format(**slots)
                for s in rng.sample(words.SENTENCES["Antwort"], rng.randrange(2, 4))
            )
            extras.append(("Antwort der Verwaltung", "pdf", [("Antwort", answer)]))
        if paper["_topic"] == "bebauungsplan" and rng.random() < 0.5:
            extras.append(
                (
                    "Anlage 1 – Begründung zum Bebauungsplan",
                    "pdf",
                    [
                        (
                            "Ziele der Planung",
                            f"Das Plangebiet an der {slots['street']} in "
                            f"{slots['district']} umfasst rund {slots['count']} Hektar.",
                        ),
                        ("Umweltbericht", "Erhebliche Umweltauswirkungen sind nicht zu erwarten."),
                    ],
                )
            )
        roll = rng.random()
        if roll < 0.05:
            extras.append(
                (
                    f"Stellungnahme Ortsbeirat {slots['district']}",
                    "docx",
                    [
                        (
                            "Stellungnahme",
                            f"Der Ortsbeirat {slots['district']} begrüßt die Vorlage und "
                            f"bittet, die Anwohnerinnen und Anwohner der {slots['street']} zu beteiligen.",
                        )
                    ],
                )
            )
        elif roll < 0.10:
            extras.append(
                (
                    "Kostenaufstellung",
                    "odt",
                    [
                        (
                            "Kosten",
                            f"Baukosten {slots['amount']} Euro; Planungskosten {slots['amount2']}"
                            f" Euro; Förderung {slots['percent']} Prozent.",
                        )
                    ],
                )
            )
        elif roll < 0.12 or (kind == "Antrag" and not self.numbers.get("_scan")):
            self.numbers["_scan"] = 1
            extras.append(
                (
                    "Unterschriftenliste (Scan)",
                    "scan",
                    [("Scan", "Eingescannte Unterschriften; dieses Dokument hat keine Textebene.")],
                )
            )
        files = []
        for name, kind_, sections in extras:
            files.append(
                self.file(
                    name,
                    kind_,
                    Document(kind_, name, head, sections, created),
                    created,
                    paper=paper["id"],
                )
            )
        if files:
            paper["auxiliaryFile"] = files[0] if self.allris and len(files) == 1 else files

    # ---- agendas -------------------------------------------------------------------------
    def agendas(self) -> None:
        rng = self.rng
        for meetings in self.schedule.values():
            for meeting in meetings:
                consultations = meeting.pop("agendaItem")
                start = datetime.fromisoformat(meeting["start"])
                past = start < ANCHOR
                meeting["modified"] = (
                    stamp(min(start + timedelta(days=2), ANCHOR)) if past else meeting["created"]
                )
                opened = [
                    ("Eröffnung der Sitzung und Feststellung der Beschlussfähigkeit", None),
                    ("Genehmigung der Niederschrift der letzten Sitzung", None),
                ]
                closing = [("Mitteilungen der Verwaltung", None), ("Verschiedenes", None)]
                items = (
                    opened
                    + [(self.system.objects[c["paper"]]["name"], c) for c in consultations]
                    + closing
                )
                created = datetime.fromisoformat(meeting["created"])
                agenda = []
                for order, (name, consultation) in enumerate(items, start=1):
                    fields: dict[str, Any] = {
                        "meeting": meeting["id"],
                        "number": f"Ö {order}",
                        "name": name,
                        "public": True,
                    }
                    if not self.allris:
                        fields["order"] = order
                    if consultation is not None:
                        fields["consultation"] = consultation["id"]
                        if past:
                            paper = self.system.objects[consultation["paper"]]
                            result = self.result(paper["paperType"], consultation["role"])
                            fields["result"] = result
                            if "beschlossen" in result:
                                text = words.DECISIONS.get(paper["paperType"], [None])[0]
                                if text:
                                    text = text.format(**paper["_slots"])
                                    if self.allris and rng.random() < 0.3:
                                        text = text.replace(". ", ".\r\n", 1) + "\r\n"
                                    fields["resolutionText"] = text
                    item = self.new(
                        "agendaItem", created, datetime.fromisoformat(meeting["modified"]), **fields
                    )
                    if consultation is not None:
                        consultation["agendaItem"] = item["id"]
                    agenda.append(item)
                if rng.random() < 0.3:
                    agenda.append(
                        self.new(
                            "agendaItem",
                            created,
                            datetime.fromisoformat(meeting["modified"]),
                            meeting=meeting["id"],
                            number="N 1",
                            name="Grundstücksangelegenheit",
                            public=False,
                            **({} if self.allris else {"order": len(agenda) + 1}),
                        )
                    )
                meeting["agendaItem"] = agenda
                self.meeting_files(meeting, agenda, past, created)

    def result(self, paper_type: str, role: str) -> str:
        if paper_type == "Mitteilung" or role in ("Kenntnisnahme", "Beantwortung"):
            return "zur Kenntnis genommen"
        if role == "Anhörung":
            return self.rng.choice(["befürwortet", "einstimmig befürwortet", "abgelehnt"])
        names, weights = zip(*words.RESULTS, strict=True)
        return self.rng.choices(names, weights)[0]

    def meeting_files(self, meeting, agenda, past, created) -> None:
        head = [
            f"Stadt {self.info['title']} (Demo, erfundene Daten)",
            meeting["name"],
            f"Beginn: {datetime.fromisoformat(meeting['start']).strftime('%d.%m.%Y %H:%M')}",
        ]
        # one file a meeting keeps the demo harvest short: the invitation until the meeting, then
        # the minutes (a real system keeps both)
        if not past:
            listing = "\n".join(f"{i['number']} {i['name']}" for i in agenda if i["public"])
            invitation = Document(
                "pdf", f"Einladung: {meeting['name']}", head, [("Tagesordnung", listing)], created
            )
            meeting["invitation"] = self.file(
                "Einladung", "pdf", invitation, created, meeting=meeting["id"]
            )
        else:
            done = datetime.fromisoformat(meeting["modified"])
            results = "\n".join(
                f"{i['number']} {i['name']}: {i['result']}" for i in agenda if i.get("result")
            )
            protocol = Document(
                "pdf",
                f"Niederschrift: {meeting['name']}",
                head,
                [("Ergebnisse", results or "Keine Beschlüsse.")],
                done,
            )
            meeting["resultsProtocol"] = self.file(
                "Niederschrift", "pdf", protocol, done, meeting=meeting["id"]
            )

    # ---- epochs --------------------------------------------------------------------------
    def epoch(self, number: int, moment: datetime) -> None:
        """The system one change later: revised, deleted and new papers, a cancelled meeting."""
        rng = random.Random(f"{self.city}:epoch:{number}")
        objects = self.system.objects
        live = [objects[i] for i in self.by_type["paper"] if not objects[i].get("deleted")]
        # withdrawn papers: none on an agenda yet, so no meeting loses an item
        loose = [p for p in live if not any("agendaItem" in c for c in p.get("consultation", []))]
        withdrawn = rng.sample(loose, min(2, len(loose)))
        kept = [p for p in live if all(p is not w for w in withdrawn)]
        for paper in rng.sample(kept, min(3, len(kept))):
            if not paper["name"].endswith("(Neufassung)"):
                paper["name"] += " (Neufassung)"
            paper["modified"] = stamp(moment)
            main = paper["mainFile"]
            old = self.system.documents[main["accessUrl"]]
            self.system.documents[main["accessUrl"]] = Document(
                old.kind,
                paper["name"],
                old.lines,
                old.sections
                + [
                    (
                        "Neufassung",
                        f"Neufassung vom {moment.strftime('%d.%m.%Y')}: Die Vorlage "
                        "wurde nach der Beratung im Ausschuss ergänzt.",
                    )
                ],
                moment,
            )
            main["modified"] = stamp(moment)
        for paper in withdrawn:
            for file_ in [paper["mainFile"]] + _as_list(paper.get("auxiliaryFile")):
                objects[file_["id"]] = self.deleted(file_, moment)
            for consultation in paper.get("consultation", []):
                objects[consultation["id"]] = self.deleted(consultation, moment)
            objects[paper["id"]] = self.deleted(paper, moment)
        day = moment.date()
        for _ in range(2):
            self.paper(day=day, kind="Antrag", created=moment, consult=False)
        future = [
            m
            for ms in self.schedule.values()
            for m in ms
            if m["start"] > stamp(moment) and not m["cancelled"]
        ]
        if future:
            meeting = rng.choice(future)
            meeting.update(cancelled=True, meetingState="abgesagt", modified=stamp(moment))

    def deleted(self, obj: dict, moment: datetime) -> dict:
        return {
            "id": obj["id"],
            "type": obj["type"],
            "created": obj["created"],
            "modified": stamp(moment),
            "deleted": True,
        }

    def finish(self) -> System:
        lay, system = self.layout, self.system
        kinds = _Layout.LISTS_10 if self.allris else tuple(_Layout.PLURAL)
        for kind in kinds:
            system.lists[lay.list_url(kind)] = list(self.by_type.get(kind, []))
        for obj in system.objects.values():
            for key in ("_topic", "_slots", "_day"):
                obj.pop(key, None)
        for access, doc in system.documents.items():
            system.file_modified[access] = doc.modified
        return system


_FIRST_NUMBER = {
    "paper": 10000,
    "file": 50000,
    "meeting": 3000,
    "agendaItem": 70000,
    "consultation": 90000,
    "person": 100,
    "organization": 10,
}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def generate(
    city: str,
    papers: int = DEFAULT_PAPERS,
    epoch: int = 0,
    epoch_times: list[datetime] | None = None,
    seed: int = SEED,
) -> System:
    """The demo OParl system of ``city`` (a member city's name) with ``papers`` papers.

    ``epoch`` > 0 applies that many rounds of changes, stamped with ``epoch_times`` (one per
    round; by default a day after the anchor each). Deterministic for equal arguments.
    """
    if city not in words.CITIES:
        raise ValueError(f"no demo council for {city!r}; known: {', '.join(words.CITIES)}")
    builder = _Builder(city, papers, seed)
    builder.build()
    times = list(epoch_times or [])
    for number in range(1, epoch + 1):
        moment = times[number - 1] if number <= len(times) else ANCHOR + timedelta(days=number)
        builder.epoch(number, moment.replace(microsecond=0))
    return builder.finish()
