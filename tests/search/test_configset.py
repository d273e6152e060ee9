"""The Solr configset generator: CKAN's schema plus our diff, and a word list of atoms.

scripts/solr/configset.py writes the conf directory every Solr of the project uses (local
stack, tests, Docker image); these tests run it into a temporary directory.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("configset", ROOT / "scripts/solr/configset.py")
configset = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(configset)


@pytest.fixture(scope="module")
def conf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("conf")
    assert configset.main([str(out)]) == 0
    return out


def test_the_conf_directory_is_complete(conf):
    names = {p.name for p in conf.iterdir()}
    assert names == {
        "schema.xml",
        "solrconfig.xml",
        "stopwords_de.txt",
        "synonyms_de.txt",
        "synonym_words_de.txt",
        "compounds_de.txt",
        "hyphenation_de.xml",
        "synonyms.txt",
        "protwords.txt",
    }


def test_schema_is_ckans_file_with_lines_added_only(conf):
    ckan = configset.ckan_schema_path().read_text(encoding="utf-8").splitlines()
    ours = (conf / "schema.xml").read_text(encoding="utf-8").splitlines()
    changes = {op for op, *_ in difflib.SequenceMatcher(None, ckan, ours).get_opcodes()}
    assert changes == {"equal", "insert"}


def test_a_changed_ckan_schema_stops_the_build(tmp_path, capsys):
    changed = tmp_path / "schema.xml"
    text = configset.ckan_schema_path().read_text(encoding="utf-8")
    changed.write_text(text.replace('name="title" type="text"', 'name="title" type="string"'))
    assert configset.main([str(tmp_path / "out"), "--ckan-schema", str(changed)]) == 1
    assert "is not the file schema-german.xml was written against" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_compound_dictionary_holds_atoms_not_compounds_or_short_words(conf):
    lines = (conf / "compounds_de.txt").read_text(encoding="utf-8").splitlines()
    words = {line for line in lines if not line.startswith("#")}
    assert len(words) > 10_000  # hunspell's nouns are in
    atoms = {"einwohner", "zahl", "wahl", "stadtrat", "bevölkerung", "entwicklung", "quote"}
    assert atoms <= words
    compounds = {"einwohnerzahl", "bevölkerungsdichte", "kommunalwahl", "wahlergebnisse"}
    assert not compounds & words
    assert not {"haus", "halt", "volk", "völker", "erzählen"} & words  # junk as parts
    assert not {"kindergarten", "kinderbetreuung", "schaft", "lunge"} & words
    # our civic words, and the plurals whose consonant starts the last syllable
    assert {"park", "kinder", "arzt", "müll", "haltestelle", "bürgerschaft"} <= words
    assert {"einrichtungen", "entwicklungen"} <= words


def test_the_hyphenation_patterns_are_lucenes_xml(conf):
    root = ET.parse(conf / "hyphenation_de.xml").getroot()
    assert root.tag == "hyphenation-info"
    assert "äÄ" in root.find("classes").text.split()
    patterns = root.find("patterns").text.split()
    assert len(patterns) > 5000
    assert all(re.fullmatch(r"[.\w\d]+", p) for p in patterns)
    assert "NEXTLEVEL" not in patterns  # the syllable level of libhyphen's two


def test_missing_hyphenation_patterns_stop_the_build(tmp_path, capsys):
    out = tmp_path / "out"
    assert configset.main([str(out), "--hyphen", str(tmp_path / "none.dic")]) == 1
    assert "install the Debian package hyphen-de" in capsys.readouterr().err


def test_the_synonyms_file_is_written_from_the_contract(conf):
    text = (conf / "synonyms_de.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert any(line.startswith("einwohner, ") and "population" in line for line in lines)
    assert not any(item == "haushalt" for line in lines for item in line.split(", "))
    words = (conf / "synonym_words_de.txt").read_text(encoding="utf-8").splitlines()
    assert {"einwohnerzahl", "stadtratswahl", "haushalt", "unemployment", "rate"} <= set(words)


def test_stock_is_ckans_schema_as_it_is(tmp_path):
    assert configset.main([str(tmp_path), "--stock"]) == 0
    assert (tmp_path / "schema.xml").read_bytes() == configset.ckan_schema_path().read_bytes()
    assert (tmp_path / "solrconfig.xml").read_text() == configset.SOLRCONFIG.read_text()
