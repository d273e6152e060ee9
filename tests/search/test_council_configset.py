"""The council core's configset: its own fields, the catalogue's German types, one source.

``scripts/solr/configset.py --council`` writes the conf of the ``council`` cores; its German
types must be the very text of ``schema-german.xml`` (one home for the analysis), and the
test core ``council_test`` (as scripts/test builds it) must analyse council words with them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from ckanext.vierstaedte.council import index

ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = Path(os.environ.get("VIERSTAEDTE_STACK_DIR", ROOT / ".stack"))
_spec = importlib.util.spec_from_file_location("configset", ROOT / "scripts/solr/configset.py")
configset = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(configset)


@pytest.fixture(scope="module")
def conf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("council-conf")
    assert configset.main([str(out), "--council"]) == 0
    return out


def _types(xml: str) -> dict[str, str]:
    root = ET.fromstring(xml.encode("utf-8"))
    return {t.get("name"): ET.tostring(t, encoding="unicode") for t in root.iter("fieldType")}


def test_the_council_conf_has_the_word_lists_and_no_ckan_files(conf):
    names = {p.name for p in conf.iterdir()}
    assert names == {
        "schema.xml",
        "solrconfig.xml",
        "stopwords_de.txt",
        "synonyms_de.txt",
        "synonym_words_de.txt",
        "compounds_de.txt",
        "hyphenation_de.xml",
    }
    words = (conf / "compounds_de.txt").read_text(encoding="utf-8").splitlines()
    assert "radverkehr" in words  # a civic word: "Radverkehrskonzept" holds it


def test_its_german_types_are_the_catalogues_own(conf):
    schema = (conf / "schema.xml").read_text(encoding="utf-8")
    diff = configset.DIFF.read_text(encoding="utf-8")
    german = re.search(r"<types>(.*?)</types>", diff, re.DOTALL).group(1)
    ours = _types(schema)
    for name, text in _types(f"<types>{german}</types>").items():
        assert ours[name] == text, name
    root = ET.fromstring(schema.encode("utf-8"))
    fields = {f.get("name"): f.get("type") for f in root.iter("field")}
    assert root.findtext("uniqueKey") == "id"
    assert {fields[f] for f in ("title", "text", "file_text")} == {"text_de"}
    assert fields["title_exact"] == fields["text_exact"] == "text_exact"
    assert fields["spell"] == "text_spell"  # solrconfig.xml's spellcheck field exists here too


def test_a_council_schema_without_the_types_marker_stops_the_build(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "schema-council.xml"
    broken.write_text(configset.COUNCIL.read_text(encoding="utf-8").replace("go here", "gone"))
    monkeypatch.setattr(configset, "COUNCIL", broken)
    assert configset.main([str(tmp_path / "out"), "--council"]) == 1
    assert "expected the types marker once" in capsys.readouterr().err


def test_the_council_test_core_splits_council_compounds():
    password = (STACK_DIR / "secrets" / "solr-admin-password").read_text().strip()
    response = requests.get(
        index.solr_url().rstrip("/") + "/analysis/field",
        params={"analysis.fieldname": "title", "analysis.fieldvalue": "Radverkehrskonzepte"},
        auth=("admin", password),
        timeout=30,
    )
    response.raise_for_status()
    stages = response.json()["analysis"]["field_names"]["title"]["index"]
    assert {t["text"] for t in stages[-1]} == {"radverkehrskonzept", "radverkehr", "konzept"}
