"""Derive the contract's licence register from GovData's published DCAT-AP.de licence lists.

``schemas/vierstaedte_contract/data/licenses.json`` is the portal's licence register (CKAN's
``licenses_group_url`` reads it) and the harvester's licence vocabulary. It is not typed by hand:
this script builds it from four public files of GovData (the keeper of DCAT-AP.de), pinned by
SHA-256 and described in ``schemas/vierstaedte_contract/data/SOURCES.md``:

* the SKOS vocabulary ``http://dcat-ap.de/def/licenses`` with GovData's ``isOpenLicense`` flag
  (URI, identifier, German title, alternative labels, licence text);
* GovData's licence mapping (each licence's code in the older OGD/CKAN schema, e.g.
  ``dl-de-by-2.0``, ``odc-odbl``, ``cc-nc``; open or closed);
* GovData's upgrade table (URIs of older DCAT-AP.de versions, e.g. ``…/dl-by-de/2_0``,
  ``…/od-bl``, and their successors) and licence list (the older entries' titles).

The one thing the sources lack is an English title; :data:`TITLES_EN` holds each licence's own
English name. :data:`COMMON` is the portal's choice of licences listed first in the form.

Usage: ``python scripts/licences.py SOURCES_DIR`` writes the register; ``--check`` only
compares and exits 1 if the committed file differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

REGISTER = (
    Path(__file__).resolve().parent.parent / "schemas/vierstaedte_contract/data/licenses.json"
)
BASE = "http://dcat-ap.de/def/licenses/"
SOURCES = {  # file name → SHA-256 of the copy the register was derived from
    "dcat-ap-de-licenses-open.rdf": (
        "5504312ec933beb597ff703cc95864fdd31e35e1dbc1d0554a028c27c0cef351"
    ),
    "dcat_license_mapping.json": "6a1ed13c95b2e4a049f60cccf9af402dd3f20f2ac95f6f957b7743f5d82d4a8f",
    "dcat_licenses_upgrade.json": (
        "b9719e70d426fd19d37ef895a000685236fdf2fe0db67936ecd4a3e59d7f3100"
    ),
    "dcat_licenses.json": "cb533a0f77f62a888f776ba60d30258f441e3903365c1ae84932ea11e67a0e1f",
}
NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "govdata": "http://govdata.de/mqa/#",
}
RESOURCE = f"{{{NS['rdf']}}}resource"
ABOUT = f"{{{NS['rdf']}}}about"

# the licences' own English names (the vocabulary has German titles only)
TITLES_EN = {
    "apache": "Apache License (Apache Software Foundation)",
    "bsd": "BSD licence",
    "cc-by": "Creative Commons Attribution (CC BY)",
    "cc-by/4.0": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
    "cc-by-de/3.0": "Creative Commons Attribution 3.0 Germany (CC BY 3.0 DE)",
    "cc-by-nc": "Creative Commons Attribution-NonCommercial (CC BY-NC)",
    "cc-by-nc-de/3.0": "Creative Commons Attribution-NonCommercial 3.0 Germany (CC BY-NC 3.0 DE)",
    "cc-by-nc/4.0": "Creative Commons Attribution-NonCommercial 4.0 International (CC BY-NC 4.0)",
    "cc-by-nd": "Creative Commons Attribution-NoDerivatives (CC BY-ND)",
    "cc-by-nd/3.0": "Creative Commons Attribution-NoDerivs 3.0 Unported (CC BY-ND 3.0)",
    "cc-by-nd/4.0": "Creative Commons Attribution-NoDerivatives 4.0 International (CC BY-ND 4.0)",
    "cc-by-sa": "Creative Commons Attribution-ShareAlike (CC BY-SA)",
    "cc-by-sa-de/3.0": "Creative Commons Attribution-ShareAlike 3.0 Germany (CC BY-SA 3.0 DE)",
    "cc-by-sa/4.0": "Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)",
    "ccpdm/1.0": "Public Domain Mark 1.0 (PDM)",
    "cc-zero": "Creative Commons CC0 Public Domain Dedication (CC0)",
    "cc-nc": "Creative Commons Attribution-NonCommercial (older DCAT-AP.de URI)",
    "dl-by-de/1.0": "Data licence Germany – attribution – version 1.0",
    "dl-by-de/2.0": "Data licence Germany – attribution – version 2.0",
    "dl-by-nc-de/1.0": "Data licence Germany – attribution – non-commercial – version 1.0",
    "dl-zero-de/2.0": "Data licence Germany – Zero – version 2.0",
    "geonutz/20130319": "Terms of use for the provision of federal geodata (GeoNutzV)",
    "geoNutz/20131001": "Terms of use for the provision of geodata of the Land Berlin",
    "gfdl": "GNU Free Documentation License (GFDL)",
    "gpl/3.0": "GNU General Public License version 3.0 (GPLv3)",
    "mozilla": "Mozilla Public License 2.0 (MPL)",
    "odbl": "Open Data Commons Open Database License (ODbL)",
    "odby": "Open Data Commons Attribution License (ODC-BY 1.0)",
    "odcpddl": "Open Data Commons Public Domain Dedication and Licence (ODC PDDL)",
    "officialWork": "Official work, free of copyright under § 5 (1) UrhG",
    "other-closed": "Other closed licence",
    "other-commercial": "Other commercial licence",
    "other-freeware": "Other freeware licence",
    "other-open": "Other open licence",
    "other-opensource": "Other open-source licence",
}
# listed first in the portal's licence select, in this order (``common``: 1, 2 …; others 0)
COMMON = ("dl-by-de/2.0", "dl-zero-de/2.0", "cc-by/4.0", "cc-by-sa/4.0", "cc-zero", "odbl")
OLDER = " (ältere DCAT-AP.de Version)"


class SourceError(ValueError):
    """A source file is missing, not the pinned copy, or contradicts another."""


def _read(sources: Path, name: str) -> bytes:
    data = (sources / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != SOURCES[name]:
        raise SourceError(f"{name} is not the copy recorded in SOURCES.md (SHA-256 differs)")
    return data


def _code(uri: str) -> str:
    if not uri.startswith(BASE):
        raise SourceError(f"not a DCAT-AP.de licence URI: {uri}")
    return uri.removeprefix(BASE)


def _flags(code: str) -> dict[str, bool]:
    parts = code.split("/")[0].split("-")
    return {"nc": "nc" in parts, "nd": "nd" in parts}


def _govdata_spelling(url: str) -> list[str]:
    """``https://www.govdata.de/dl-de/by-2-0`` is cited as ``dl-de/by-2-0`` in attributions."""
    parts = urlsplit(url)
    return [parts.path.strip("/")] if parts.hostname in ("govdata.de", "www.govdata.de") else []


def _concepts(rdf: bytes) -> list[dict]:
    root = ET.fromstring(rdf)
    open_flags = {
        node.get(ABOUT): node.findtext("govdata:isOpenLicense", namespaces=NS)
        for node in root.findall("rdf:Description", NS)
    }
    concepts = []
    for node in root.findall("skos:Concept", NS):
        uri = node.get(ABOUT)
        homepage = node.find("foaf:homepage", NS)
        flag = open_flags.get(uri)
        if flag not in ("true", "false"):
            raise SourceError(f"{uri}: no isOpenLicense flag")
        concepts.append(
            {
                "uri": uri,
                "identifier": node.findtext("dc:identifier", namespaces=NS),
                "title": node.findtext("skos:prefLabel", namespaces=NS).strip(),
                "alt": [a.text for a in node.findall("skos:altLabel", NS)],
                "url": homepage.get(RESOURCE) if homepage is not None else "",
                "open": flag == "true",
            }
        )
    return concepts


def build(sources: Path) -> list[dict]:
    """The register: the vocabulary's licences, then the older URIs GovData still maps."""
    concepts = _concepts(_read(sources, "dcat-ap-de-licenses-open.rdf"))
    mapping = {m["URI"]: m for m in json.loads(_read(sources, "dcat_license_mapping.json"))["list"]}
    upgrade = json.loads(_read(sources, "dcat_licenses_upgrade.json"))
    older = {entry["id"]: entry for entry in json.loads(_read(sources, "dcat_licenses.json"))}
    register, by_uri = [], {}
    for concept in concepts:
        uri, code = concept["uri"], _code(concept["uri"])
        row = mapping.get(uri, {})  # the mapping lacks a few licences (cc-by-sa-de/3.0)
        if row and (row["Lizenztyp"] == "offen") != concept["open"]:
            raise SourceError(f"{uri}: the mapping and the vocabulary disagree on openness")
        aliases = [concept["identifier"], *concept["alt"]]
        aliases += [row.get("Lizenzcode"), row.get("OGDLizenzcode")]
        for url in (concept["url"], row.get("Lizenztext")):
            aliases += [url, *_govdata_spelling(url)] if url else []
        entry = {
            "id": uri,
            "code": code,
            "title": concept["title"],
            "title_en": TITLES_EN[code],
            "url": concept["url"],
            "od_conformance": "approved" if concept["open"] else "rejected",
            "osd_conformance": "not reviewed",
            "status": "active",
            "is_generic": code.startswith("other-"),
            **_flags(code),
            "common": COMMON.index(code) + 1 if code in COMMON else 0,
            "aliases": sorted({a for a in aliases if a and a not in (code, uri)}),
        }
        register.append(entry)
        by_uri[uri] = entry
    for uri, successor in upgrade.items():
        if uri == successor or uri in by_uri:
            continue
        if successor and successor not in by_uri:
            raise SourceError(f"{uri} is upgraded to {successor}, which is no licence")
        old, code = older[uri], _code(uri)
        new = by_uri.get(successor)
        is_open = (
            new["od_conformance"] == "approved" if new else old["od_conformance"] == "approved"
        )
        register.append(
            {
                "id": uri,
                "code": code,
                "title": old["title"].strip(),
                "title_en": (new["title_en"] + " (older DCAT-AP.de URI)")
                if new
                else TITLES_EN[code],
                "url": old["url"],
                "od_conformance": "approved" if is_open else "rejected",
                "osd_conformance": "not reviewed",
                "status": "deprecated",
                "replaced_by": successor or None,
                "is_generic": False,
                **_flags(code),
                "common": 0,
                "aliases": [],
            }
        )
    return register


def render(register: list[dict]) -> str:
    return json.dumps(register, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", type=Path, help="directory holding the four source files")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    try:
        register = build(args.sources)
    except (OSError, SourceError, KeyError) as error:
        print(f"licences: {error}", file=sys.stderr)
        return 2
    text = render(register)
    if args.check:
        same = REGISTER.read_text(encoding="utf-8") == text
        print("licenses.json is derived from the sources" if same else "licenses.json differs")
        return 0 if same else 1
    REGISTER.write_text(text, encoding="utf-8")
    print(f"wrote {REGISTER} ({len(register)} licences)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
