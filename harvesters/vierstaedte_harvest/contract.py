"""The data contract from ``schemas/``: Table Schema, indicators, units, area lists."""
from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

import vierstaedte_schemas
from vierstaedte_harvest.german import TOTAL_WORDS, name_key

SCHEMA_VERSION = vierstaedte_schemas.SCHEMA_VERSION
# the rule of every CSV we publish (the portal's comparison CSV: ckanext…logic.indicators)
_FORMULA = re.compile(r"^(\s*[=+\-@]|[\t\r])")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")
CITIES = {"mainz": "07315000", "trier": "07211000", "koblenz": "07111000", "ludwigshafen": "07314000"}


@functools.cache
def spreadsheet_safe(text: str) -> str:
    """Source text a spreadsheet would run as a formula (``=HYPERLINK(…)``) gets a leading apostrophe.

    For the free-text fields that come from a city's headers or cells (``source_column``,
    ``dimension_value``), so no CSV we publish carries a formula: text whose first non-blank
    character is ``= + - @``, or that starts with a tab or CR. Text that is only a plain number
    (``-3.5``) cannot run and stays; the value column holds numbers and is never touched.
    """
    return "'" + text if _FORMULA.match(text) and not _PLAIN_NUMBER.match(text) else text


def table_schema() -> dict[str, Any]:
    descriptor = json.loads(vierstaedte_schemas.path("city-statistics.schema.json").read_text(encoding="utf-8"))
    if descriptor["version"] != SCHEMA_VERSION:
        raise RuntimeError(f"schema file says {descriptor['version']}, package says {SCHEMA_VERSION}")
    from vierstaedte_harvest.validate import check_descriptor

    check_descriptor(descriptor)
    return descriptor


def field_names() -> list[str]:
    return [f["name"] for f in table_schema()["fields"]]


def _read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def _base_indicators() -> dict[str, dict[str, str]]:
    rows = _read_csv(vierstaedte_schemas.path("indicators.csv").read_text(encoding="utf-8"))
    return {row["id"]: row for row in rows}


@functools.cache
def units() -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in _read_csv(vierstaedte_schemas.path("units.csv").read_text(encoding="utf-8"))}


def indicators(extra: Path | None = None) -> dict[str, dict[str, str]]:
    """The indicator vocabulary, plus a city's own additions from ``extra`` (same columns)."""
    result = dict(_base_indicators())
    if extra is not None:
        for row in _read_csv(Path(extra).read_text(encoding="utf-8")):
            if row["unit"] not in units():
                raise ValueError(f"{extra}: indicator {row['id']!r} has unknown unit {row['unit']!r}")
            result[row["id"]] = row
    return result


_CODE_AND_NAME = re.compile(r"^(\d{1,4})\s+(\D.*)$")


@dataclasses.dataclass(frozen=True)
class Area:
    level: str
    code: str
    name: str


class AreaResolver:
    """Resolves area spellings against a city's reference list; unknown names stay unknown."""

    def __init__(self, city: str):
        if city not in CITIES:
            raise ValueError(f"unknown city {city!r}; expected one of {', '.join(CITIES)}")
        self.city = city
        text = vierstaedte_schemas.path(f"areas/{city}.csv").read_text(encoding="utf-8")
        self.areas = [Area(r["level"], r["code"], r["name"]) for r in _read_csv(text)]
        self._by_key: dict[tuple[str, str], Area] = {}
        for row, area in zip(_read_csv(text), self.areas):
            for spelling in [area.name, area.code, *filter(None, row["aliases"].split("|"))]:
                if spelling:
                    self._by_key[(area.level, name_key(spelling))] = area
        self.city_area = next(a for a in self.areas if a.level == "stadt")
        for word in TOTAL_WORDS:
            self._by_key.setdefault(("stadt", name_key(word)), self.city_area)

    def resolve(self, value: str, level: str) -> Area | None:
        """The area called ``value`` at ``level``; a city total is accepted at any level.

        ``01 Altstadt`` (code and name in one cell) resolves only when both agree.
        """
        prefixed = _CODE_AND_NAME.match(str(value).strip())
        if prefixed:
            area = self.resolve(prefixed[2], level)
            return area if area is not None and area.code.lstrip("0") == prefixed[1].lstrip("0") else None
        key = name_key(value)
        code_key = key.lstrip("0") if key.isdigit() else None
        found = self._by_key.get((level, key)) or self._by_key.get(("stadt", key))
        if found is None and code_key is not None:  # "1" for code "01"
            found = next((a for a in self.areas if a.level == level and a.code.lstrip("0") == code_key), None)
        return found

    def resolve_series(self, values: pd.Series, level: str) -> tuple[pd.DataFrame, dict[str, int]]:
        """Vectorised over distinct values: columns area_level, area_code, area_name; plus unknowns."""
        codes, uniques = pd.factorize(values.astype(str), sort=False)
        resolved = [self.resolve(u, level) for u in uniques]
        table = pd.DataFrame(
            [(a.level, a.code, a.name) if a else (None, None, None) for a in resolved],
            columns=["area_level", "area_code", "area_name"],
        )
        frame = table.iloc[codes].set_index(values.index)
        unknown = {u: int((codes == i).sum()) for i, (u, a) in enumerate(zip(uniques, resolved)) if a is None}
        return frame, unknown
