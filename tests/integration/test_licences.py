"""Licences end to end: the real harvester command against the live CKAN.

A city's manifest lists a dataset under CC BY-NC 4.0, one under a versionless licence the
vocabulary cannot decide, one without a licence and one under GovData's citation of DL-DE BY
2.0. By default the non-commercial one is refused with its reason in the run report; with
``non_open_licences: flag`` it is published and the portal marks it as not open.
"""

from __future__ import annotations

import requests
import yaml

from tests.harvesting import city_datasets, report, run_command

LIC = "http://dcat-ap.de/def/licenses/"
MANIFEST = {
    "datasets": [
        {
            "id": entry_id,
            "title": title,
            **({"license": licence} if licence else {}),
            "themes": ["SOCI"],
            "files": [{"url": f"https://example.org/{entry_id}.pdf", "format": "PDF"}],
        }
        for entry_id, title, licence in (
            ("nc", "Nur nicht-kommerziell", "CC BY-NC 4.0"),
            ("vage", "Ohne Version", "dl-by-de"),
            ("ohne", "Ohne Lizenz", None),
            ("offen", "Offen", "dl-de/by-2-0"),
        )
    ]
}


def _harvest(platform, tmp_path, **defaults):
    tmp_path.mkdir()
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(MANIFEST), encoding="utf-8")
    config = tmp_path / "koblenz.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "city": "koblenz",
                "source": {"protocol": "manifest", "path": "manifest.yaml"},
                "defaults": {"spatial_granularity": "stadt", **defaults},
            }
        ),
        encoding="utf-8",
    )
    process = run_command(
        "koblenz", config, platform["url"], tmp_path / "state", platform["tokens"]["koblenz"]
    )
    assert "report: " in process.stdout, process.stdout + process.stderr
    return {entry["title"]: entry for entry in report(process)["datasets"]}


def test_non_open_licences_are_refused_by_default_and_published_flagged_with_flag(
    platform, tmp_path
):
    entries = _harvest(platform, tmp_path / "refuse")
    assert entries["Offen"]["status"] == "added"
    nc = entries["Nur nicht-kommerziell"]
    assert nc["status"] == "rejected"
    assert nc["errors"][0]["code"] == "licence-not-open"
    assert "cc-by-nc/4.0" in nc["errors"][0]["message"]
    vague = entries["Ohne Version"]
    assert (vague["status"], vague["errors"][0]["code"]) == ("rejected", "licence-ambiguous")
    assert "dl-by-de/1.0 or dl-by-de/2.0" in vague["errors"][0]["message"]
    missing = entries["Ohne Lizenz"]
    assert (missing["status"], missing["errors"][0]["code"]) == ("rejected", "licence-missing")
    published = city_datasets("koblenz")
    assert [d["license_id"] for d in published.values()] == [LIC + "dl-by-de/2.0"]

    entries = _harvest(
        platform, tmp_path / "flag", non_open_licences="flag", license="dl-zero-de/2.0"
    )
    nc = entries["Nur nicht-kommerziell"]
    assert nc["status"] == "added"
    assert [w["code"] for w in nc["warnings"]] == ["licence-not-open"]
    missing = entries["Ohne Lizenz"]
    assert missing["status"] == "added"
    assert {"field": "license_id", "value": LIC + "dl-zero-de/2.0", "by": "config"} in missing[
        "defaulted"
    ]
    assert entries["Ohne Version"]["status"] == "rejected"  # a default never replaces it

    by_licence = {d["license_id"]: d for d in city_datasets("koblenz").values()}
    flagged = by_licence[LIC + "cc-by-nc/4.0"]
    assert flagged["isopen"] is False and by_licence[LIC + "dl-by-de/2.0"]["isopen"] is True
    page = requests.get(f"{platform['url']}/dataset/{flagged['name']}", timeout=30).text
    assert "nicht offen" in page
