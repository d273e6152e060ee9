"""Old CKAN layouts and records that are not datasets, harvested into the live portal.

A city's CKAN (the replay server) serves real records (``tests/harvesters/fixtures/real/``):
the OGD schema's example record, GovData harvest sources. The real command harvests them into
a real CKAN; what the portal then holds is read back through its API.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from ckan.tests.helpers import call_action

from tests.harvesting import SYSADMIN, city_datasets, ok

REAL = Path(__file__).parents[1] / "harvesters" / "fixtures" / "real"
MAINZ = {"name": "stadt_mainz", "title": "Stadt Mainz"}  # the organisation the demo config lists
FREQ = "http://publications.europa.eu/resource/authority/frequency/"
GEO = "http://dcat-ap.de/def/politicalGeocoding/"


def real(name: str) -> dict:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def serve(replay, name: str, record: dict) -> None:
    (replay.root / "ckan" / "packages" / f"{name}.json").write_text(
        json.dumps(record), encoding="utf-8"
    )


@pytest.mark.usefixtures("with_plugins")
class TestCkanLayouts:
    def test_an_ogd_record_is_published_with_its_own_fields(self, harvest, replay):
        # the OGD example as Mainz's portal would list it: an id and Mainz's organisation, an
        # update frequency in its extras (OGD 1.0 had none) and a place whose AGS and name disagree
        record = dict(real("ckan_ogd_1.0_beispiel1.json"), id="ogd-beispiel-1", organization=MAINZ)
        record["extras"].update(
            frequency="monatlich", spatial_reference={"ags": "07315000", "text": "Trier"}
        )
        serve(replay, "ogd-beispiel", record)

        done = ok(harvest("mainz"))

        entry = next(d for d in done["datasets"] if d["source_id"].endswith(":ogd-beispiel-1"))
        assert entry["status"] == "added"
        dataset = call_action("package_show", context=dict(SYSADMIN), id=entry["ckan_name"])
        assert dataset["license_id"] == "http://dcat-ap.de/def/licenses/dl-by-de/1.0"
        assert (dataset["temporal_start"], dataset["temporal_end"]) == ("2013-02-25", "2013-05-25")
        assert dataset["frequency"] == FREQ + "MONTHLY"
        assert dataset["political_geocoding_uri"] == GEO + "municipalityKey/07315000"
        assert sorted(t["name"] for t in dataset["tags"]) == [
            "beispiele",
            "bundesamt",
            "statistiken",
        ]
        # the organisation publishes (as ckanext-dcat reads it); OGD's author only without one
        assert dataset["publisher"][0]["name"] == "Stadt Mainz"
        assert dataset["contact"][0]["email"] == "christine.rothstein@example.com"
        # none of them came from the config, and the place conflict is in the report
        defaulted = {d["field"] for d in entry["defaulted"]}
        assert not defaulted & {"license_id", "frequency", "political_geocoding_uri"}
        conflicts = [w["message"] for w in entry["warnings"] if w["code"] == "place-conflict"]
        assert conflicts and "07315000 (Mainz) and place name 'Trier'" in conflicts[0]

    def test_a_listing_with_a_harvest_source_and_a_showcase_publishes_neither(
        self, harvest, replay
    ):
        sources = real("ckan_govdata_package_search_harvest_sources.json")["result"]["results"]
        rlp = next(s for s in sources if s["name"] == "harvester-rheinland-pfalz")
        serve(replay, "harvest-source", dict(rlp, organization=MAINZ))
        showcase = {  # as ckanext-showcase stores one: a package of type showcase
            "id": "5e0f3c1a-7a43-4a3e-9f1e-3c5d2b1a0c9e",
            "name": "stadtplan-app",
            "title": "Stadtplan-App",
            "type": "showcase",
            "notes": "Eine App, die den Stadtplan nutzt.",
            "url": "https://example.org/app",
            "organization": MAINZ,
            "resources": [],
        }
        serve(replay, "showcase", showcase)

        done = ok(harvest("mainz"))

        # the query asked for datasets only; the replay server ignores that, the reader did not
        searches = [p for _, p in replay.log if "package_search" in p]
        assert all("dataset_type" in parse_qs(urlsplit(p).query)["fq"][0] for p in searches)
        assert done["listing"]["complete"] and done["listing"]["datasets"] == 3
        assert done["listing"]["skipped_count"] == 2
        assert sorted((s["type"], s["title"]) for s in done["listing"]["skipped"]) == [
            ("harvest", "Harvester Rheinland-Pfalz"),
            ("showcase", "Stadtplan-App"),
        ]
        titles = {d["title"] for d in city_datasets("mainz").values()}
        assert len(titles) == 3 and not titles & {"Harvester Rheinland-Pfalz", "Stadtplan-App"}
        assert sorted(d["title"] for d in done["datasets"]) == sorted(titles)
