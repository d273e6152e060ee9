"""DCAT-AP.de output of the real ckanext-dcat endpoints with our profile chained after DCAT-AP 3."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ckan.tests.helpers import call_action
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SH

from tests.factories import Metadata
from vierstaedte_contract.dataset import NORMALISED, RAW, ROLE_FIELD

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DL_BY_DE = URIRef("http://dcat-ap.de/def/licenses/dl-by-de/2.0")
SOCI = URIRef("http://publications.europa.eu/resource/authority/data-theme/SOCI")
REGI = URIRef("http://publications.europa.eu/resource/authority/data-theme/REGI")
CONTRIBUTOR = "http://dcat-ap.de/def/contributors/vierStaedteOpenData"
RLP_PORTAL = URIRef("http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz")
GERMAN = URIRef("http://publications.europa.eu/resource/authority/language/DEU")
FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
IANA = "https://www.iana.org/assignments/media-types/"
SHAPES = Path(__file__).parents[1] / "data" / "dcat-ap-de"
# what GovData's validator checks for "DCAT-AP.de 3.0 – Deutsche Spezifikation" (PROVENANCE.md)
SHAPE_FILES = (
    "dcat-ap-SHACL.ttl",
    "dcat-ap-SHACL-DE.ttl",
    "dcat-ap-de-deprecated.ttl",
    "dcat-ap-spec-german-additions.ttl",
    "dcat-ap-de-controlledvocabularies.ttl",
)


def _graph(app, url: str, rdf_format: str) -> Graph:
    response = app.get(url)
    assert response.status_code == 200
    return Graph().parse(data=response.get_data(as_text=True), format=rdf_format)


def _dataset_ref(graph: Graph) -> URIRef:
    (dataset_ref,) = graph.subjects(RDF.type, DCAT.Dataset)
    return dataset_ref


@pytest.fixture
def dataset(app, city_editor):
    """A dataset created through the Action API, with a normalised table and a raw file."""
    headers = {"Authorization": city_editor["token"]}
    created = app.post("/api/3/action/package_create", json=Metadata(), headers=headers).json[
        "result"
    ]
    for role, fmt in ((RAW, "XLSX"), (NORMALISED, "CSV")):
        app.post(
            "/api/3/action/resource_create",
            headers=headers,
            json={
                "package_id": created["id"],
                ROLE_FIELD: role,
                "format": fmt,
                "name": role,
                "url": f"https://files.example.org/{role}.{fmt.lower()}",
            },
        )
    return call_action("package_show", id=created["id"])


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestDatasetRdf:
    def test_turtle_has_the_dcat_ap_de_properties(self, app, dataset):
        graph = _graph(app, f"/dataset/{dataset['name']}.ttl", "turtle")
        ref = _dataset_ref(graph)

        assert set(graph.objects(ref, DCATDE.politicalGeocodingURI)) == {
            URIRef("http://dcat-ap.de/def/politicalGeocoding/regionalKey/073150000000")
        }
        assert set(graph.objects(ref, DCATDE.politicalGeocodingLevelURI)) == {
            URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")
        }
        assert set(graph.objects(ref, DCAT.theme)) == {SOCI, REGI}
        assert set(graph.objects(ref, DCTERMS.license)) == {DL_BY_DE}
        # the default contributor id: Rhineland-Palatinate's portal delivers the cities to GovData
        assert set(graph.objects(ref, DCATDE.contributorID)) == {RLP_PORTAL}
        assert set(graph.objects(ref, DCTERMS.language)) == {GERMAN}

    def test_the_city_is_the_one_publisher_as_foaf_organization(self, app, dataset):
        graph = _graph(app, f"/dataset/{dataset['name']}.ttl", "turtle")
        ref = _dataset_ref(graph)

        (publisher,) = graph.objects(ref, DCTERMS.publisher)
        assert str(publisher).endswith("/organization/mainz")
        assert (publisher, RDF.type, FOAF.Organization) in graph
        assert set(graph.objects(publisher, FOAF.name)) == {Literal("Landeshauptstadt Mainz")}
        assert set(graph.objects(publisher, FOAF.homepage)) == {URIRef("https://www.mainz.de")}
        # the harvested publisher entry names the originating office
        (originator,) = graph.objects(ref, DCATDE.originator)
        assert originator == URIRef("https://www.mainz.de")

    def test_maintainer_and_contact_point_from_the_contact(self, app, dataset):
        graph = _graph(app, f"/dataset/{dataset['name']}.ttl", "turtle")
        ref = _dataset_ref(graph)

        (maintainer,) = graph.objects(ref, DCATDE.maintainer)
        assert set(graph.objects(maintainer, FOAF.name)) == {Literal("Statistikstelle")}
        assert set(graph.objects(maintainer, FOAF.mbox)) == {URIRef("mailto:statistik@example.org")}
        (contact,) = graph.objects(ref, DCAT.contactPoint)
        assert len(set(graph.predicate_objects(contact))) >= 2

    def test_distributions_carry_licence_and_the_normalised_one_its_table_schema(
        self, app, dataset
    ):
        graph = _graph(app, f"/dataset/{dataset['name']}.ttl", "turtle")
        distributions = {
            str(graph.value(d, DCTERMS.title)): d
            for d in graph.objects(_dataset_ref(graph), DCAT.distribution)
        }

        assert set(distributions) == {RAW, NORMALISED}
        for distribution in distributions.values():
            assert set(graph.objects(distribution, DCTERMS.license)) == {DL_BY_DE}
        (schema,) = graph.objects(distributions[NORMALISED], DCTERMS.conformsTo)
        assert str(schema).endswith("/katalog/city-statistics.schema.json")
        assert app.get(urlsplit(str(schema)).path).json["name"] == "city-statistics"
        assert not set(graph.objects(distributions[RAW], DCTERMS.conformsTo))

    def test_distributions_carry_vocabulary_formats_download_url_and_attribution(
        self, app, dataset
    ):
        graph = _graph(app, f"/dataset/{dataset['name']}.ttl", "turtle")
        distributions = list(graph.objects(_dataset_ref(graph), DCAT.distribution))
        formats = {graph.value(d, DCTERMS.format) for d in distributions}
        assert formats == {FILE_TYPE.CSV, FILE_TYPE.XLSX}
        for distribution in distributions:
            media_type = graph.value(distribution, DCAT.mediaType)
            assert isinstance(media_type, URIRef) and str(media_type).startswith(IANA)
            assert str(graph.value(distribution, DCAT.downloadURL)).startswith(
                "https://files.example.org/"
            )
            assert set(graph.objects(distribution, DCTERMS.language)) == {GERMAN}
            (attribution,) = graph.objects(distribution, DCATDE.licenseAttributionByText)
            assert attribution.language == "de"
            assert "Datenlizenz Deutschland – Namensnennung – Version 2.0" in attribution
            assert f"/dataset/{dataset['name']}" in attribution

    def test_web_pages_and_map_services_get_a_format_and_markup_is_stripped(self, app, city_editor):
        headers = {"Authorization": city_editor["token"]}
        created = app.post(
            "/api/3/action/package_create",
            json=Metadata(name="mainz-stadtplan", notes="Kartendienst. <b>Kein</b> Datensatz."),
            headers=headers,
        ).json["result"]
        for fmt in ("HTML", "WMS"):
            app.post(
                "/api/3/action/resource_create",
                headers=headers,
                json={
                    "package_id": created["id"],
                    ROLE_FIELD: RAW,
                    "format": fmt,
                    "name": fmt,
                    "description": "Die <i>Karte</i> &amp; mehr",
                    "url": f"https://karte.example.org/{fmt.lower()}",
                },
            )
        graph = _graph(app, "/dataset/mainz-stadtplan.ttl", "turtle")
        ref = _dataset_ref(graph)
        assert {str(d) for d in graph.objects(ref, DCTERMS.description)} == {
            "Kartendienst. Kein Datensatz."
        }
        distributions = list(graph.objects(ref, DCAT.distribution))
        formats = {graph.value(d, DCTERMS.format) for d in distributions}
        assert formats == {FILE_TYPE.HTML, FILE_TYPE.WMS_SRVC}
        for distribution in distributions:
            assert str(graph.value(distribution, DCTERMS.description)) == "Die Karte & mehr"

    @pytest.mark.ckan_config("ckanext.vierstaedte.dcatde.contributor_id", CONTRIBUTOR)
    def test_contributor_id_from_the_config(self, app, dataset):
        graph = _graph(app, f"/dataset/{dataset['name']}.rdf", "xml")
        assert set(graph.objects(_dataset_ref(graph), DCATDE.contributorID)) == {
            URIRef(CONTRIBUTOR)
        }


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestCatalogueRdf:
    @pytest.mark.parametrize(
        "url, rdf_format", [("/catalog.ttl", "turtle"), ("/catalog.rdf", "xml")]
    )
    def test_catalogue_lists_public_datasets_with_dcat_ap_de_properties(
        self, app, dataset, city_editor, url, rdf_format
    ):
        call_action(
            "package_create",
            context={"user": city_editor["user"]["name"]},
            **Metadata(name="mainz-privat", private=True),
        )
        graph = _graph(app, url, rdf_format)

        (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
        (ref,) = graph.objects(catalog, DCAT.dataset)
        assert graph.value(ref, DCTERMS.title).toPython() == dataset["title"]
        assert (ref, DCATDE.politicalGeocodingURI, None) in graph
        (publisher,) = graph.objects(catalog, DCTERMS.publisher)  # the platform, not a city
        assert set(graph.objects(publisher, FOAF.name)) == {Literal("Vier Städte Open Data")}
        assert not str(publisher).endswith("/organization/mainz")

    @pytest.mark.ckan_config("ckanext.vierstaedte.dcat.publisher_name", "Zweckverband Daten")
    @pytest.mark.ckan_config("ckanext.vierstaedte.dcat.publisher_url", "https://daten.example.org")
    def test_the_catalogue_publisher_is_configurable(self, app, dataset):
        graph = _graph(app, "/catalog.ttl", "turtle")
        (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
        (publisher,) = graph.objects(catalog, DCTERMS.publisher)
        assert publisher == URIRef("https://daten.example.org")
        assert set(graph.objects(publisher, FOAF.name)) == {Literal("Zweckverband Daten")}

    @pytest.mark.ckan_config("ckanext.dcat.datasets_per_page", 2)
    def test_catalogue_pages_are_hydra_collections(self, app, city_editor):
        for number in range(3):
            call_action(
                "package_create",
                context={"user": city_editor["user"]["name"]},
                **Metadata(name=f"mainz-{number}"),
            )

        first = _graph(app, "/catalog.ttl?page=1", "turtle")
        (collection,) = first.subjects(RDF.type, HYDRA.PagedCollection)
        assert int(first.value(collection, HYDRA.totalItems)) == 3
        assert "page=2" in str(first.value(collection, HYDRA.nextPage))
        assert len(set(first.subjects(RDF.type, DCAT.Dataset))) == 2
        second = _graph(app, "/catalog.ttl?page=2", "turtle")
        assert len(set(second.subjects(RDF.type, DCAT.Dataset))) == 1
        assert all(
            (d, DCATDE.politicalGeocodingURI, None) in second
            for d in second.subjects(RDF.type, DCAT.Dataset)
        )


def _violations(data: Graph) -> list[str]:
    """pySHACL over ``data`` and the vocabularies the validator imports: each violation, as text."""
    shapes = Graph()
    for name in SHAPE_FILES:
        shapes.parse(SHAPES / "shapes" / name, format="turtle")
    for vocabulary in sorted((SHAPES / "vocabularies").iterdir()):
        data.parse(vocabulary, format="xml" if vocabulary.suffix == ".rdf" else "turtle")
    _conforms, report, _text = validate(data, shacl_graph=shapes, inference="none", advanced=True)
    return sorted(
        f"{report.value(r, SH.focusNode)} {report.value(r, SH.resultPath)}: "
        f"{report.value(r, SH.resultMessage)}"
        for r in report.subjects(SH.resultSeverity, SH.Violation)
    )


@pytest.mark.usefixtures("with_plugins")
def test_catalogue_conforms_to_the_dcat_ap_de_shapes(app, published):
    """GovData's DCAT-AP.de 3.0 shapes find no violation in the catalogue (warnings allowed)."""
    graph = _graph(app, "/catalog.ttl", "turtle")
    assert set(graph.subjects(RDF.type, DCAT.Dataset))
    assert _violations(graph) == []
