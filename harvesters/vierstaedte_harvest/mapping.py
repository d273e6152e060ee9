"""Declarative per-source mappings (YAML): which column is what in the common schema.

A mapping never contains code. Example (a wide table, one column per year)::

    id: mainz-einwohner-ortsbezirke
    city: mainz
    area: {column: Ortsbezirk, level: ortsbezirk}
    values:
      - match: '(?P<period>\\d{4})'
        indicator: population_total

Header matching is on the normalised header (single spaces, NFC); ``match``
is a full-match regular expression whose named groups (``period``, ``sex``,
``age_group``, ``nationality``, ``dimension_value``) fill those fields.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from vierstaedte_contract import cities, vocabularies
from vierstaedte_harvest.german import normalise_header, parse_period
from vierstaedte_harvest.reading import ReadOptions
from vierstaedte_harvest.settings import suggestion
from vierstaedte_harvest.units import UnitError, declared

DIMENSIONS = ("sex", "age_group", "nationality")
GROUPS = {"period", "dimension_value", *DIMENSIONS}
LEVELS = ("stadt", "ortsbezirk", "stadtteil", "statistischer_bezirk", "wahlbezirk", "baublock")


class MappingError(ValueError):
    """The mapping itself is wrong; the message says where."""


@dataclasses.dataclass
class ValueRule:
    indicator: str
    unit: str | None  # the source's unit the mapping declares; None: the file says
    header: str | None = None
    pattern: re.Pattern | None = None
    fixed: dict[str, str] = dataclasses.field(
        default_factory=dict
    )  # sex, age_group, …, dimension, dimension_value, period
    number_format: str | None = None  # "de" | "en"; None: the column's content decides

    def matches(self, header: str) -> re.Match | bool | None:
        if self.header is not None:
            return header == self.header
        return self.pattern.fullmatch(header)


@dataclasses.dataclass
class Mapping:
    id: str
    city: str
    area_level: str
    area_column: str | None
    area_value: str | None
    period_column: str | None
    period_value: str | None
    dimension_columns: dict[str, str]  # field -> source column ("dimension_value" for the free one)
    dimension_name: str
    values: list[ValueRule]
    ignore: list[str]
    ignore_patterns: list[re.Pattern]
    unmapped: str
    read: ReadOptions
    indicators: dict[str, dict[str, str]]

    @property
    def ags(self) -> str:
        return cities.get(self.city).ags

    def is_ignored(self, header: str) -> bool:
        return header in self.ignore or any(p.fullmatch(header) for p in self.ignore_patterns)

    def rule_for(self, header: str) -> tuple[ValueRule, dict[str, str]] | None:
        for rule in self.values:
            match = rule.matches(header)
            if match:
                groups = match.groupdict() if isinstance(match, re.Match) else {}
                return rule, {k: v for k, v in groups.items() if v is not None}
        return None


def _get(data: dict[str, Any], key: str, kind: type, where: str, default: Any = ...) -> Any:
    if key not in data:
        if default is ...:
            raise MappingError(f"{where}: '{key}' is required")
        return default
    value = data[key]
    if not isinstance(value, kind):
        raise MappingError(f"{where}: '{key}' must be {kind.__name__}, not {type(value).__name__}")
    return value


def _check_keys(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed, key=str)
    if unknown:
        raise MappingError(
            f"{where}: unknown key(s) {', '.join(map(str, unknown))}"
            + suggestion(unknown[0], allowed)
            + f"; allowed: {', '.join(sorted(allowed))}"
        )


def parse(data: dict[str, Any], base_dir: Path | None = None) -> Mapping:
    if not isinstance(data, dict):
        raise MappingError("a mapping is a YAML mapping (key: value)")
    _check_keys(
        data,
        {
            "id",
            "city",
            "area",
            "period",
            "dimensions",
            "values",
            "ignore",
            "ignore_match",
            "unmapped",
            "read",
            "indicators",
            "number_format",
            "unit",
        },
        "mapping",
    )
    source = _get(data, "id", str, "mapping")
    where = f"mapping {source}"
    city = _get(data, "city", str, where)
    if cities.find(city) is None:
        raise MappingError(f"{where}: unknown city {city!r}; one of {', '.join(cities.names())}")
    extra = data.get("indicators")
    vocabulary = vocabularies.indicators((base_dir or Path(".")) / extra if extra else None)

    area = _get(data, "area", dict, where)
    _check_keys(area, {"column", "value", "level"}, f"{where}.area")
    level = _get(area, "level", str, f"{where}.area", "stadt")
    if level not in LEVELS:
        raise MappingError(f"{where}.area: level {level!r} is not one of {', '.join(LEVELS)}")
    if ("column" in area) == ("value" in area):
        raise MappingError(f"{where}.area: give exactly one of 'column' or 'value'")

    period = _get(data, "period", dict, where, {})
    _check_keys(period, {"column", "value"}, f"{where}.period")
    if period.get("value") is not None and parse_period(str(period["value"])) is None:
        raise MappingError(
            f"{where}.period: {period['value']!r} is not a period (e.g. 2023, 2023-06, 31.12.2023)"
        )

    dims = _get(data, "dimensions", dict, where, {})
    _check_keys(dims, {*DIMENSIONS, "dimension"}, f"{where}.dimensions")
    dimension_columns = {}
    dimension_name = "none"
    for name, spec in dims.items():
        spec = spec if isinstance(spec, dict) else {"column": spec}
        column = normalise_header(_get(spec, "column", str, f"{where}.dimensions.{name}"))
        if name == "dimension":
            dimension_name = _get(spec, "name", str, f"{where}.dimensions.dimension")
            dimension_columns["dimension_value"] = column
        else:
            dimension_columns[name] = column

    default_format = data.get("number_format")
    try:  # the unit of every value column whose rule names none (source units: units.py)
        declared(data.get("unit"))
    except UnitError as error:
        raise MappingError(f"{where}: {error}") from None
    rules = []
    for number, spec in enumerate(_get(data, "values", list, where), start=1):
        at = f"{where}.values[{number}]"
        if not isinstance(spec, dict):
            raise MappingError(f"{at}: must be a mapping")
        _check_keys(
            spec,
            {
                "header",
                "match",
                "indicator",
                "unit",
                "number_format",
                "period",
                "dimension",
                "dimension_value",
                *DIMENSIONS,
            },
            at,
        )
        indicator = _get(spec, "indicator", str, at)
        if indicator not in vocabulary:
            raise MappingError(
                f"{at}: unknown indicator {indicator!r}; add it to "
                "schemas/vierstaedte_contract/data/indicators.csv or the mapping's 'indicators' file"
            )
        try:  # the source's unit, converted into the indicator's
            unit = declared(spec.get("unit", data.get("unit")), vocabulary[indicator]["unit"])
        except UnitError as error:
            raise MappingError(f"{at}: {error}") from None
        if ("header" in spec) == ("match" in spec):
            raise MappingError(f"{at}: give exactly one of 'header' or 'match'")
        pattern = None
        if "match" in spec:
            try:
                pattern = re.compile(str(spec["match"]))
            except re.error as error:
                raise MappingError(f"{at}: invalid regular expression: {error}") from None
            unknown_groups = set(pattern.groupindex) - GROUPS
            if unknown_groups:
                raise MappingError(
                    f"{at}: unknown group(s) {', '.join(sorted(unknown_groups))}; "
                    f"allowed: {', '.join(sorted(GROUPS))}"
                )
        fixed = {
            k: str(spec[k])
            for k in ("period", "dimension", "dimension_value", *DIMENSIONS)
            if k in spec
        }
        number_format = spec.get("number_format", default_format)
        if number_format not in (None, "de", "en"):
            raise MappingError(f"{at}: number_format must be 'de' or 'en'")
        rules.append(
            ValueRule(
                indicator,
                unit,
                normalise_header(spec["header"]) if "header" in spec else None,
                pattern,
                fixed,
                number_format,
            )
        )

    read = _get(data, "read", dict, where, {})
    _check_keys(read, {f.name for f in dataclasses.fields(ReadOptions)}, f"{where}.read")
    unmapped = _get(data, "unmapped", str, where, "error")
    if unmapped not in ("error", "warn"):
        raise MappingError(f"{where}: unmapped must be 'error' or 'warn'")
    return Mapping(
        id=source,
        city=city,
        area_level=level,
        area_column=normalise_header(area["column"]) if "column" in area else None,
        area_value=str(area["value"]) if "value" in area else None,
        period_column=normalise_header(period["column"]) if "column" in period else None,
        period_value=str(period["value"]) if period.get("value") is not None else None,
        dimension_columns=dimension_columns,
        dimension_name=dimension_name,
        values=rules,
        ignore=[normalise_header(i) for i in data.get("ignore", [])],
        ignore_patterns=[re.compile(p) for p in data.get("ignore_match", [])],
        unmapped=unmapped,
        read=ReadOptions(**read),
        indicators=vocabulary,
    )


def load(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MappingError(f"{path}: not valid YAML: {error}") from None
    return parse(data, base_dir=path.parent)
