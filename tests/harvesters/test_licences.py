"""Licences as real catalogues spell them, and what the harvester does with each.

The spellings come from the real files in ``../shared/fixtures/real/`` (the Rostock DCAT-AP.de
page, a GovData CKAN record harvested from daten.rlp.de) and from the wild (CKAN ids, licence
URLs, GovData's citation form). A licence that is not open is refused unless the city config
says ``non_open_licences: flag``; a missing one is filled only from ``defaults.license``.
"""

from __future__ import annotations

import json

import pytest
import rdflib
from rdflib.namespace import DCTERMS

from tests.harvesters.paths import REAL
from vierstaedte_harvest import config, metadata
from vierstaedte_harvest.sources import SourceDataset

LIC = "http://dcat-ap.de/def/licenses/"


def test_every_licence_of_the_real_rostock_catalogue_maps_to_an_open_one():
    graph = rdflib.Graph().parse(REAL / "dcat_rostock_opendata-hro_catalog_page1.rdf")
    given = {str(o) for o in graph.objects(None, DCTERMS.license)}
    # as published: https://www.dcat-ap.de/def/licenses/… (not the vocabulary's http://dcat-ap.de)
    assert given == {
        "https://www.dcat-ap.de/def/licenses/cc-zero",
        "https://www.dcat-ap.de/def/licenses/odbl",
    }
    assert {metadata.canonical_license(v) for v in given} == {LIC + "cc-zero", LIC + "odbl"}
    source = SourceDataset(guid="g", name="n", title="t", license=sorted(given)[0])
    assert metadata.licence_refusal(source, {}) is None


def test_the_real_govdata_record_s_cc_nc_is_non_commercial_and_refused_by_default():
    record = json.loads(
        (REAL / "ckan_govdata_package_show_harvested_from_daten-rlp.json").read_text("utf-8")
    )
    record = record.get("result", record)
    assert (record["license_id"], record["license_url"]) == (
        "cc-nc",
        "http://creativecommons.org/licenses/by-nc/2.0/",
    )
    # the OGD id cc-nc is GovData's CC BY-NC; the URL names version 2.0, which DCAT-AP.de lacks
    assert metadata.canonical_license(record["license_id"]) == LIC + "cc-by-nc"
    assert metadata.canonical_license(record["license_url"]) is None
    source = SourceDataset(guid="g", name="n", title="t", license=record["license_id"])
    code, message = metadata.licence_refusal(source, {"license": "dl-by-de/2.0"})
    assert code == "licence-not-open"
    assert "cc-by-nc" in message and "non-commercial" in message
    assert metadata.licence_refusal(source, {"non_open_licences": "flag"}) is None


@pytest.mark.parametrize(
    "value, uri",
    [
        ("CC BY 4.0", LIC + "cc-by/4.0"),  # OpenDataSoft's spelling
        ("dl-de/by-2-0", LIC + "dl-by-de/2.0"),
        ("https://www.govdata.de/dl-de/zero-2-0", LIC + "dl-zero-de/2.0"),
        ("https://creativecommons.org/licenses/by/4.0/", LIC + "cc-by/4.0"),
        ("odc-odbl", LIC + "odbl"),
        ("https://www.dcat-ap.de/def/licenses/dl-by-de/2_0", LIC + "dl-by-de/2.0"),
        ("cc-by", LIC + "cc-by"),
    ],
)
def test_spellings_of_the_wild_are_published_as_the_canonical_uri(value, uri):
    source = SourceDataset(guid="g", name="n", title="t", license=value)
    assert metadata.dataset_dict(source, "mainz", {}, "n")["license_id"] == uri
    assert metadata.licence_refusal(source, {}) is None


@pytest.mark.parametrize(
    "value, code, named",
    [
        ("dl-by-de", "licence-ambiguous", "dl-by-de/1.0 or dl-by-de/2.0"),
        ("http://example.org/unsere-lizenz", "licence-unknown", "example.org"),
        ("http://dcat-ap.de/def/licenses/cc-nc", "licence-unknown", "cc-nc"),
    ],
)
def test_a_licence_the_vocabulary_cannot_decide_is_refused_and_never_defaulted(value, code, named):
    source = SourceDataset(guid="g", name="n", title="t", license=value)
    refusal = metadata.licence_refusal(source, {"license": "dl-by-de/2.0"})
    assert refusal is not None and refusal[0] == code and named in refusal[1]


def test_a_missing_licence_is_defaulted_only_where_configured_and_reported():
    source = SourceDataset(guid="g", name="n", title="t")
    refusal = metadata.licence_refusal(source, {})
    assert refusal is not None and refusal[0] == "licence-missing"
    assert "defaults.license" in refusal[1]

    problems: list = []
    defaulted: list = []
    defaults = {"license": "dl-zero-de/2.0"}
    data = metadata.dataset_dict(source, "mainz", defaults, "n", None, problems, defaulted)
    assert metadata.licence_refusal(source, defaults) is None
    assert data["license_id"] == LIC + "dl-zero-de/2.0"
    assert {"field": "license_id", "value": LIC + "dl-zero-de/2.0", "by": "config"} in defaulted
    assert problems == []  # the defaulted entry is the report


def test_a_non_open_licence_published_with_flag_is_reported_as_not_open():
    source = SourceDataset(guid="g", name="n", title="t", license="CC BY-ND 4.0")
    flag = {"non_open_licences": "flag"}
    assert metadata.licence_refusal(source, flag) is None
    problems: list = []
    data = metadata.dataset_dict(source, "mainz", flag, "n", None, problems)
    assert data["license_id"] == LIC + "cc-by-nd/4.0"
    assert [code for code, _ in problems] == ["licence-not-open"]
    assert "no derivatives" in problems[0][1]
    refused = metadata.licence_refusal(source, {})
    assert refused is not None and refused[0] == "licence-not-open"


@pytest.mark.parametrize(
    "defaults, message",
    [
        ({"license": "dl-by-de"}, "defaults.license must be a licence of the DCAT-AP.de"),
        ({"license": "MIT-ish"}, "defaults.license must be a licence of the DCAT-AP.de"),
        (
            {"non_open_licences": "publish"},
            "defaults.non_open_licences must be one of refuse, flag",
        ),
    ],
)
def test_the_config_refuses_a_licence_default_the_vocabulary_does_not_know(
    tmp_path, defaults, message
):
    path = tmp_path / "mainz.yaml"
    path.write_text(
        json.dumps(
            {
                "city": "mainz",
                "source": {"protocol": "ckan", "url": "https://x"},
                "defaults": defaults,
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(config.ConfigError, match=message):
        config.load("mainz", path)


def test_the_config_takes_any_spelling_of_a_known_licence(tmp_path):
    path = tmp_path / "mainz.yaml"
    path.write_text(
        "city: mainz\nsource: {protocol: ckan, url: 'https://x'}\n"
        "defaults: {license: 'https://www.govdata.de/dl-de/by-2-0', non_open_licences: flag}\n",
        encoding="utf-8",
    )
    loaded = config.load("mainz", path)
    assert loaded.defaults["non_open_licences"] == "flag"
