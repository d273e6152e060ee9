"""OParl object types, object keys and council limits (``vierstaedte_contract.council``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from vierstaedte_contract import council, runs

REAL_OPARL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real" / "oparl"


def test_type_of_reads_both_versions_and_every_type():
    for short in council.OBJECT_TYPES:
        name = short[0].upper() + short[1:]
        for prefix in ("https://schema.oparl.org/1.1/", "https://schema.oparl.org/1.0/"):
            assert council.type_of({"type": prefix + name}) == short
    assert council.type_of({"type": "https://oparl.org/schema/1.0/AgendaItem"}) == "agendaItem"
    assert council.type_of({"type": "https://schema.oparl.org/1.1/legislativeterm"}) == (
        "legislativeTerm"
    )


def test_type_of_is_none_without_an_oparl_type():
    for obj in ({}, {"type": None}, {"type": 3}, {"type": "Feature"}, {"type": ""}, [], None):
        assert council.type_of(obj) is None


def test_type_of_over_the_real_payloads():
    """Every object of the real systems and the spec's examples has a type we know, and the
    GeoJSON inside a Location (``Feature``, ``Point``) is not taken for one."""
    seen = set()
    for path in sorted(REAL_OPARL.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "oparl" in str(document.get("type", "")):
            assert council.type_of(document) in council.OBJECT_TYPES, path
            seen.add(council.type_of(document))
    assert {"system", "body", "paper", "meeting", "file", "location"} <= seen
    assert council.type_of({"type": "Point"}) is None


def test_object_key_is_short_stable_and_distinct():
    oparl_id = "https://ratsinfo.example/oparl/paper/4711"
    assert council.object_key(oparl_id) == hashlib.sha256(oparl_id.encode()).hexdigest()[:16]
    assert len(council.object_key(oparl_id)) == 16
    assert council.object_key(oparl_id) != council.object_key(oparl_id + "2")
    assert (
        council.object_key("https://x.example/ö")
        == (hashlib.sha256("https://x.example/ö".encode()).hexdigest()[:16])
    )


def test_limits_and_statuses():
    assert council.BATCH_MAX == 200 and council.TEXT_MAX_CHARS >= 100_000
    assert council.FILE_TEXT_STATUSES[0] == "ok" and "empty" in council.FILE_TEXT_STATUSES
    assert len(set(council.FILE_TEXT_STATUSES)) == 7


def test_run_kinds():
    assert runs.RUN_KINDS == (runs.CATALOGUE, runs.COUNCIL) == ("catalogue", "council")
