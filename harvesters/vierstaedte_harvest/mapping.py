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
``age_group``, ``nationality``, ``dimension_value``) fill those fields, and
an ``indicator`` group picks the indicator from a map (a second breakdown:
first and second votes, actual and plan). A column without a header (GENESIS
key columns) is named by its position; an empty name in a mapping is an
error, as it would match nothing. A rule matching nearly any header is a
*catch-all*: the engine lists what it swept in and never lets it take a
column that looks like a count or an id.

A table may mix rows that are not alike (a budget's income lines, expenditure
lines and their sums; every Kreis of Germany): ``rows`` keeps or drops rows
by the text of a key column, and may pick each row's indicator from it
(``indicator: {from: rows}`` in the value rule). A row no rule places is an
error, never quietly one indicator.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from vierstaedte_contract import cities, vocabularies
from vierstaedte_contract.areas import Area, AreaResolver, resolver
from vierstaedte_harvest.german import normalise_header, parse_period
from vierstaedte_harvest.reading import ReadOptions
from vierstaedte_harvest.settings import suggestion
from vierstaedte_harvest.units import UnitError, declared

DIMENSIONS = ("sex", "age_group", "nationality")
GROUPS = {"period", "dimension_value", "indicator", *DIMENSIONS}
LEVELS = ("stadt", "ortsbezirk", "stadtteil", "statistischer_bezirk", "wahlbezirk", "baublock")


# headers with nothing in common: a rule that matches most of them matches nearly anything
_UNRELATED = ("Nr", "Bemerkung", "Anzahl", "Zeile 7", "x", "Summe insgesamt")


class MappingError(ValueError):
    """The mapping itself is wrong; the message says where."""


@dataclasses.dataclass(frozen=True)
class ColumnRef:
    """A key column, by its header or (for a column without one) by its 1-based position."""

    name: str | None = None
    position: int | None = None

    def find(self, headers: list[str]) -> int | None:
        """The column's 0-based index in ``headers``; None if the table has no such column."""
        if self.position is not None:
            return self.position - 1 if self.position <= len(headers) else None
        return headers.index(self.name) if self.name in headers else None

    def __str__(self) -> str:
        return f"a column {self.name!r}" if self.position is None else f"column {self.position}"


@dataclasses.dataclass(frozen=True)
class RowRules:
    """Which rows of the table count, and (optionally) each row's indicator, by a key column."""

    column: ColumnRef
    keep: tuple[re.Pattern, ...] = ()  # only rows whose key fully matches one of these
    drop: tuple[re.Pattern, ...] = ()  # rows whose key fully matches one of these go
    indicator: tuple[tuple[re.Pattern, str], ...] = ()  # first full match picks the indicator

    def indicator_for(self, key: str) -> str | None:
        return next((name for p, name in self.indicator if p.fullmatch(key.strip())), None)


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
    indicator_by: dict[str, str] | None = None  # value of the indicator group -> indicator
    catch_all: bool = False  # the pattern matches nearly any header
    from_rows: bool = False  # the row's key picks the indicator (``rows.indicator``)

    def indicator_for(self, groups: dict[str, str]) -> str | None:
        """The header's indicator: the rule's, or the one its indicator group's value maps to."""
        if self.indicator_by is None:
            return self.indicator
        return self.indicator_by.get(groups.get("indicator", ""))

    def matches(self, header: str) -> re.Match | bool | None:
        if self.header is not None:
            return header == self.header
        return self.pattern.fullmatch(header)


@dataclasses.dataclass
class Mapping:
    id: str
    city: str
    area_level: str
    area_column: ColumnRef | None
    area_value: str | None
    area_from_title: bool
    period_column: ColumnRef | None
    period_value: str | None
    period_from_title: bool
    # field -> source column ("dimension_value" for the free one)
    dimension_columns: dict[str, ColumnRef]
    dimension_name: str
    values: list[ValueRule]
    ignore: list[str]
    ignore_patterns: list[re.Pattern]
    unmapped: str
    read: ReadOptions
    indicators: dict[str, dict[str, str]]
    areas: AreaResolver  # the city's areas, with those the mapping adds
    added_areas: tuple[Area, ...] = ()  # those the mapping adds (named in unknown-area)
    rows: RowRules | None = None

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


def _name(value: Any, where: str) -> str:
    """A column name, normalised; an empty one is an error (it would match no column)."""
    if not isinstance(value, str):
        raise MappingError(f"{where}: must be str, not {type(value).__name__}")
    name = normalise_header(value)
    if not name:
        raise MappingError(
            f"{where}: an empty column name matches no column; a column without a header "
            "is mapped by its position ({position: 2}, the first column is 1)"
        )
    return name


def _column(spec: dict[str, Any], where: str) -> ColumnRef | None:
    """``column: Name`` or ``position: n`` of a key column; None if the spec gives neither."""
    if "column" in spec and "position" in spec:
        raise MappingError(f"{where}: give exactly one of 'column' or 'position'")
    if "position" in spec:
        position = spec["position"]
        if not isinstance(position, int) or isinstance(position, bool):
            raise MappingError(f"{where}: 'position' must be int, not {type(position).__name__}")
        if position < 1:
            raise MappingError(
                f"{where}: position counts from 1 (the first column), not {position}"
            )
        return ColumnRef(position=position)
    if "column" in spec:
        return ColumnRef(name=_name(spec["column"], f"{where}.column"))
    return None


def _areas(
    data: dict[str, Any], city: str, level: str, where: str
) -> tuple[AreaResolver, tuple[Area, ...]]:
    """The city's areas plus those the mapping adds (``areas: {add: […], aliases: {…}}``), and
    the added ones."""
    spec = _get(data, "areas", dict, where, {})
    _check_keys(spec, {"add", "aliases"}, f"{where}.areas")
    added = []
    for number, item in enumerate(_get(spec, "add", list, f"{where}.areas", []), start=1):
        at = f"{where}.areas.add[{number}]"
        if not isinstance(item, dict):
            raise MappingError(f"{at}: must be a mapping (name, level, code, aliases)")
        _check_keys(item, {"name", "level", "code", "aliases"}, at)
        name = _get(item, "name", str, at).strip()
        area_level = _get(item, "level", str, at)
        if area_level not in LEVELS[1:]:
            raise MappingError(f"{at}: level {area_level!r} is not one of {', '.join(LEVELS[1:])}")
        aliases = tuple(str(a).strip() for a in _get(item, "aliases", list, at, []))
        if not name or not all(aliases):
            raise MappingError(f"{at}: an area needs a name; empty names match nothing")
        added.append(Area(area_level, str(item.get("code") or ""), name, aliases))
    aliases = {}
    for spelling, target in _get(spec, "aliases", dict, f"{where}.areas", {}).items():
        if not str(spelling).strip() or not str(target or "").strip():
            raise MappingError(f"{where}.areas.aliases: an empty name matches nothing")
        aliases[str(spelling)] = (level, str(target))
    if not added and not aliases:
        return resolver(city), ()
    try:
        AreaResolver(city, added)
    except ValueError as error:
        raise MappingError(f"{where}.areas.add: {error}") from None
    try:
        return AreaResolver(city, added, aliases), tuple(added)
    except ValueError as error:
        raise MappingError(
            f"{where}.areas.aliases: {error} (aliases name areas at the mapping's level, {level})"
        ) from None


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
            "areas",
            "rows",
        },
        "mapping",
    )
    source = _get(data, "id", str, "mapping")
    where = f"mapping {source}"
    city = _get(data, "city", str, where)
    if cities.find(city) is None:
        raise MappingError(f"{where}: unknown city {city!r}; one of {', '.join(cities.names())}")
    extra = data.get("indicators")
    try:  # the city's own indicators: a unit units.csv lacks is the mapping's error
        vocabulary = vocabularies.indicators((base_dir or Path(".")) / extra if extra else None)
    except ValueError as error:  # also a file that is no UTF-8
        raise MappingError(f"{where}: indicators file {error}") from None

    area = _get(data, "area", dict, where)
    _check_keys(area, {"column", "position", "value", "from", "level"}, f"{where}.area")
    level = _get(area, "level", str, f"{where}.area", "stadt")
    if level not in LEVELS:
        raise MappingError(f"{where}.area: level {level!r} is not one of {', '.join(LEVELS)}")
    if sum(k in area for k in ("column", "position", "value", "from")) != 1:
        raise MappingError(
            f"{where}.area: give exactly one of 'column', 'position', 'value' or 'from: title'"
        )
    if area.get("from", "title") != "title":
        raise MappingError(f"{where}.area: 'from' can only be 'title' (the table's title block)")
    area_column = _column(area, f"{where}.area")

    period = _get(data, "period", dict, where, {})
    _check_keys(period, {"column", "position", "value", "from"}, f"{where}.period")
    if sum(k in period for k in ("column", "position", "value", "from")) > 1:
        raise MappingError(
            f"{where}.period: give one of 'column', 'position', 'value' or 'from: title'"
        )
    if period.get("from", "title") != "title":
        raise MappingError(f"{where}.period: 'from' can only be 'title' (the table's title block)")
    period_column = _column(period, f"{where}.period")
    if period.get("value") is not None and parse_period(str(period["value"])) is None:
        raise MappingError(
            f"{where}.period: {period['value']!r} is not a period (e.g. 2023, 2023-06, 31.12.2023)"
        )

    dims = _get(data, "dimensions", dict, where, {})
    _check_keys(dims, {*DIMENSIONS, "dimension"}, f"{where}.dimensions")
    dimension_columns = {}
    dimension_name = "none"
    for name, spec in dims.items():
        if isinstance(spec, dict):
            _check_keys(spec, {"column", "position", "name"}, f"{where}.dimensions.{name}")
            column = _column(spec, f"{where}.dimensions.{name}")
            if column is None:
                raise MappingError(f"{where}.dimensions.{name}: give 'column' or 'position'")
        else:
            column = ColumnRef(name=_name(spec, f"{where}.dimensions.{name}"))
        if name == "dimension":
            dimension_name = _get(spec, "name", str, f"{where}.dimensions.dimension")
            dimension_columns["dimension_value"] = column
        else:
            dimension_columns[name] = column

    row_rules = _rows(data, where, vocabulary)
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
        indicator, indicator_by = _indicator(spec, pattern, at)
        from_rows = indicator_by == _FROM_ROWS
        if from_rows:
            indicator, indicator_by = _row_indicator(row_rules, at), None
        unit = None
        for name in indicator_by.values() if indicator_by else [indicator]:
            if name not in vocabulary:
                raise MappingError(
                    f"{at}: unknown indicator {name!r}; add it to schemas/vierstaedte_contract/"
                    "data/indicators.csv or the mapping's 'indicators' file"
                )
            try:  # the source's unit, converted into the indicator's
                unit = declared(spec.get("unit", data.get("unit")), vocabulary[name]["unit"])
            except UnitError as error:
                raise MappingError(f"{at}: {error}") from None
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
                _name(spec["header"], f"{at}.header") if "header" in spec else None,
                pattern,
                fixed,
                number_format,
                indicator_by,
                catch_all=pattern is not None
                and sum(bool(pattern.fullmatch(h)) for h in _UNRELATED) >= len(_UNRELATED) // 2,
                from_rows=from_rows,
            )
        )

    if row_rules is not None and row_rules.indicator and not any(r.from_rows for r in rules):
        raise MappingError(
            f"{where}.rows: 'indicator' picks each row's indicator, but no value rule takes it; "
            "say 'indicator: {from: rows}' in the rules it applies to"
        )
    area_resolver, added_areas = _areas(data, city, level, where)
    read = _get(data, "read", dict, where, {})
    _check_keys(read, {f.name for f in dataclasses.fields(ReadOptions)}, f"{where}.read")
    unmapped = _get(data, "unmapped", str, where, "error")
    if unmapped not in ("error", "warn"):
        raise MappingError(f"{where}: unmapped must be 'error' or 'warn'")
    return Mapping(
        id=source,
        city=city,
        area_level=level,
        area_column=area_column,
        area_value=str(area["value"]) if "value" in area else None,
        area_from_title="from" in area,
        period_column=period_column,
        period_value=str(period["value"]) if period.get("value") is not None else None,
        period_from_title="from" in period,
        dimension_columns=dimension_columns,
        dimension_name=dimension_name,
        values=rules,
        ignore=[
            _name(name, f"{where}.ignore[{n}]")
            for n, name in enumerate(_get(data, "ignore", list, where, []), start=1)
        ],
        ignore_patterns=[re.compile(p) for p in data.get("ignore_match", [])],
        unmapped=unmapped,
        read=ReadOptions(**read),
        indicators=vocabulary,
        areas=area_resolver,
        added_areas=added_areas,
        rows=row_rules,
    )


_FROM_ROWS = {"from": "rows"}


def _patterns(spec: dict[str, Any], key: str, where: str) -> tuple[re.Pattern, ...]:
    found = []
    for number, text in enumerate(_get(spec, key, list, where, []), start=1):
        if not isinstance(text, str) or not text:
            raise MappingError(f"{where}.{key}[{number}]: must be a regular expression")
        try:
            found.append(re.compile(text))
        except re.error as error:
            raise MappingError(
                f"{where}.{key}[{number}]: invalid regular expression: {error}"
            ) from None
    return tuple(found)


def _rows(data: dict[str, Any], where: str, vocabulary: dict) -> RowRules | None:
    """``rows: {column|position, keep_match, drop_match, indicator: {regex: indicator}}``."""
    if "rows" not in data:
        return None
    spec = _get(data, "rows", dict, where)
    at = f"{where}.rows"
    _check_keys(spec, {"column", "position", "keep_match", "drop_match", "indicator"}, at)
    column = _column(spec, at)
    if column is None:
        raise MappingError(f"{at}: give the key column ('column' or 'position') the rules read")
    keep, drop = _patterns(spec, "keep_match", at), _patterns(spec, "drop_match", at)
    indicators = []
    for pattern, name in _get(spec, "indicator", dict, at, {}).items():
        try:
            compiled = re.compile(str(pattern))
        except re.error as error:
            raise MappingError(
                f"{at}.indicator: {pattern!r}: invalid regular expression: {error}"
            ) from None
        if str(name) not in vocabulary:
            raise MappingError(
                f"{at}.indicator: unknown indicator {name!r}; add it to schemas/"
                "vierstaedte_contract/data/indicators.csv or the mapping's 'indicators' file"
            )
        indicators.append((compiled, str(name)))
    if not (keep or drop or indicators):
        raise MappingError(f"{at}: give keep_match, drop_match or indicator")
    row_units = {vocabulary[name]["unit"] for _, name in indicators}
    if len(row_units) > 1:
        raise MappingError(
            f"{at}.indicator: the indicators of one column share its unit; these have "
            f"{', '.join(sorted(row_units))}"
        )
    return RowRules(column, keep, drop, tuple(indicators))


def _row_indicator(rows: RowRules | None, at: str) -> str:
    """The indicator standing for a rule whose rows pick theirs (their common unit)."""
    if rows is None or not rows.indicator:
        raise MappingError(
            f"{at}: 'indicator: {{from: rows}}' takes each row's indicator from rows.indicator "
            "(a map from the key column's text to indicators); the mapping has none"
        )
    return rows.indicator[0][1]


def _indicator(
    spec: dict[str, Any], pattern: re.Pattern | None, at: str
) -> tuple[str, dict[str, str] | None]:
    """A rule's indicator, or (for a rule with an ``indicator`` group) its map from the group's
    values to indicators: ``{Ist: budget_actual, Plan: budget_plan}``; ``''`` stands for an
    optional group that did not match. ``{from: rows}``: each row's key picks it."""
    value = spec.get("indicator")
    if value == _FROM_ROWS:
        return "", _FROM_ROWS
    grouped = pattern is not None and "indicator" in pattern.groupindex
    if isinstance(value, dict):
        if not grouped:
            raise MappingError(
                f"{at}: 'indicator' as a map picks by the value of a (?P<indicator>…) group "
                "in 'match'; the rule has no such group"
            )
        return "", {"" if k is None else str(k): str(v) for k, v in value.items()}
    if grouped:
        raise MappingError(
            f"{at}: the rule has a (?P<indicator>…) group: its 'indicator' maps the group's "
            "values to indicators, e.g. {Ist: budget_actual, Plan: budget_plan}"
        )
    return _get(spec, "indicator", str, at), None


def load(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MappingError(f"{path}: not valid YAML: {error}") from None
    return parse(data, base_dir=path.parent)
