"""The demo's source files read a second time, independently of the harvester and the extension.

``bench/ai_eval.py`` checks the tools against values computed here from the CSV files under
``demo/payloads/files/``: a small reader of its own (csv module, German numbers, stacked
headers), the meaning of each column and row written down in ``bench/ai_questions.yaml``, and
the contract's published vocabularies (indicator units, area names) read as data. Nothing here
imports the harvester or the extension, so a bug there cannot hide in the expectations.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAYLOADS = ROOT / "demo" / "payloads"
CONTRACT = ROOT / "schemas" / "vierstaedte_contract" / "data"
BREAKDOWN = ("sex", "age_group", "nationality")
# markers of official statistics: no number, and never zero (docs/normalisation.md)
MISSING = {"", ".", "-", "–", "…", "/"}
CONFIDENTIAL = {"x", "*", "geheim"}


class SourceError(ValueError):
    """The question set says something the source files do not."""


def german_number(text: str) -> tuple[float | int | None, str]:
    """``111.316`` → 111316, ``72,19`` → 72.19; a marker gives ``None`` and its status."""
    cell = text.strip().strip('"').strip()
    if cell in MISSING:
        return None, "missing"
    if cell.lower() in CONFIDENTIAL:
        return None, "confidential"
    if not re.fullmatch(r"-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?", cell):
        raise SourceError(f"not a German number: {text!r}")
    whole, _, decimals = cell.replace(".", "").partition(",")
    return (float(f"{whole}.{decimals}") if decimals else int(whole)), "reported"


def german_date(text: str) -> str:
    day, month, year = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*", text).groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def area_key(text: str) -> str:
    """Case, umlauts, dashes, slashes and spaces do not matter."""
    text = text.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text)


def areas(city: str) -> dict[str, dict[str, str]]:
    """Every spelling of the city's areas (name, aliases) → its level, code and name."""
    found = {}
    with open(CONTRACT / "areas" / f"{city}.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            entry = {"level": row["level"], "code": row["code"], "name": row["name"]}
            for spelling in [row["name"], *filter(None, row["aliases"].split("|"))]:
                found[area_key(spelling)] = entry
    return found


def area_of(city: str, label: str) -> dict[str, str]:
    """The area a row label names; ``01 Altstadt`` must agree in code and name."""
    code, name = re.fullmatch(r"(?:(\d+)\s+)?(.*)", label.strip()).groups()
    entry = areas(city).get(area_key(name))
    if entry is None or (code and entry["code"] != code):
        raise SourceError(f"{city}: row {label!r} is no known area")
    return entry


def indicator_units() -> dict[str, str]:
    with open(CONTRACT / "indicators.csv", encoding="utf-8", newline="") as handle:
        return {row["id"]: row["unit"] for row in csv.DictReader(handle)}


def labels() -> dict[str, dict[str, list[str]]]:
    """Words that name an indicator or a unit in each language (the contract's vocabularies)."""
    found: dict[str, dict[str, list[str]]] = {}
    for name in ("indicators.csv", "units.csv"):
        with open(CONTRACT / name, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                symbols = [s for s in row.get("symbols", "").split("|") if s]
                found[row["id"]] = {
                    "de": [row["label_de"], *symbols],
                    "en": [row["label_en"], *symbols],
                }
    return found


def city_titles() -> dict[str, dict[str, str]]:
    import json

    data = json.loads((CONTRACT / "cities.json").read_text(encoding="utf-8"))
    return {c["name"]: c for c in data["cities"]}


@dataclass
class Table:
    """One source file as row label → column label → cell text, and the lines above it."""

    above: list[str]
    columns: list[str]
    rows: dict[str, dict[str, str]] = field(default_factory=dict)


def read_table(path: Path, header: str, header_rows: int = 1) -> Table:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    start = next(i for i, line in enumerate(lines) if line and line[0].strip() == header)
    top = lines[start]
    if header_rows == 2:
        filled, last = [], ""
        for cell in top:
            last = cell.strip() or last
            filled.append(last)
        bottom = lines[start + 1]
        columns = [f"{t} {b.strip()}".strip() for t, b in zip(filled, bottom, strict=False)]
        columns[0] = header
    else:
        columns = [c.strip() for c in top]
    table = Table([";".join(line) for line in lines[:start]], columns)
    for line in lines[start + header_rows :]:
        if line and line[0].strip():
            table.rows[line[0].strip()] = dict(zip(columns, line, strict=False))
    return table


def _delimiter(text: str) -> str:
    first = text.splitlines()[0]
    return ";" if text.count(";") >= text.count(",") or ";" in first else ","


@dataclass
class Cell:
    """One expected value: what the source's cell says, and what it means."""

    source: str
    row: str
    column: str
    value: float | int | None
    status: str
    indicator: str
    unit: str
    period: str
    area: dict[str, str]
    breakdown: dict[str, str]
    city: str


class Sources:
    """The sources of ``bench/ai_questions.yaml`` and the meaning of their cells."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.tables = {
            key: read_table(
                PAYLOADS / "files" / s["file"], s["read"]["header"], s["read"].get("header_rows", 1)
            )
            for key, s in spec.items()
        }
        self.units = indicator_units()
        self.cities = city_titles()

    def check_metadata(self) -> None:
        """Each source's title and licence as its catalogue (manifest, CKAN, DCAT) states them."""
        for key, source in self.spec.items():
            title, licence = stated_metadata(source["stated_in"], source["file"])
            if title != source["title"] or not licence.replace("_", ".").endswith(
                source["licence"]
            ):
                raise SourceError(f"{key}: catalogue says {title!r} / {licence!r}")

    def cell(self, source: str, row: str, column: str) -> Cell:
        spec, table = self.spec[source], self.tables[source]
        if row not in table.rows or column not in table.rows[row]:
            raise SourceError(f"{source}: no cell {row!r} × {column!r}")
        meaning = dict(spec["columns"].get(column) or {})
        if not meaning.get("indicator"):
            raise SourceError(f"{source}: column {column!r} holds no value")
        row_meaning = (spec.get("rows") or {}).get(row, {})
        value, status = german_number(table.rows[row][column])
        indicator = meaning.pop("indicator")
        unit = meaning.pop("unit")
        if self.units.get(indicator) != unit:
            raise SourceError(
                f"{source}: {indicator} is in {self.units.get(indicator)}, not {unit}"
            )
        period = self._period(source, row, column, meaning.pop("period", None))
        city = spec["city"]
        if "area" in spec:
            area = area_of(city, spec["area"])
        else:
            area = area_of(city, row)
        breakdown = {k: "total" for k in BREAKDOWN}
        breakdown.update({k: str(v) for k, v in {**meaning, **row_meaning}.items()})
        return Cell(
            source, row, column, value, status, indicator, unit, period, area, breakdown, city
        )

    def _period(self, source: str, row: str, column: str, stated: str | None) -> str:
        rule = self.spec[source]["period"]
        if stated:
            return str(stated)
        if "value" in rule:
            return str(rule["value"])
        if "column" in rule:
            return german_date(self.tables[source].rows[row][rule["column"]])
        if "header" in rule:
            return re.search(rule["header"], column).group(1)
        title = "\n".join(self.tables[source].above)
        return german_date(re.search(rule["title"], title).group(1))

    def value_cells(self, source: str) -> list[Cell]:
        """Every cell of the source that holds a value (the rows a normalised table has)."""
        spec, table = self.spec[source], self.tables[source]
        rows = list(spec["rows"]) if spec.get("rows") else list(spec["area_rows"])
        return [
            self.cell(source, row, column)
            for row in rows
            for column in table.columns
            if (spec["columns"].get(column) or {}).get("indicator")
        ]


def stated_metadata(stated_in: str, file: str) -> tuple[str, str]:
    """Title and licence of the catalogue entry whose download is ``file``."""
    path = PAYLOADS / stated_in
    if path.suffix == ".yaml":
        for dataset in yaml.safe_load(path.read_text(encoding="utf-8"))["datasets"]:
            if any(f["url"].endswith("/files/" + file) for f in dataset["files"]):
                return dataset["title"], dataset["license"]
    elif path.suffix == ".json":
        import json

        dataset = json.loads(path.read_text(encoding="utf-8"))
        dataset = dataset.get("result", dataset)
        if any(r["url"].endswith("/files/" + file) for r in dataset["resources"]):
            return dataset["title"], dataset["license_id"]
    else:
        ns = {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        }
        resource = f"{{{ns['rdf']}}}resource"
        for dataset in ET.parse(path).getroot().iter(f"{{{ns['dcat']}}}Dataset"):
            urls = [e.get(resource, "") for e in dataset.iter(f"{{{ns['dcat']}}}downloadURL")]
            if any(u.endswith("/files/" + file) for u in urls):
                licence = dataset.find("dct:license", ns).get(resource)
                return dataset.find("dct:title", ns).text, licence
    raise SourceError(f"{stated_in} names no dataset with the file {file}")
