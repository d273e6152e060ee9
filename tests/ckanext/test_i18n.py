"""German first, English second: the extension's message catalogues and the /en/ pages.

German is the source language (the msgids are the German texts); ``en`` translates
them. A string added to a template or to the code without updating the catalogues
(``scripts/i18n update``, translate, ``scripts/i18n compile``) fails here.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from ckan.tests.helpers import call_action

from tests.factories import HarvestedDataset, Metadata, Observation

EXTENSION = Path(__file__).resolve().parents[2] / "ckanext-vierstaedte"
I18N = EXTENSION / "ckanext" / "vierstaedte" / "i18n"
DOMAIN = "ckanext-vierstaedte"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def extracted() -> set:
    """The msgids in the extension's templates and code, found as `scripts/i18n update` finds them."""
    with open(EXTENSION / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, str(EXTENSION / "babel.cfg"))
    return {
        message[2]
        for message in extract_from_dir(str(EXTENSION), method_map, options_map, DEFAULT_KEYWORDS)
    }


def catalogue(path: Path):
    with open(path, "rb") as handle:
        return read_po(handle)


def po(locale: str) -> Path:
    return I18N / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def texts(message) -> tuple:
    return message if isinstance(message, tuple) else (message,)


class TestCatalogues:
    def test_the_template_holds_exactly_the_strings_in_use(self):
        in_use = extracted()
        assert len(in_use) > 100  # the extractor really read the templates and the code
        assert "Städte vergleichen" in in_use and ("{num} Datensatz", "{num} Datensätze") in in_use
        in_template = {m.id for m in catalogue(I18N / f"{DOMAIN}.pot") if m.id}
        assert sorted(map(str, in_use - in_template)) == [], "run scripts/i18n update"
        assert sorted(map(str, in_template - in_use)) == [], "run scripts/i18n update"

    @pytest.mark.parametrize("locale", ["de", "en"])
    def test_every_string_is_in_the_locale_catalogue(self, locale):
        ids = {m.id for m in catalogue(po(locale)) if m.id}
        assert sorted(map(str, extracted() - ids)) == []

    def test_every_string_has_an_english_translation_with_the_same_placeholders(self):
        problems = []
        for message in catalogue(po("en")):
            if not message.id:
                continue
            strings = texts(message.string)
            if message.fuzzy or not all(strings):
                problems.append(f"untranslated: {message.id!r}")
            elif {p for s in texts(message.id) for p in PLACEHOLDER.findall(s)} != {
                p for s in strings for p in PLACEHOLDER.findall(s)
            }:
                problems.append(f"placeholders differ: {message.id!r} → {message.string!r}")
        assert problems == []

    @pytest.mark.parametrize("locale", ["de", "en"])
    def test_the_committed_mo_is_compiled_from_the_po(self, locale):
        compiled = io.BytesIO()
        write_mo(compiled, catalogue(po(locale)))
        expected = gettext.GNUTranslations(io.BytesIO(compiled.getvalue()))
        with open(po(locale).with_suffix(".mo"), "rb") as handle:
            committed = gettext.GNUTranslations(handle)
        assert committed._catalog == expected._catalog, "run scripts/i18n compile"


@pytest.fixture
def portal(clean_datastore, cities):
    """A harvested-looking dataset of Mainz with population in its normalised table."""
    return HarvestedDataset(
        name="mainz-einwohner",
        records=[
            Observation(period="2022", value=221000),
            Observation(period="2023", value=222000),
        ],
    )


def texts_of(html: str, selector: str) -> list[str]:
    return [
        element.get_text(" ", strip=True)
        for element in BeautifulSoup(html, "html.parser").select(selector)
    ]


@pytest.mark.usefixtures("with_plugins")
class TestEnglishPages:
    def test_home(self, app, portal):
        german, english = app.get("/").body, app.get("/en/").body
        assert '<html lang="de"' in german and '<html lang="en"' in english
        assert (
            "Datensätze durchsuchen" in german
            and "Die Städte" in german
            and "1 Datensatz" in german
        )
        assert "Search datasets" in english and "The cities" in english and "1 dataset" in english
        assert (
            "0 datasets" in english
            and "Municipality key" in english
            and "Last fetched from the city" in english
        )
        assert (
            "Datensätze durchsuchen" not in english
            and "Zuletzt von der Stadt abgerufen" not in english
        )

    def test_cities(self, app, portal):
        german, english = app.get("/staedte").body, app.get("/en/staedte").body
        assert texts_of(german, "h1")[-1] == "Die vier Städte"
        assert texts_of(english, "h1")[-1] == "The four cities"
        assert texts_of(english, "table th[scope=col]") == [
            "City",
            "Municipality key (AGS)",
            "Regional key (ARS)",
            "Geocoding URI",
        ]

    def test_comparison(self, app, portal):
        german, english = app.get("/vergleich").body, app.get("/en/vergleich").body
        assert texts_of(german, "table.vierstaedte-compare-table thead th")[:4] == [
            "Stadt",
            "Gebiet",
            "Jahr",
            "Zeitbezug",
        ]
        assert texts_of(english, "table.vierstaedte-compare-table thead th") == [
            "City",
            "Area",
            "Year",
            "Period",
            "Value",
            "Unit",
            "Value status",
            "Source",
        ]
        assert texts_of(english, "h1")[-1] == "Compare cities"
        assert texts_of(english, "label[for=vergleich-indicator]") == ["Indicator"]
        assert texts_of(english, "form.vierstaedte-compare-form button") == ["Show"]
        assert "Population total" in english and "Download CSV" in english
        english_csv = app.get("/en/vergleich.csv").body
        assert english_csv.startswith("City,Area,Year,Period,Value,Unit,Value status,Source")

    def test_dataset_page_and_facets(self, app, portal):
        english = app.get("/en/dataset/mainz-einwohner").body
        assert texts_of(english, "#vierstaedte-datenfelder") == ["Data fields"]
        assert "Validation status" in english and "Indicators in this table" in english
        search = app.get("/en/dataset/").body
        assert {"Cities", "Themes", "Spatial granularity"} <= set(
            texts_of(search, ".module-heading")
        )
        assert "Räumliche Gliederung" not in search

    def test_validation_messages(self, app, portal):
        english = app.get("/en/vergleich?indicator=unknown_thing", status=400).body
        assert "This indicator does not exist. Please choose an entry from the list." in english
        german = app.get("/vergleich?indicator=unknown_thing", status=400).body
        assert "Diesen Indikator gibt es nicht. Bitte einen Eintrag aus der Liste wählen." in german
        assert "does not exist" not in german

    def test_german_is_the_default(self, app, city_editor):
        call_action("package_create", context={"user": city_editor["user"]["name"]}, **Metadata())
        html = app.get("/dataset/mainz-einwohner-2023").body
        assert "Prüfstatus" in html and "Validation status" not in html
