"""The CKAN reader over real records: only datasets are listed, old OGD layouts are read whole.

The records are real (``fixtures/real/``, provenance in its SOURCES.md): a GovData listing of
harvest sources, a GovData record harvested from daten.rlp.de (OGD schema, extras as JSON
strings) and the OGD schema's own example (dict ``extras``, plain-string tags). Where a test
changes a real record, it says which field and why; every expected value was read from the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from vierstaedte_harvest import metadata
from vierstaedte_harvest.sources import SourceDataset, ckan, read

REAL = Path(__file__).parent / "fixtures" / "real"
FREQ = "http://publications.europa.eu/resource/authority/frequency/"
GEO = "http://dcat-ap.de/def/politicalGeocoding/"
TYPES = "+dataset_type:(dataset OR datensatz)"


def real(name: str) -> dict:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def govdata_record() -> dict:
    """GovData's package_show of an LGB record harvested from daten.rlp.de (type datensatz)."""
    return real("ckan_govdata_package_show_harvested_from_daten-rlp.json")["result"]


def ogd_example() -> dict:
    """The OGD schema's example record; it has no id (it is a record to post), so one is added."""
    return dict(real("ckan_ogd_1.0_beispiel1.json"), id="ogd-beispiel-1")


def harvest_sources() -> list[dict]:
    """The 10 ``type: harvest`` records of a real GovData package_search answer."""
    return real("ckan_govdata_package_search_harvest_sources.json")["result"]["results"]


def showcase() -> dict:
    """A showcase as ckanext-showcase stores it (a package of type showcase, no resources)."""
    return {
        "id": "5e0f3c1a-7a43-4a3e-9f1e-3c5d2b1a0c9e",
        "name": "stadtplan-app",
        "title": "Stadtplan-App",
        "type": "showcase",
        "notes": "Eine App, die den Stadtplan nutzt.",
        "url": "https://example.org/app",
        "num_resources": 0,
        "resources": [],
        "extras": [{"key": "image_url", "value": "app.png"}],
    }


def read_one(package: dict) -> SourceDataset:
    found = ckan._record(package, "https://daten.example.org", "daten.example.org")
    assert isinstance(found, SourceDataset), found
    return found


def publish_dict(source: SourceDataset) -> tuple[dict, list, list]:
    problems: list = []
    defaulted: list = []
    defaults = {"frequency": "ANNUAL", "license": "dl-by-de/2.0", "themes": ["SOCI"]}
    data = metadata.dataset_dict(source, "mainz", defaults, "n", None, problems, defaulted)
    return data, problems, defaulted


# -- 1. only datasets ---------------------------------------------------------------------------


def test_the_query_asks_for_datasets_only_with_every_clause_required(fetcher, replay):
    settings = ckan.Settings(url=f"{replay.base}/ckan", organization="stadt_mainz")
    assert read("ckan", fetcher, settings).complete
    sent = [parse_qs(urlsplit(path).query)["fq"] for _, path in replay.log]
    assert sent == [[f"{TYPES} +(organization:stadt_mainz)"]]
    assert ckan.Settings(url="x", fq="groups:a OR groups:b").filter == (
        f"{TYPES} +(groups:a OR groups:b)"
    )
    assert ckan.Settings(url="x").filter == TYPES
    # a filter that names the type itself is sent as written
    assert ckan.Settings(url="x", fq="dataset_type:datensatz").filter == "dataset_type:datensatz"


def test_a_real_listing_mixing_types_lists_only_the_datasets(fetcher, replay):
    """A portal that ignores the type filter (the replay server does): each record is checked."""
    packages = replay.root / "ckan" / "packages"
    records = [*harvest_sources(), showcase(), govdata_record(), ogd_example()]
    records.append(dict(ogd_example(), id="ogd-app-1", name="beispiel-app", type="app"))
    for n, record in enumerate(records):
        (packages / f"mixed-{n:02d}.json").write_text(json.dumps(record), encoding="utf-8")
    listing = read("ckan", fetcher, ckan.Settings(url=f"{replay.base}/ckan"))
    assert listing.complete and listing.proof == "all 17 of count 17 on 1 page"
    assert sorted(d.name for d in listing.datasets) == [
        "13dfb16a-c4f1-36b4-eda2-01ff5b1b294f",  # type datensatz: the OGD schema's dataset
        "beispiel-datensatz-001",
        "einwohner-ortsbezirke-mainz",
        "stadtplan-mainz-wms",
        "stadtratswahl-2024-mainz",
    ]
    kinds = [(s.kind, s.title) for s in listing.skipped]
    assert kinds.count(("showcase", "Stadtplan-App")) == 1
    assert ("harvest", "Harvester Rheinland-Pfalz") in kinds
    assert [k for k, _ in kinds].count("harvest") == 10 and ("app", records[-1]["title"]) in kinds
    assert len(listing.skipped) == 12


# -- 2. old layouts -----------------------------------------------------------------------------


def test_govdata_record_with_json_encoded_extras():
    source = read_one(govdata_record())
    assert source.license == "cc-nc"  # the id, not license_url creativecommons.org/…/by-nc/2.0/
    assert (source.temporal_start, source.temporal_end) == (
        "2000-01-01 00:00:00",
        "2013-10-25 00:00:00",
    )
    # spatial_reference is a JSON string: {"ags": "03254021", …, "text": "Boeblingen"}
    assert source.political_geocoding == [GEO + "municipalityKey/03254021"]
    # no organisation: OGD's author is the publishing body, maintainer the contact
    assert source.publisher == "Landesamt für Geologie und Bergbau"
    assert source.contact_name == "Landesamt für Geologie und Bergbau"
    assert source.contact_email == "office@lgb-rlp.de"  # maintainer_email is null
    assert source.tags[:3] == ["90-perzentil", "arsen", "blei"] and len(source.tags) == 21
    assert source.notes == [
        (
            "place-unchecked",
            "AGS/ARS 03254021 and place name 'Boeblingen' lie outside the member cities; "
            "whether they agree was not checked",
        )
    ]
    data, problems, defaulted = publish_dict(source)
    assert (data["temporal_start"], data["temporal_end"]) == ("2000-01-01", "2013-10-25")
    assert data["political_geocoding_uri"] == GEO + "municipalityKey/03254021"
    assert data["political_geocoding_level_uri"] == GEO + "Level/municipality"
    assert "license_id" not in {d["field"] for d in defaulted}


def test_ogd_example_with_dict_extras_and_plain_tags():
    source = read_one(ogd_example())
    assert source.tags == ["statistiken", "beispiele", "bundesamt"]
    assert source.license == "dl-de-by-1.0"
    assert source.temporal_start == "2013-02-25T20:56:16"
    assert source.temporal_end == "2013-05-25T00:00:00"
    assert source.political_geocoding == [GEO + "districtKey/12064"]  # "ags": "12064"
    assert source.publisher == "Bundesamt für Beispieldaten"  # author; the one contact is vertrieb
    assert (source.contact_name, source.contact_email) == (
        "Christine Rothstein",
        "christine.rothstein@example.com",
    )
    assert source.landing_page == (
        "http://www.example.com/bundesamt/beispieldaten/beispiel-datensatz-001"
    )
    assert [code for code, _ in source.notes] == ["place-unchecked"]
    assert "'Märkisch Oderland' / 'Märkisch-Oderland 12 0 64'" in source.notes[0][1]
    data, _, _ = publish_dict(source)
    assert data["license_id"] == "http://dcat-ap.de/def/licenses/dl-by-de/1.0"
    assert data["tags"] == [{"name": "statistiken"}, {"name": "beispiele"}, {"name": "bundesamt"}]


def test_ogd_contacts_name_the_publisher_and_the_contact():
    """The OGD schema's roles (OGPD_JSON_Schema.json): veroeffentlichende_stelle publishes,
    ansprechpartner answers questions; the example carries only 'vertrieb', so two are added."""
    record = ogd_example()
    record["extras"]["contacts"] += [
        {
            "role": "veroeffentlichende_stelle",
            "name": "Statistisches Landesamt",
            "url": "https://www.statistik.rlp.de/",
        },
        {"role": "ansprechpartner", "name": "Auskunftsdienst", "email": "info@example.org"},
    ]
    source = read_one(record)
    assert (source.publisher, source.publisher_uri) == (
        "Statistisches Landesamt",
        "https://www.statistik.rlp.de/",
    )
    assert (source.contact_name, source.contact_email) == ("Auskunftsdienst", "info@example.org")
    # the same list as a JSON string, the way an OGD record comes through a CKAN 2.x API
    record["extras"] = [{"key": k, "value": json.dumps(v)} for k, v in record["extras"].items()]
    assert read_one(record).publisher == "Statistisches Landesamt"


def test_licence_id_is_preferred_then_the_url_then_ogd_terms_of_use():
    record = govdata_record()
    assert read_one(record).license == "cc-nc"
    record["license_id"] = ""
    assert read_one(record).license == "http://creativecommons.org/licenses/by-nc/2.0/"
    record["license_url"] = None  # left: extras terms_of_use {"license_id": "cc-nc", …}
    assert read_one(record).license == "cc-nc"


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("frequency", FREQ + "QUARTERLY", FREQ + "QUARTERLY"),
        ("frequency", "MONTHLY", FREQ + "MONTHLY"),
        ("accrual_periodicity", "monatlich", FREQ + "MONTHLY"),
        ("update_frequency", "Jährlich", FREQ + "ANNUAL"),
        ("update_frequency", "halbjährlich", FREQ + "ANNUAL_2"),
        ("frequency", "unregelmäßig", FREQ + "IRREG"),
    ],
)
def test_frequency_in_extras_maps_where_certain(key, value, expected):
    record = ogd_example()
    record["extras"][key] = value
    data, problems, defaulted = publish_dict(read_one(record))
    assert data["frequency"] == expected and problems == []
    assert "frequency" not in {d["field"] for d in defaulted}


@pytest.mark.parametrize("value", ["biannual", "bei Bedarf"])
def test_an_uncertain_frequency_is_named_and_defaulted_not_guessed(value):
    record = ogd_example()
    record["extras"]["update_frequency"] = value
    data, problems, defaulted = publish_dict(read_one(record))
    assert any(value in text for _, text in problems)
    assert data["frequency"] == FREQ + "ANNUAL"  # the config's, and reported as such
    assert {"field": "frequency", "value": FREQ + "ANNUAL", "by": "config"} in defaulted


def test_dcat_ap_de_extras_geocoding_temporal_and_publisher():
    """The extras ckanext-dcatde writes (GovData since 2018) on a CKAN 2.x record."""
    record = govdata_record()
    record["extras"] = [
        {"key": "politicalGeocodingURI", "value": f'["{GEO}regionalKey/073150000000"]'},
        {"key": "politicalGeocodingLevelURI", "value": GEO + "Level/municipality"},
        {"key": "geocodingText", "value": "Mainz"},
        {"key": "temporal_start", "value": "2019-01-01T00:00:00"},
        {"key": "temporal_end", "value": "2019-12-31T00:00:00"},
        {"key": "publisher_name", "value": "Landeshauptstadt Mainz"},
        {"key": "publisher_url", "value": "https://www.mainz.de/"},
    ]
    source = read_one(record)
    assert source.political_geocoding == [GEO + "regionalKey/073150000000"]
    assert source.political_geocoding_level == GEO + "Level/municipality"
    assert (source.temporal_start, source.temporal_end) == (
        "2019-01-01T00:00:00",
        "2019-12-31T00:00:00",
    )
    assert (source.publisher, source.publisher_uri) == (
        "Landeshauptstadt Mainz",
        "https://www.mainz.de/",
    )
    assert source.notes == []  # the regional key is Mainz, and so is the text


def test_unreadable_values_are_noted_not_guessed():
    record = ogd_example()
    record["extras"].update(
        temporal_coverage_from="Frühjahr 2013",
        spatial_reference="{ags: 07315000",
    )
    source = read_one(record)
    assert source.temporal_start is None and source.political_geocoding == []
    assert [code for code, _ in source.notes] == ["unreadable-field", "field-left-out"]
    assert "spatial_reference: not valid JSON" in source.notes[0][1]
    assert "'Frühjahr 2013'" in source.notes[1][1]


# -- 3. AGS against place name ------------------------------------------------------------------


@pytest.mark.parametrize(
    "spatial, expected",
    [
        ({"ags": "07315000", "text": "Mainz"}, []),
        ({"ags": "07315000", "text": "Gonsenheim"}, []),  # an Ortsbezirk of Mainz
        ({"ags": "073150000000", "text": "Landeshauptstadt Mainz"}, []),  # the ARS
        ({"ags": "07", "text": "Trier"}, []),  # the state covers Trier
        (
            {"ags": "07315000", "text": "Trier"},
            ["AGS/ARS 07315000 (Mainz) and place name 'Trier' (Trier) disagree"],
        ),
        (
            {"ags": "07315000", "text": "Boeblingen"},
            ["AGS/ARS 07315000 is Mainz, but place name 'Boeblingen' is neither the city nor"],
        ),
        (
            {"ags": "03254021", "text": "Koblenz"},
            ["AGS/ARS 03254021 (no member city) and place name 'Koblenz' (Koblenz) disagree"],
        ),
    ],
)
def test_ags_and_place_name_that_disagree_keep_the_record_and_are_noted(spatial, expected):
    record = govdata_record()  # its spatial_reference (a JSON string) replaced
    extras = [e for e in record["extras"] if e["key"] != "spatial_reference"]
    record["extras"] = [*extras, {"key": "spatial_reference", "value": json.dumps(spatial)}]
    source = read_one(record)
    assert source.political_geocoding  # the source's key is kept either way
    conflicts = [text for code, text in source.notes if code == "place-conflict"]
    assert len(conflicts) == len(expected)
    for text, start in zip(conflicts, expected, strict=True):
        assert text.startswith(start) and text.endswith("the record is kept as the source says")


def test_a_geocoding_uri_against_geocoding_text():
    record = govdata_record()
    record["extras"] = [
        {"key": "politicalGeocodingURI", "value": GEO + "municipalityKey/07211000"},
        {"key": "geocodingText", "value": "Stadt Mainz"},
    ]
    notes = read_one(record).notes
    assert [code for code, _ in notes] == ["place-conflict"]
    assert notes[0][1].startswith("AGS/ARS 07211000 (Trier) and place name 'Stadt Mainz' (Mainz)")
