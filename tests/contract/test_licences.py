"""The licence register and the one licence lookup (``vierstaedte_contract.vocabularies``)."""

from __future__ import annotations

import collections
import importlib.util
from pathlib import Path

import pytest

from vierstaedte_contract import vocabularies
from vierstaedte_contract.vocabularies import (
    DEFAULT_LICENSE,
    LICENSE_BASE,
    licence,
    licence_candidates,
)

REPO = Path(__file__).resolve().parents[2]


def _active():
    return {lic.code: lic for lic in vocabularies.active_licences()}


def test_the_register_holds_the_whole_dcat_ap_de_vocabulary():
    active = _active()
    # the 34 licences of http://dcat-ap.de/def/licenses (version 20200715), not a portal's pick
    assert len(active) == 34
    assert {"cc-by", "cc-by-nc", "cc-by-nd/4.0", "geonutz/20130319", "officialWork"} <= set(active)
    assert {"other-closed", "other-commercial", "other-freeware", "dl-by-nc-de/1.0"} <= set(active)
    assert all(lic.uri == LICENSE_BASE + code for code, lic in active.items())
    assert all(lic.title_de and lic.title_en for lic in active.values())
    assert DEFAULT_LICENSE in {lic.uri for lic in active.values()}


@pytest.mark.parametrize(
    "code, is_open, nc, nd",
    [
        ("dl-by-de/2.0", True, False, False),
        ("cc-by-sa/4.0", True, False, False),
        ("other-open", True, False, False),
        ("cc-by-nc/4.0", False, True, False),
        ("dl-by-nc-de/1.0", False, True, False),
        ("cc-by-nd", False, False, True),
        ("other-closed", False, False, False),
        ("other-commercial", False, False, False),
    ],
)
def test_open_and_restriction_flags_follow_govdata(code, is_open, nc, nd):
    lic = _active()[code]
    assert (lic.open, lic.nc, lic.nd) == (is_open, nc, nd)


def test_ckan_reads_openness_from_the_register():
    rows = {row["id"]: row for row in vocabularies.licences()}
    # CKAN's License.isopen(): od_conformance or osd_conformance "approved"
    assert rows[LICENSE_BASE + "dl-by-de/2.0"]["od_conformance"] == "approved"
    assert rows[LICENSE_BASE + "cc-by-nc/4.0"]["od_conformance"] == "rejected"
    assert all(row["osd_conformance"] != "approved" for row in rows.values())
    assert all({"id", "title", "url", "status"} <= set(row) for row in rows.values())


@pytest.mark.parametrize(
    "value, code",
    [
        ("cc-by", "cc-by"),  # versionless: the vocabulary's own versionless entry
        ("cc-by/4.0", "cc-by/4.0"),
        ("CC-BY-4.0", "cc-by/4.0"),
        ("CC BY 4.0", "cc-by/4.0"),
        ("cc-by-de/3.0", "cc-by-de/3.0"),
        ("dl-by-de/2_0", "dl-by-de/2.0"),
        ("dl-by-de/2.0", "dl-by-de/2.0"),
        ("http://dcat-ap.de/def/licenses/dl-by-de/2.0", "dl-by-de/2.0"),
        ("https://www.dcat-ap.de/def/licenses/dl-by-de/2_0", "dl-by-de/2.0"),
        ("HTTPS://WWW.DCAT-AP.DE/def/licenses/cc-by/4_0", "cc-by/4.0"),
        ("https://www.dcat-ap.de/def/licenses/cc-zero", "cc-zero"),
        # CKAN / OGD ids of the older German schema
        ("odc-odbl", "odbl"),
        ("dl-de-by-2.0", "dl-by-de/2.0"),
        ("dl-de-zero-2.0", "dl-zero-de/2.0"),
        ("cc-nc", "cc-by-nc"),
        ("official-work", "officialWork"),
        # the licences' own URLs and the citations GovData prescribes
        ("https://creativecommons.org/licenses/by/4.0/", "cc-by/4.0"),
        ("http://creativecommons.org/licenses/by/4.0/deed.de", "cc-by/4.0"),
        ("https://creativecommons.org/licenses/by-nd/3.0/", "cc-by-nd/3.0"),
        ("https://www.govdata.de/dl-de/by-2-0", "dl-by-de/2.0"),
        ("http://govdata.de/dl-de/zero-2-0", "dl-zero-de/2.0"),
        ("dl-de/by-2-0", "dl-by-de/2.0"),
        ("DL-DE->BY-2.0", "dl-by-de/2.0"),
        ("Datenlizenz Deutschland – Zero – Version 2.0", "dl-zero-de/2.0"),
        # GovData's own long name (OpenDataSoft portals give it as the licence)
        ("Datenlizenz Deutschland – Namensnennung – Version 2.0", "dl-by-de/2.0"),
        # URIs of older DCAT-AP.de versions: their successor
        ("http://dcat-ap.de/def/licenses/od-bl", "odbl"),
        ("http://dcat-ap.de/def/licenses/cc-by-nc-de/4_0", "cc-by-nc/4.0"),
        ("http://dcat-ap.de/def/licenses/gpl/30", "gpl/3.0"),
    ],
)
def test_spellings_map_to_the_canonical_uri(value, code):
    found = licence(value)
    assert found is not None and found.active, value
    assert (found.code, found.uri) == (code, LICENSE_BASE + code)


@pytest.mark.parametrize(
    "value, candidates",
    [
        ("dl-by-de", ["dl-by-de/1.0", "dl-by-de/2.0"]),
        ("DL-DE-BY", ["dl-by-de/1.0", "dl-by-de/2.0"]),
        ("https://www.dcat-ap.de/def/licenses/dl-by-de", ["dl-by-de/1.0", "dl-by-de/2.0"]),
        ("cc-by-sa-de", ["cc-by-sa-de/3.0"]),  # one version, still not guessed
        ("Datenlizenz Deutschland Namensnennung", ["dl-by-de/1.0", "dl-by-de/2.0"]),
    ],
)
def test_a_versionless_spelling_without_its_own_entry_is_ambiguous(value, candidates):
    assert licence(value) is None
    assert [lic.code for lic in licence_candidates(value)] == candidates


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "  ",
        "http://example.org/licenses/dl-by-de/2.0",
        "http://creativecommons.org/licenses/by-nc/2.0/",  # a version the vocabulary lacks
        "cc-by-sa/3.0",
        "Creative Commons",
        "http://dcat-ap.de/def/licenses/dl-de-by-2.0",  # an OGD id is no URI path
    ],
)
def test_what_names_no_licence_is_none(value):
    assert licence(value) is None
    assert licence_candidates(value) == []


def test_an_older_uri_without_successor_is_known_but_not_active():
    found = licence("http://dcat-ap.de/def/licenses/cc-nc")
    assert found is not None and not found.active and found.nc and not found.open


def test_every_spelling_names_one_licence():
    """No alias, code or title of one licence is another licence's spelling; a URL two share
    (the text of ``cc-by-nd`` is CC BY-ND 3.0's) goes to the version it names."""
    owners = collections.defaultdict(set)
    active = [row for row in vocabularies.licences() if row["status"] == "active"]
    for row in active:
        for alias in [row["code"], *row["aliases"], row["title"], row["title_en"]]:
            if "://" not in alias:
                owners[vocabularies._licence_key(alias)].add(row["code"])
    assert {key: codes for key, codes in owners.items() if len(codes) > 1} == {}
    shared = {"http://creativecommons.org/licenses/by-nd/3.0/"}
    for row in active:
        for alias in set(row["aliases"]) - shared:
            assert licence(alias) == licence(row["id"]), alias
    assert licence(next(iter(shared))).code == "cc-by-nd/3.0"


def test_deprecated_entries_point_to_active_successors():
    rows = [row for row in vocabularies.licences() if row["status"] == "deprecated"]
    assert rows and all(row["id"].startswith(LICENSE_BASE) for row in rows)
    active = {lic.uri for lic in vocabularies.active_licences()}
    assert all(row["replaced_by"] in active for row in rows if row["replaced_by"])


def test_the_vocabulary_offers_the_active_licences_only():
    assert vocabularies.values("licenses") == {lic.uri for lic in vocabularies.active_licences()}
    assert vocabularies.label("licenses", LICENSE_BASE + "cc-by-nc/4.0", "en") == (
        "Creative Commons Attribution-NonCommercial 4.0 International (CC BY-NC 4.0)"
    )


def test_the_generator_refuses_sources_other_than_the_recorded_copies(tmp_path):
    """``scripts/licences.py`` derives the register from pinned copies only (data/SOURCES.md)."""
    spec = importlib.util.spec_from_file_location("licences", REPO / "scripts/licences.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for name in script.SOURCES:
        (tmp_path / name).write_text("{}", encoding="utf-8")
    assert script.main([str(tmp_path), "--check"]) == 2
    assert set(script.TITLES_EN) >= {row["code"] for row in vocabularies.licences()} - {
        row["code"] for row in vocabularies.licences() if row.get("replaced_by")
    }
    recorded = (REPO / "schemas/vierstaedte_contract/data/SOURCES.md").read_text(encoding="utf-8")
    assert all(digest in recorded for digest in script.SOURCES.values())
