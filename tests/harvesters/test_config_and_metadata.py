"""City configs are checked on load; source metadata is cleaned and canonicalised, never guessed."""

from __future__ import annotations

import pytest

from vierstaedte_harvest import config, metadata
from vierstaedte_harvest.sources import SourceDataset


@pytest.mark.parametrize("city", ["mainz", "trier", "koblenz", "ludwigshafen"])
def test_shipped_configs_load(city):
    loaded = config.load(city)
    assert (
        loaded.city == city
        and loaded.tables
        and all(rule.mapping.city == city for rule in loaded.tables)
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "city: trier\nsource: {protocol: ckan, url: 'https://x'}\n",
            "config of 'trier', not of 'mainz'",
        ),
        (
            "city: mainz\nsource: {protocol: gopher, url: 'https://x'}\n",
            "source.protocol must be one of",
        ),
        ("city: mainz\nsource: {protocol: ckan}\n", "source.url is required"),
        ("city: mainz\nsource: {protocol: ckan, url: 'https://x'}\ncolour: red\n", "unknown key"),
        (
            "city: mainz\nsource: {protocol: ckan, url: 'https://x'}\nhttp: {speed: 9}\n",
            "unknown key http.speed",
        ),
        (
            "city: mainz\nsource: {protocol: ckan, url: 'https://x'}\n"
            "tables: [{match: {title: '('}, mapping: m.yaml}]\n",
            "bad regular expression",
        ),
        (
            "city: mainz\nsource: {protocol: ckan, url: 'https://x'}\n"
            "tables: [{match: {colour: x}, mapping: m.yaml}]\n",
            "unknown key tables.1..match.colour",
        ),
    ],
)
def test_config_errors_say_where(tmp_path, text, message):
    path = tmp_path / "mainz.yaml"
    path.write_text(text)
    with pytest.raises(config.ConfigError, match=message):
        config.load("mainz", path)


def test_a_mapping_of_another_city_is_refused(tmp_path):
    mappings = config.default_path("trier").parent.parent / "mappings"
    path = tmp_path / "mainz.yaml"
    path.write_text(
        "city: mainz\nsource: {protocol: ckan, url: 'https://x'}\n"
        f"tables: [{{match: {{title: x}}, mapping: {mappings / 'trier-bevoelkerung-alter.yaml'}}}]\n"
    )
    with pytest.raises(config.ConfigError, match="is for trier, not mainz"):
        config.load("mainz", path)


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            "https://www.dcat-ap.de/def/licenses/dl-by-de/2_0",
            "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        ),
        ("dl-by-de/2.0", "http://dcat-ap.de/def/licenses/dl-by-de/2.0"),
        ("http://dcat-ap.de/def/licenses/cc-zero", "http://dcat-ap.de/def/licenses/cc-zero"),
        (
            "https://creativecommons.org/licenses/by/4.0/",
            "http://dcat-ap.de/def/licenses/cc-by/4.0",
        ),
        (None, None),
    ],
)
def test_licences(value, expected):
    assert metadata.canonical_license(value) == expected


def test_themes_tags_and_text_are_cleaned():
    assert metadata.canonical_themes(
        [
            "soci",
            "https://publications.europa.eu/resource/authority/data-theme/REGI/",
            "Bevölkerung",
            "SOCI",
        ]
    ) == [metadata.THEME_BASE + "SOCI", metadata.THEME_BASE + "REGI"]
    assert metadata.clean_tags(["Bevölkerung", "a", "Wahl/Ergebnis", "bevölkerung", "x" * 200]) == [
        {"name": "Bevölkerung"},
        {"name": "Wahl Ergebnis"},
        {"name": "x" * 100},
    ]  # CKAN's tag length limit
    assert metadata.clean_text("Titel\x00\x07 mit <b>HTML</b> ", 100) == "Titel mit <b>HTML</b>"


def test_dataset_name_is_stable_and_unique_per_source():
    one = SourceDataset(guid="ckan:daten.rlp.de:1", name="Einwohner Ortsbezirke Mainz", title="x")
    two = SourceDataset(guid="ckan:daten.rlp.de:2", name="Einwohner Ortsbezirke Mainz", title="x")
    assert metadata.dataset_name("mainz", one) == metadata.dataset_name("mainz", one)
    assert metadata.dataset_name("mainz", one) != metadata.dataset_name("mainz", two)
    assert metadata.dataset_name("mainz", one).startswith("mainz-einwohner-ortsbezirke-mainz-")


def test_differs_compares_what_ckan_stores():
    desired = {
        "title": "T",
        "tags": [{"name": "b"}, {"name": "a"}],
        "owner_org": "mainz",
        "contact": [{"name": "Statistik", "email": ""}],
    }
    stored = {
        "title": "T",
        "tags": [{"name": "a", "id": "1"}, {"name": "b", "id": "2"}],
        "organization": {"name": "mainz"},
        "contact": [{"name": "Statistik", "email": None, "url": ""}],
    }
    assert metadata.differs(desired, stored) == []
    assert metadata.differs(dict(desired, title="U"), stored) == ["title"]
