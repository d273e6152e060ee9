"""German search analysis in the real test Solr, through Solr's field analysis API.

The configset (scripts/solr/configset.py, docs/search.md) gives the catalogue's text German
analysis: compounds split into their parts, umlauts and ß normalised, plurals stemmed to their
singular, stop words dropped, the contract's synonyms at query time (German and English; the
ambiguous "Haushalt" expands to neither sense), and unstemmed copies for exact matches. Each
test asks the test core (``ckan_test``, as scripts/test builds it) what it makes of real words.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from ckan.common import config

ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack"))


@pytest.fixture(scope="module")
def solr() -> tuple[str, tuple[str, str]]:
    """The test core's URL and the admin's credentials: the analysis API is no search."""
    password = (STACK_DIR / "secrets" / "solr-admin-password").read_text().strip()
    return config["solr_url"].rstrip("/"), ("admin", password)


def analyse(solr, field: str, text: str, side: str = "index") -> set[str]:
    """The terms the field's index (or query) analyzer makes of text."""
    url, auth = solr
    response = requests.get(
        f"{url}/analysis/field",
        params={
            "analysis.fieldname": field,
            "analysis.fieldvalue": text,
            "analysis.query": text,
            "wt": "json",
        },
        auth=auth,
        timeout=30,
    )
    response.raise_for_status()
    stages = response.json()["analysis"]["field_names"][field][side]
    return {token["text"] for token in stages[-1]}


@pytest.mark.parametrize(
    ("compound", "terms"),
    [
        ("Einwohnerzahl", {"einwohnerzahl", "einwohn", "zahl"}),
        ("Stadtratswahl", {"stadtratswahl", "stadtrat", "wahl"}),
        ("Bevölkerungsentwicklung", {"bevolkerungsentwickl", "bevolker", "entwickl"}),
        ("Arbeitslosenquote", {"arbeitslosenquot", "arbeitslos", "quot"}),
        ("Wahlbeteiligung", {"wahlbeteil", "wahl", "beteil"}),
    ],
)
def test_a_compound_is_indexed_whole_and_as_its_parts_without_junk(solr, compound, terms):
    assert analyse(solr, "text_de", compound) == terms


def test_short_words_are_no_parts_of_longer_ones(solr):
    # hunspell's "Haus", "Halt", "Volk" are no subwords: they would be junk in these
    assert analyse(solr, "text_de", "Haushalt") == {"haushalt"}
    assert analyse(solr, "text_de", "Bevölkerung") == {"bevolker"}


@pytest.mark.parametrize(
    ("word", "parts", "junk"),
    [
        # the red team's held-out failures (/analysis/field): fragments inside syllables
        ("Kindergarten", {"kind", "gart"}, {"ind"}),
        ("Bushaltestelle", {"haltestell"}, {"stell"}),
        ("Parkanlagen", {"park", "anlag"}, set()),
        ("Migration", set(), {"ration"}),
        ("Verdienststrukturerhebung", {"verdien", "struktur", "erheb"}, {"dien", "heb"}),
        ("Bäckereien", {"backerei"}, {"ack"}),
        ("Kinderbetreuungseinrichtungen", {"kind", "betreu", "einricht"}, {"ind", "richt"}),
        ("Bürgerschaftswahl", {"burgerschaft", "wahl"}, {"schaft"}),
        ("Baumfällungen", set(), {"lung"}),
    ],
)
def test_parts_start_and_end_at_syllables(solr, word, parts, junk):
    terms = analyse(solr, "text_de", word)
    assert parts <= terms
    assert not junk & terms


@pytest.mark.parametrize(
    "spellings",
    [
        ("Bevölkerung", "Bevoelkerung", "BEVÖLKERUNG"),
        ("Straße", "Strasse"),
        ("Städte", "Staedte", "Stadt"),
        ("Größe", "Groesse"),
    ],
)
def test_umlauts_and_sharp_s_are_normalised(solr, spellings):
    assert len({frozenset(analyse(solr, "text_de", s)) for s in spellings}) == 1


@pytest.mark.parametrize(
    "forms",
    [
        ("Wahl", "Wahlen"),
        ("Ergebnis", "Ergebnisse"),
        ("Einwohner", "Einwohnern"),
        ("Haushalt", "Haushalte"),
        ("Stadtteil", "Stadtteile", "Stadtteilen"),
        ("Partei", "Parteien"),
        ("Jahr", "Jahre", "Jahres"),
    ],
)
def test_plurals_and_cases_meet_the_singular(solr, forms):
    assert len({frozenset(analyse(solr, "text_de", f)) for f in forms}) == 1


def test_german_stop_words_are_dropped(solr):
    terms = analyse(solr, "text_de", "Die Einwohner der Stadt und ihre Wahl")
    assert terms == {"einwohn", "stadt", "wahl"}


def test_synonyms_expand_the_query_not_the_index(solr):
    assert analyse(solr, "text_de", "Einwohner") == {"einwohn"}
    query = analyse(solr, "text_de", "Einwohnerzahl", "query")
    assert {"einwohn", "bevolker", "population", "inhabitant"} <= query
    query = analyse(solr, "text_de", "Wahl", "query")
    assert {"wahl", "kommunalwahl", "stadtratswahl", "election"} <= query
    query = analyse(solr, "text_de", "Arbeitslosigkeit", "query")
    assert {"arbeitslos", "arbeitslosenquot", "unemployment"} <= query


def test_english_words_find_the_german_ones(solr):
    assert {"einwohn", "bevolker"} <= analyse(solr, "text_de", "population", "query")
    assert {"wahl", "wahlergebnis"} <= analyse(solr, "text_de", "elections", "query")
    assert {"arbeitslos"} <= analyse(solr, "text_de", "unemployment", "query")


def test_a_compound_query_is_split_but_a_synonym_is_not(solr):
    query = analyse(solr, "text_de", "Bevölkerungsstatistik", "query")
    assert query == {"bevolkerungsstatist", "bevolker", "statist"}
    # "Einwohnerzahl" is a synonym: its group is what it means, its part "zahl" would be junk
    assert "zahl" not in analyse(solr, "text_de", "Einwohnerzahl", "query")
    assert "zahl" not in analyse(solr, "text_de", "Einwohner", "query")


def test_haushalt_alone_expands_to_neither_sense(solr):
    assert analyse(solr, "text_de", "Haushalt", "query") == {"haushalt"}
    households = analyse(solr, "text_de", "Haushalte", "query")
    assert {"privathaushalt", "household"} <= households
    assert not {"etat", "budget"} & households
    budget = analyse(solr, "text_de", "Haushaltsplan", "query")
    assert {"etat", "budget"} <= budget
    assert not {"household", "privathaushalt"} & budget


def test_a_general_word_finds_the_specific_ones_a_specific_one_not_its_siblings(solr):
    wahl = analyse(solr, "text_de", "Wahl", "query")
    assert {"stadtratswahl", "ortsbeiratswahl", "bundestagswahl", "europawahl"} <= wahl
    local = analyse(solr, "text_de", "Kommunalwahl", "query")
    assert {"stadtratswahl", "ortsbeiratswahl"} <= local
    assert not {"bundestagswahl", "europawahl"} & local
    ortsbeirat = analyse(solr, "text_de", "Ortsbeiratswahl", "query")
    assert "ortsbeiratswahl" in ortsbeirat
    # ("wahl", "election" come only inside its own phrases: "Wahl zum Ortsbeirat", …)
    assert not {"stadtratswahl", "kommunalwahl", "bundestagswahl", "elections"} & ortsbeirat
    stadtrat = analyse(solr, "text_de", "Stadtratswahl", "query")
    assert "gemeinderatswahl" in stadtrat
    assert not {"ortsbeiratswahl", "kommunalwahl", "elections"} & stadtrat
    bus = analyse(solr, "text_de", "Bus", "query")
    assert not {"strassenbahn", "opnv", "nahverkehr"} & bus
    assert {"bus", "strassenbahn"} <= analyse(solr, "text_de", "ÖPNV", "query")


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ("Kita", {"kindertagesstatt", "kindergart"}),
        ("Kindergarten", {"kita"}),
        ("Müll", {"abfall"}),
        ("WC", {"toilett"}),
        ("Ampel", {"lichtsignalanlag"}),
        ("Flüchtlinge", {"gefluchtet", "asylbewerb", "schutzsuch"}),
        ("Babynamen", {"vornam"}),
        ("PLZ", {"postleitzahl"}),
        ("Gehalt", {"einkomm", "verdien"}),
        ("schools", {"schul"}),
        ("hospital", {"krankenhaus"}),
        ("waste", {"mull", "abfall"}),
        ("Altersgruppe", {"altersgrupp", "altersklass"}),
        ("Grüne", {"bundnis", "grun"}),
    ],
)
def test_everyday_and_english_words_find_the_offices_words(solr, query, finds):
    assert finds <= analyse(solr, "text_de", query, "query")


@pytest.mark.parametrize("field", ["text_exact", "title_exact", "spell"])
def test_exact_fields_are_lowercased_only(solr, field):
    text = "Wahlergebnisse der Stadtratswahl, Einwohnerzahl der Städte"
    expected = {"wahlergebnisse", "der", "stadtratswahl", "einwohnerzahl", "städte"}
    if field != "spell":  # stop words would make "Ausländer in Koblenz" match "Kitas in Koblenz"
        expected.remove("der")
    assert analyse(solr, field, text) == expected
    assert analyse(solr, field, text, "query") == expected


@pytest.mark.parametrize(
    "field", ["title_de", "vs_indicator", "vs_area", "vs_party", "vs_period", "vs_city"]
)
def test_title_and_vocabulary_fields_are_german(solr, field):
    assert analyse(solr, field, "Bevölkerungsentwicklung in den Stadtteilen") == {
        "bevolkerungsentwickl",
        "bevolker",
        "entwickl",
        "stadtteil",
    }


def test_the_fields_are_copied_into_the_search_fields(solr):
    url, auth = solr
    response = requests.get(
        f"{url}/schema/copyfields", params={"wt": "json"}, auth=auth, timeout=30
    )
    response.raise_for_status()
    copies = {(c["source"], c["dest"]) for c in response.json()["copyFields"]}
    sources = ["title", "notes", "tags", "res_name", "res_description", "organization"]
    sources += ["vs_indicator", "vs_area", "vs_party", "vs_period", "vs_city"]
    for source in sources:
        for dest in ("text_de", "text_exact", "spell"):
            assert (source, dest) in copies, f"{source} is not copied into {dest}"
    assert {("title", "title_de"), ("title", "title_exact")} <= copies
    assert ("title", "text") in copies  # CKAN's own copies stay


@pytest.mark.usefixtures("clean_index")
def test_spellcheck_suggests_the_indexed_word_for_a_typo(solr):
    url, _ = solr
    app_user = (config["solr_user"], config["solr_password"])
    docs = [
        {
            "index_id": f"spell-{n}",
            "id": f"spell-{n}",
            "site_id": config["ckan.site_id"],
            "title": t,
        }
        for n, t in enumerate(["Bevölkerung nach Stadtteilen", "Einwohner mit Nebenwohnsitz"])
    ]
    requests.post(
        f"{url}/update", params={"commit": "true"}, json=docs, auth=app_user, timeout=30
    ).raise_for_status()
    for typo, word in (("Bevölkrung", "bevölkerung"), ("Eimwohner", "einwohner")):
        response = requests.get(
            f"{url}/select",
            params={
                "q": typo,
                "defType": "edismax",
                "qf": "text_de",
                "spellcheck": "true",
                "spellcheck.q": typo,
                "spellcheck.collate": "true",
                "wt": "json",
            },
            auth=app_user,
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        assert body["response"]["numFound"] == 0
        suggestions = body["spellcheck"]["suggestions"]
        assert suggestions[0] == typo.lower()
        assert suggestions[1]["suggestion"][0] == word
        assert body["spellcheck"]["collations"] == ["collation", word]
