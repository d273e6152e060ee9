"""DCAT-AP.de on top of ckanext-dcat's DCAT-AP 3 output.

GovData and the state portals harvest DCAT-AP.de: they need the political
geocoding, licences from the DCAT-AP.de licence vocabulary on the dataset and
every distribution, the city as ``foaf:Organization`` publisher and the
contributor id GovData assigns (by default Rhineland-Palatinate's portal, through which the
cities' data reach GovData), formats and media types as vocabulary URIs (EU file types, IANA),
the language, a ``dcat:downloadURL`` for each file and the attribution text DL-DE-BY asks for
(``dcatde:licenseAttributionByText``). Chained after ``euro_dcat_ap_3``
(``ckanext.dcat.rdf.profiles = euro_dcat_ap_3 vierstaedte_dcatap_de``), this
profile only adds or corrects what DCAT-AP 3 leaves out; reading RDF stays
with the DCAT-AP 3 profile. Being last, it also drops any URI that is no
valid URL, so one dataset's bad stored value cannot fail the catalogue.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import ckan.plugins.toolkit as tk
from ckanext.dcat.profiles import DCAT, DCT, SPDX, CleanedURIRef, RDFProfile
from ckanext.dcat.utils import catalog_uri, resource_uri
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from ckanext.vierstaedte.logic import exports, validators
from ckanext.vierstaedte.logic.tools import citations
from vierstaedte_contract import cities
from vierstaedte_contract.dataset import NORMALISED

log = logging.getLogger(__name__)
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
CONTRIBUTOR_ID = "ckanext.vierstaedte.dcatde.contributor_id"
PUBLISHER_NAME = "ckanext.vierstaedte.dcat.publisher_name"
PUBLISHER_URL = "ckanext.vierstaedte.dcat.publisher_url"
_TAG = re.compile(r"<[^>]*>")
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
MEDIA_TYPE = "https://www.iana.org/assignments/media-types/"
GERMAN = URIRef("http://publications.europa.eu/resource/authority/language/DEU")
SHA256 = SPDX.checksumAlgorithm_sha256  # the harvester's ``hash`` of every file it uploads
# the formats the cities publish: EU file type (its code) and IANA media type
FORMATS = {
    "CSV": ("CSV", "text/csv"),
    "JSON": ("JSON", "application/json"),
    "XLSX": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "XLS": ("XLS", "application/vnd.ms-excel"),
    "ODS": ("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "PDF": ("PDF", "application/pdf"),
    "XML": ("XML", "application/xml"),
    "ZIP": ("ZIP", "application/zip"),
    "GEOJSON": ("GEOJSON", "application/geo+json"),
    "TXT": ("TXT", "text/plain"),
    "HTML": ("HTML", "text/html"),
    "WMS": ("WMS_SRVC", None),  # a service, no file: no media type
}


def organisation_uri(name: str) -> str:
    return f"{catalog_uri().rstrip('/')}/organization/{name}"


class DCATAPdeProfile(RDFProfile):
    """Adds the DCAT-AP.de properties of a dataset, its publisher and its distributions."""

    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref) -> None:
        g = self.g
        g.bind("dcatde", DCATDE)

        contributor = tk.config.get(CONTRIBUTOR_ID)
        if contributor:
            g.add((dataset_ref, DCATDE.contributorID, URIRef(contributor)))
        for key, predicate in (
            ("political_geocoding_uri", DCATDE.politicalGeocodingURI),
            ("political_geocoding_level_uri", DCATDE.politicalGeocodingLevelURI),
        ):
            if dataset_dict.get(key):
                g.add((dataset_ref, predicate, URIRef(dataset_dict[key])))

        publisher = self._city_as_publisher(dataset_dict, dataset_ref)
        self._maintainer(dataset_dict, dataset_ref, publisher)
        self._licences_and_schema(dataset_dict, dataset_ref)
        g.add((dataset_ref, DCT.language, GERMAN))
        for resource in dataset_dict.get("resources", []):
            self._distribution(dataset_dict, resource)
        self._drop_invalid_uris(dataset_dict, dataset_ref)
        self._plain_descriptions()

    def graph_from_catalog(self, catalog_dict: dict[str, Any], catalog_ref) -> None:
        """DCAT-AP.de requires a catalogue publisher: the platform (``…dcat.publisher_*``), not
        one of the four cities (each publishes its own datasets)."""
        self.g.bind("dcatde", DCATDE)
        self.g.remove((catalog_ref, DCT.language, None))  # DCAT-AP 3 writes the locale, "de"
        self.g.add((catalog_ref, DCT.language, GERMAN))
        if (catalog_ref, DCT.publisher, None) not in self.g:
            url = tk.config.get(PUBLISHER_URL) or catalog_uri()
            self._add_agent_to_graph(
                catalog_ref,
                DCT.publisher,
                {
                    "uri": url,
                    "name": tk.config.get(PUBLISHER_NAME) or tk.config.get("ckan.site_title"),
                    "homepage": url,
                },
            )

    def _plain_descriptions(self) -> None:
        """Descriptions as plain text: CKAN's fields may hold HTML markup, RDF literals not."""
        g = self.g
        for subject, text in list(g.subject_objects(DCT.description)):
            if isinstance(text, Literal) and ("<" in text or "&" in text):
                plain = html.unescape(_TAG.sub("", str(text))).strip()
                g.remove((subject, DCT.description, text))
                g.add((subject, DCT.description, Literal(plain, lang=text.language)))

    def _distribution(self, dataset_dict, resource) -> None:
        """Vocabulary URIs for format and media type, language, download URL, attribution."""
        g = self.g
        distribution = CleanedURIRef(resource_uri(resource))
        known = FORMATS.get((resource.get("format") or "").upper().lstrip("."))
        media_type = resource.get("mimetype") or (known[1] if known else None)
        g.remove((distribution, DCT["format"], None))
        g.remove((distribution, DCAT.mediaType, None))
        if known:
            g.add((distribution, DCT["format"], URIRef(FILE_TYPE + known[0])))
        if media_type and "/" in media_type:
            g.add((distribution, DCAT.mediaType, URIRef(MEDIA_TYPE + media_type.strip())))
        g.add((distribution, DCT.language, GERMAN))
        if resource.get("url") and (distribution, DCAT.downloadURL, None) not in g:
            g.add((distribution, DCAT.downloadURL, URIRef(resource["url"])))
        for checksum in g.objects(distribution, SPDX.checksum):
            if (checksum, SPDX.algorithm, None) not in g:
                g.add((checksum, SPDX.algorithm, SHA256))
        text = self._attribution(dataset_dict)
        if text:
            g.add((distribution, DCATDE.licenseAttributionByText, Literal(text, lang="de")))

    def _attribution(self, dataset_dict) -> str | None:
        """The text a licence with attribution (DL-DE-BY, CC BY) asks users to give, or None."""
        licence = exports.licence_details(dataset_dict)
        if "by" not in (licence.get("code") or "").partition("/")[0].split("-"):
            return None
        return citations.attribution(
            dataset_dict, licence, exports.dataset_urls(dataset_dict)["page"], "de"
        )

    def _city_as_publisher(self, dataset_dict, dataset_ref):
        """The city is the one ``dct:publisher``; ``publisher`` entries become ``dcatde:originator``.

        DCAT-AP allows one publisher; harvested ``publisher`` values name the
        office that produced the data, which DCAT-AP.de calls the originator.
        """
        g = self.g
        org = dataset_dict.get("organization") or {}
        if not org.get("name"):
            return None
        for old in list(g.objects(dataset_ref, DCT.publisher)):
            g.remove((old, None, None))
        g.remove((dataset_ref, DCT.publisher, None))
        for originator in dataset_dict.get("publisher") or []:
            if originator.get("name"):
                self._add_agent_to_graph(
                    dataset_ref,
                    DCATDE.originator,
                    {**originator, "uri": originator.get("uri") or ""},
                )
        city = cities.as_dict(org["name"]) or {}
        return self._add_agent_to_graph(
            dataset_ref,
            DCT.publisher,
            {
                "uri": organisation_uri(org["name"]),
                "name": org.get("title") or city.get("title"),
                "homepage": city.get("website"),
            },
        )

    def _maintainer(self, dataset_dict, dataset_ref, publisher) -> None:
        """``dcatde:maintainer``: the contact point as an agent, else the city."""
        contact = next((c for c in dataset_dict.get("contact") or [] if c.get("name")), None)
        if contact:
            self._add_agent_to_graph(
                dataset_ref,
                DCATDE.maintainer,
                {
                    "name": contact["name"],
                    "email": contact.get("email"),
                    "homepage": contact.get("url"),
                },
            )
        elif publisher is not None:
            self.g.add((dataset_ref, DCATDE.maintainer, publisher))

    def _drop_invalid_uris(self, dataset_dict, dataset_ref) -> None:
        """Leave out each URI of the dataset's description that is no valid URL (``web_url``).

        URLs are checked at input, but a value stored before that check (a
        contact URL with a blank, ``javascript:``) must cost only that
        statement: rdflib refuses to serialise such a URI, which failed the
        whole catalogue for everyone. Logged with the dataset's id.
        """
        g = self.g
        seen, todo = {dataset_ref}, [dataset_ref]
        while todo:
            node = todo.pop()
            for predicate, value in list(g.predicate_objects(node)):
                if isinstance(value, URIRef) and validators.web_url(value) is None:
                    log.warning(
                        "DCAT: dataset %s (%s): left out %s <%s>, no valid URL",
                        dataset_dict.get("id"),
                        dataset_dict.get("name"),
                        predicate,
                        value,
                    )
                    g.remove((node, predicate, value))
                    g.remove((value, None, None))
                elif isinstance(value, (URIRef, BNode)) and value not in seen:
                    seen.add(value)
                    todo.append(value)

    def _licences_and_schema(self, dataset_dict, dataset_ref) -> None:
        g = self.g
        licence = dataset_dict.get("license_id") or ""
        licence_ref = URIRef(licence) if licence.startswith("http") else None
        if licence_ref is not None:
            g.add((dataset_ref, DCT.license, licence_ref))
            g.add((licence_ref, RDF.type, DCT.LicenseDocument))
        for resource in dataset_dict.get("resources", []):
            distribution = CleanedURIRef(resource_uri(resource))
            if licence_ref is not None and (distribution, DCT.license, None) not in g:
                g.add((distribution, DCT.license, licence_ref))
            if resource.get("role") == NORMALISED:
                schema_ref = URIRef(exports.table_schema_url())
                g.add((distribution, DCT.conformsTo, schema_ref))
                g.add((schema_ref, RDF.type, DCT.Standard))
