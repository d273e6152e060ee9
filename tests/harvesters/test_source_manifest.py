"""A manifest can say everything a catalogue says, and the table of its keys in docs/harvesters.md
is the reader's own list: a key documented but refused, or read but undocumented, fails here."""

from __future__ import annotations

import re

import pytest

from tests.harvesters.doctables import ROOT, marked_table
from vierstaedte_harvest import metadata
from vierstaedte_harvest.sources import SourceError, manifest, reader

FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
GEO = "http://dcat-ap.de/def/politicalGeocoding/"
FULL = f"""datasets:
  - id: wahlergebnisse
    title: Wahlergebnisse
    description: Ergebnisse je Wahlbezirk
    license: dl-by-de/2.0
    themes: [GOVE]
    tags: [Wahl]
    modified: 2024-06-10
    issued: 2019-05-27
    landing_page: https://www.koblenz.de/wahlen/
    temporal_start: 2024-06-09
    temporal_end: 2024-06-09
    frequency: IRREG
    spatial_granularity: wahlbezirk
    geocoding: [{GEO}municipalityKey/07111000]
    geocoding_level: {GEO}Level/municipality
    publisher: Stadt Koblenz – Wahlamt
    publisher_uri: https://www.koblenz.de/
    contact_name: Wahlamt
    contact_email: wahlamt@stadt.koblenz.de
    files:
      - url: https://www.koblenz.de/wahlen/ergebnis.csv
        name: Ergebnis
        format: CSV
        modified: 2024-06-10
"""


def read_manifest(tmp_path, fetcher, text):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return list(reader("manifest")(fetcher, manifest.Settings(path=str(path), city="koblenz")))


def test_every_catalogue_field_of_a_manifest_reaches_the_portal(tmp_path, fetcher):
    [entry] = read_manifest(tmp_path, fetcher, FULL)
    assert entry.frequency == "IRREG"
    assert entry.political_geocoding == [GEO + "municipalityKey/07111000"]
    assert entry.political_geocoding_level == GEO + "Level/municipality"
    assert (entry.publisher_uri, entry.spatial_granularity) == (
        "https://www.koblenz.de/",
        "wahlbezirk",
    )
    problems, defaulted = [], []
    data = metadata.dataset_dict(
        entry, "koblenz", {"frequency": "ANNUAL"}, "n", None, problems, defaulted
    )
    assert data["frequency"] == FREQUENCY + "IRREG"  # not the config's ANNUAL
    assert data["spatial_granularity"] == "wahlbezirk"
    assert data["political_geocoding_uri"] == GEO + "municipalityKey/07111000"
    assert data["publisher"] == [
        {"name": "Stadt Koblenz – Wahlamt", "uri": "https://www.koblenz.de/"}
    ]
    assert (defaulted, problems) == ([], [])


def test_a_value_the_portal_cannot_use_is_reported_then_defaulted(tmp_path, fetcher):
    text = FULL.replace("frequency: IRREG", "frequency: alle vier Jahre").replace(
        "spatial_granularity: wahlbezirk", "spatial_granularity: Wahlkreis"
    )
    [entry] = read_manifest(tmp_path, fetcher, text)
    problems, defaulted = [], []
    data = metadata.dataset_dict(
        entry, "koblenz", {"frequency": "ANNUAL"}, "n", None, problems, defaulted
    )
    assert (data["frequency"], data["spatial_granularity"]) == (FREQUENCY + "ANNUAL", "stadt")
    assert {d["field"] for d in defaulted} == {"frequency", "spatial_granularity"}
    messages = " | ".join(text for _, text in problems)
    assert "'alle vier Jahre'" in messages and "'Wahlkreis'" in messages


def test_an_unknown_key_still_stops_the_listing(tmp_path, fetcher):
    with pytest.raises(SourceError, match="unknown key.*frequenz"):
        read_manifest(tmp_path, fetcher, FULL.replace("frequency:", "frequenz:"))


@pytest.mark.parametrize(
    "marker, keys",
    [("dataset", manifest.DATASET_KEYS), ("file", manifest.FILE_KEYS)],
)
def test_the_documented_keys_are_the_keys_the_reader_takes(marker, keys):
    rows = marked_table(ROOT / "docs" / "harvesters.md", f"manifest: {marker}")
    documented = {key for row in rows for key in re.findall(r"`(\w+)`", row[0])}
    assert documented == set(keys)
