"""Developers' and AI tools' view: real HTTP clients against a live CKAN filled by the real harvester."""

from __future__ import annotations

import json

import ckanapi
import pytest
import rdflib
import requests

DCATDE = rdflib.Namespace("http://dcat-ap.de/def/dcatde/")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


@pytest.mark.usefixtures("with_plugins")
def test_assistant_answers_with_a_cited_number(harvest, platform):
    assert harvest("mainz").returncode == 0
    client = ckanapi.RemoteCKAN(platform["url"])  # anonymous, as a bot would call it
    manifest = requests.get(f"{platform['url']}/api/vierstaedte/tools.json", timeout=10).json()
    assert "vierstaedte_tool_query_indicator" in json.dumps(manifest)

    # „Wie viele Menschen lebten 2023 in Mainz-Gonsenheim?“
    answer = client.call_action(
        "vierstaedte_tool_query_indicator",
        {
            "indicator": "population_total",
            "city": "mainz",
            "area_name": "Mainz-Gonsenheim",
            "period": "2023",
        },
    )
    result = answer["results"][0]
    assert (
        result["value"] == 25301
        and result["unit"] == "persons"
        and result["area"]["name"] == "Gonsenheim"
    )
    assert (
        "25.301 Personen" in answer["answer"] and "Einwohner nach Ortsbezirken" in answer["answer"]
    )
    assert result["citation"]["dataset_url"].startswith(platform["url"] + "/dataset/")

    with pytest.raises(ckanapi.ValidationError):
        client.call_action(
            "vierstaedte_tool_query_indicator", {"indicator": "population_total", "city": "berlin"}
        )


@pytest.mark.usefixtures("with_plugins")
def test_catalogue_exports_for_machines(harvest, platform):
    assert harvest("trier").returncode == 0
    lines = requests.get(f"{platform['url']}/katalog.jsonl", timeout=10).text.splitlines()
    records = [json.loads(line) for line in lines]
    table = next(r for r in records if r["title"].startswith("Bevölkerung"))
    assert table["city"]["ags"] == "07211000"
    assert {(i["id"], i["unit"]) for i in table["indicators"]} == {
        ("population_total", "persons"),
        ("population_share", "percent"),
    }

    graph = rdflib.Graph().parse(
        data=requests.get(f"{platform['url']}/catalog.ttl", timeout=10).text, format="turtle"
    )
    datasets = list(graph.subjects(rdflib.RDF.type, DCAT.Dataset))
    assert len(datasets) == 2
    for dataset in datasets:
        assert graph.value(dataset, DCATDE.politicalGeocodingURI) == rdflib.URIRef(
            "http://dcat-ap.de/def/politicalGeocoding/regionalKey/072110000000"
        )
