"""Raw municipal table + mapping → tidy table in the common schema + report.

``normalise(path, mapping, out=…)`` streams the source in chunks. Per chunk,
every row-level attribute (area, period, dimensions) is parsed once per
*distinct* value and kept as a pandas Categorical; the wide → long reshape
then only repeats integer codes. Numbers are parsed per source column, whose
whole content decides the notation. Each chunk is validated against the Table
Schema and appended to ``out`` (or kept in memory). Memory is bounded by the
chunk size. A table with any error is *rejected*: publish nothing from it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from pandas.api.types import union_categoricals

import vierstaedte_contract
from vierstaedte_contract import cities
from vierstaedte_contract import table as contract_table
from vierstaedte_contract.areas import Area, resolver
from vierstaedte_contract.csvsafe import spreadsheet_safe
from vierstaedte_contract.names import TOTAL_WORDS, name_key, official_name
from vierstaedte_harvest import german, stated, units
from vierstaedte_harvest.mapping import DIMENSIONS, Mapping, RowRules
from vierstaedte_harvest.reading import Table, open_table
from vierstaedte_harvest.report import REJECTED, Issue, Report, TableRejected
from vierstaedte_harvest.validate import SchemaValidator

# rows per step: the working set stays well below the file's size (docs/performance.md)
CHUNK_ROWS = 25_000
ROW_FIELDS = ("area_level", "area_code", "area_name", "period", *DIMENSIONS, "dimension_value")
COLUMN_FIELDS = (
    "indicator",
    "unit",
    "source_column",
    "period",
    *DIMENSIONS,
    "dimension",
    "dimension_value",
)
DEFAULTS = {
    "sex": "total",
    "age_group": "total",
    "nationality": "total",
    "dimension_value": "total",
}


@dataclasses.dataclass
class Result:
    report: Report
    frame: pd.DataFrame | None  # the tidy table when no ``out`` file was given
    out: Path | None

    @property
    def ok(self) -> bool:
        return self.report.verdict != REJECTED


@dataclasses.dataclass
class _Column:
    """One source column and what it is, decided once from its header."""

    name: str
    position: int
    role: str  # value | area | period | dimension | rows | ignored | ignored-empty | unmapped
    fields: dict[str, str] = dataclasses.field(
        default_factory=dict
    )  # COLUMN_FIELDS that the header fixes
    number_format: str | None = (
        None  # forced by the mapping or decided by the first chunk with evidence
    )
    forced: bool = False
    saw_ambiguous: bool = False
    note: str | None = None  # how the notation was decided, for the report
    reported_note: bool = False
    unit: units.ColumnUnit | None = None  # the source's unit and its conversion
    key: str | None = None  # area, period or the dimension field a key column holds
    swept_by: str | None = None  # the catch-all rule ("values[3]") that mapped the column
    from_rows: bool = False  # each row's key picks the indicator (rows.indicator)

    @property
    def label(self) -> str:
        """The column's name in the report; a column without a header by its position."""
        return self.name or f"column {self.position + 1}"


class _Restart(Exception):
    """A later chunk proved a column English-style after earlier chunks had read '1.234' the German way."""

    def __init__(self, column: str, number_format: str):
        self.column, self.number_format = column, number_format


def normalise(
    path: str | Path,
    mapping: Mapping,
    out: str | Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    _formats: dict[str, str] | None = None,
) -> Result:
    """Normalise the table at ``path``; write the tidy CSV to ``out`` or return it as a frame."""
    report = Report(source=mapping.id, schema_version=vierstaedte_contract.SCHEMA_VERSION)
    out = Path(out) if out else None
    try:
        table = open_table(path, mapping.read)
        report.reading = table.info
        columns = _classify(table, mapping, report)
        for column in columns:
            if column.name in (_formats or {}):
                column.number_format, column.forced = _formats[column.name], True
        if report.error_counts:
            _report_catch_alls(columns, report)
            report.columns = {c.label: _describe(c) for c in columns}  # what did classify
            return Result(report, None, None)
        area = _fixed_area(table, mapping)
        validator = SchemaValidator(contract_table.descriptor())
        parts: list[pd.DataFrame] = []
        periods: set[str] = set()
        needed = [c.position for c in columns if c.role in ("value", *_KEY_ROLES)]
        selection = _Selection(mapping.rows, table.headers) if mapping.rows else None
        first = True
        with _CsvSink(out) as sink:
            for chunk in table.chunks(chunk_rows, needed):
                report.rows_in += len(chunk)
                if selection is not None:
                    chunk = selection.apply(chunk)
                    if chunk.empty:
                        continue
                if first:
                    _check_running_numbers(chunk, columns, mapping, report)
                    first = False
                tidy = _tidy_chunk(chunk, columns, mapping, report, area)
                validator.check(tidy, report)
                report.rows_out += len(tidy)
                periods.update(tidy["period"].cat.categories)
                if out:
                    sink.write(tidy)
                else:
                    parts.append(tidy)
                if progress:
                    progress(report.rows_in)
        validator.finish(report)
        report.coverage = _coverage(periods)
        _report_catch_alls(columns, report)
    except TableRejected as rejected:
        report.error(**rejected.issue.as_dict())
        return Result(report, None, None)
    except _Restart as restart:
        return normalise(
            path,
            mapping,
            out,
            chunk_rows,
            progress,
            dict(_formats or {}, **{restart.column: restart.number_format}),
        )
    if report.rows_in == 0:
        report.error("empty-file", "The table has a header but no data rows.")
    elif selection is not None:
        selection.finish(report)
    report.columns = {c.label: _describe(c) for c in columns}
    frame = (
        None
        if out
        else (_concat(parts) if parts else pd.DataFrame(columns=contract_table.field_names()))
    )
    return Result(report, frame, out)


class _CsvSink:
    """Streams tidy chunks to one UTF-8 CSV with Arrow's writer (faster than DataFrame.to_csv)."""

    def __init__(self, path: Path | None):
        self.path, self.writer = path, None
        # text columns stay dictionary-encoded (as the Categoricals are): the writer expands them,
        # no copy per row
        self.schema = pa.schema(
            [
                (
                    f["name"],
                    pa.float64()
                    if f["type"] == "number"
                    else pa.dictionary(pa.int32(), pa.string()),
                )
                for f in contract_table.descriptor()["fields"]
            ]
        )

    def __enter__(self) -> _CsvSink:
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if self.writer is None:
            options = pa_csv.WriteOptions(quoting_style="needed")
            self.writer = pa_csv.CSVWriter(str(self.path), self.schema, write_options=options)
        self.writer.write_table(pa.Table.from_pandas(frame, preserve_index=False).cast(self.schema))

    def __exit__(self, *exc) -> None:
        if self.path is not None:
            if self.writer is None:  # no rows: still a valid table with its header
                self.writer = pa_csv.CSVWriter(str(self.path), self.schema)
            self.writer.close()


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate chunks keeping every column categorical (pd.concat would fall back to objects).

    Each chunk's categories are few; their union is built once and every
    chunk's codes are translated with a small lookup array. A column is
    dropped from the chunks as soon as it is joined, so the peak is the
    table plus one column, not twice the table.
    """
    if len(parts) == 1:
        return parts[0]
    index = np.concatenate([p.index.to_numpy() for p in parts])
    columns = {}
    for name in list(parts[0].columns):
        if not isinstance(parts[0][name].dtype, pd.CategoricalDtype):
            columns[name] = np.concatenate([p[name].to_numpy() for p in parts])
        else:
            positions: dict[Any, int] = {}
            codes = []
            for part in parts:
                values = part[name].array
                lookup = np.array(
                    [positions.setdefault(c, len(positions)) for c in values.categories] + [-1],
                    dtype=np.int32,
                )
                codes.append(lookup[values.codes])  # code -1 (missing) picks the last entry, -1
            columns[name] = pd.Categorical.from_codes(
                np.concatenate(codes), categories=pd.Index(list(positions), dtype=object)
            )
        for part in parts:
            del part[name]
    return pd.DataFrame(columns, index=index)


def _coverage(periods: set[str]) -> dict[str, str]:
    """The time the table covers, for the dataset's temporal coverage when the source does not state it."""
    bounds = [german.period_bounds(p) for p in periods if p]
    return {"start": min(b[0] for b in bounds), "end": max(b[1] for b in bounds)} if bounds else {}


def _describe(column: _Column) -> dict[str, Any]:
    info: dict[str, Any] = {"role": column.role}
    if column.role == "value":
        info.update(column.fields, number_format=column.number_format)
        if column.from_rows:
            info["indicator"] = "from rows"
        if column.note:
            info["number_format_note"] = column.note
        info.pop("source_column")
        info.update(column.unit.describe() if column.unit else {})
    return info


# --- columns ----------------------------------------------------------------------------


def _classify(table: Table, mapping: Mapping, report: Report) -> list[_Column]:
    keys: dict[int, tuple[str, str]] = {}  # position -> (role, field) of the key columns
    wanted = [
        ("area", "area", mapping.area_column),
        ("period", "period", mapping.period_column),
        *(("dimension", f, ref) for f, ref in mapping.dimension_columns.items()),
    ]
    for role, field, ref in wanted:
        if ref is None:
            continue
        position = ref.find(table.headers)
        if position is None:
            report.error(
                "missing-column",
                f"The mapping expects {ref}; the table has {len(table.headers)} columns: "
                f"{table.headers}.",
                field=ref.name or str(ref),
            )
        else:
            keys[position] = (role, field)
    if mapping.rows is not None:
        position = mapping.rows.column.find(table.headers)
        if position is None:
            report.error(
                "missing-column",
                f"rows: the mapping expects {mapping.rows.column}; the table has "
                f"{len(table.headers)} columns: {table.headers}.",
                field=mapping.rows.column.name or str(mapping.rows.column),
            )
        else:
            keys.setdefault(position, ("rows", "rows"))
    unmapped = report.error if mapping.unmapped == "error" else report.warning
    columns = []
    for position, name in enumerate(table.headers):
        if position in keys:
            role, field = keys[position]
            columns.append(_Column(name, position, role, key=field))
        elif not name:  # no header (a trailing ';'): listed, never read
            columns.append(_Column(name, position, "ignored-empty"))
        elif mapping.is_ignored(name):
            columns.append(_Column(name, position, "ignored"))
        elif (found := mapping.rule_for(name)) is None:
            unmapped(
                "unmapped-column",
                f"Column {name!r} matches no rule of mapping {mapping.id}; map it or list it under 'ignore'.",
                field=name,
            )
            columns.append(_Column(name, position, "unmapped"))
        elif (indicator := found[0].indicator_for(found[1])) is None:
            unmapped(
                "unmapped-column",
                f"Column {name!r}: its rule maps no indicator for "
                f"{found[1].get('indicator', '')!r}; add it to the rule's 'indicator' map.",
                field=name,
            )
            columns.append(_Column(name, position, "unmapped"))
        elif found[0].catch_all and looks_like_count_or_id(name):
            unmapped(
                "unmapped-column",
                f"Column {name!r} looks like a count or an id, and only the catch-all rule "
                f"{_rule_label(mapping, found[0])} matches it; name it in a rule of its own "
                "or list it under 'ignore'.",
                field=name,
                rule=_rule_label(mapping, found[0]),
            )
            columns.append(_Column(name, position, "unmapped"))
        else:
            rule, groups = found
            groups.pop("indicator", None)
            fields: dict[str, Any] = {
                "indicator": indicator,
                "unit": mapping.indicators[indicator]["unit"],
                "source_column": spreadsheet_safe(name),
                "dimension": mapping.dimension_name,
                **rule.fixed,
                **groups,
            }
            if fields.get("dimension_value"):
                fields["dimension_value"] = spreadsheet_safe(fields["dimension_value"])
            column = _Column(
                name,
                position,
                "value",
                _parse_header_fields(fields, report),
                rule.number_format,
                forced=rule.number_format is not None,
                unit=units.for_column(name, rule.unit, fields["unit"], table.info, report),
                swept_by=_rule_label(mapping, rule) if rule.catch_all else None,
                from_rows=rule.from_rows,
            )
            if rule.from_rows:  # the rows' indicators share the unit; each row names its own
                del column.fields["indicator"]
            columns.append(column)
    values = [c for c in columns if c.role == "value"]
    if not values and not report.error_counts:
        ignored = [c.name for c in columns if c.role == "ignored" and mapping.rule_for(c.name)]
        report.error(
            "no-value-columns",
            "No column of the table matches a value rule of the mapping."
            + (
                f" Ignored though a value rule matches them (ignore and ignore_match come "
                f"first): {', '.join(map(repr, ignored))}."
                if ignored
                else ""
            ),
        )
    if not mapping.period_column:
        undated = [c for c in values if "period" not in c.fields]
        period = _fixed_period(table, mapping, undated, report) if undated else None
        for column in undated:
            if period:
                column.fields["period"] = period
            elif not mapping.period_from_title:
                report.error(
                    "missing-period",
                    f"Column {column.name!r} has no period: give period.column, period.value, "
                    "period: {from: title} or a (?P<period>…) group in its rule.",
                    field=column.name,
                )
    return columns


def _fixed_period(
    table: Table, mapping: Mapping, columns: list[_Column], report: Report
) -> str | None:
    """The period of value columns whose header names none: ``period.value``, checked against
    the date the title block and their headers state, or the date the title states (``period:
    {from: title}``). A mapping is applied to every later file: next year's export must not be
    published under this year's date."""
    title = [s for line in table.info.get("title", []) for s in stated.in_text(line, True)]
    if mapping.period_from_title:
        decisive = stated.strongest(title)
        periods = dict.fromkeys(s.period for s in decisive)
        if len(periods) == 1:
            table.info["period_from_title"] = decisive[0].where
            return next(iter(periods))
        if periods:
            report.error(
                "ambiguous-period",
                f"period.from: title: the title states {len(periods)} periods, "
                f"{_statements(decisive)}; give period.value instead.",
            )
        else:
            report.error(
                "missing-period",
                f"period.from: title: the title states no date or year; the title is "
                f"{table.info.get('title', [])}. Give period.value or period.column instead.",
            )
        return None
    if not mapping.period_value:
        return None
    period = german.parse_period(mapping.period_value)
    conflicts: dict[tuple[str, ...], tuple[list[stated.Statement], list[str]]] = {}
    for column in columns:
        decisive = stated.strongest(title + stated.in_text(column.name, False))
        if decisive and not any(s.overlaps(period) for s in decisive):
            key = tuple(s.text for s in decisive)
            conflicts.setdefault(key, (decisive, []))[1].append(column.name)
    for statements, names in conflicts.values():
        report.error(
            "period-conflict",
            f"period.value {mapping.period_value} ({period}) contradicts what the table states, "
            f"{_statements(statements)}, for {len(names)} column(s) "
            f"({', '.join(map(repr, names[:3]))}{' …' if len(names) > 3 else ''}). A later "
            "export read with an older mapping? Take the date from the file (period: {from: "
            "title} or period.column) or correct period.value.",
            field=names[0],
            value=mapping.period_value,
        )
    return period


def _statements(statements: list[stated.Statement]) -> str:
    return ", ".join(
        f"{s.text!r} in {s.where[:70]!r}{'…' if len(s.where) > 70 else ''}" for s in statements
    )


_KEY_ROLES = ("area", "period", "dimension", "rows")


def _rule_label(mapping: Mapping, rule: Any) -> str:
    return f"values[{mapping.values.index(rule) + 1}]"


# headers of columns that count or number things: never a party or category by a catch-all
_COUNT_OR_ID = re.compile(
    r"(lfd )?(nr|nummer)|id|.*schluessel|kennziffer|code|ags|ars|zeile"
    r"|anzahl.*|anz[a-z]*meldungen|.*schnellmeldung.*|.*stimmzettel.*|(un)?gueltig.*"
    r"|wahlberechtigte.*|(brief)?waehler(innen)?( insgesamt)?|abgegeben.*|wahlbeteiligung.*"
    r"|summe|insgesamt|gesamt",
)


def looks_like_count_or_id(header: str) -> bool:
    """Whether a header names a row number, an id or a count (``Nr``, ``lfd. Nr.``, ``ID``,
    ``Schlüssel``, ``Anzahl …``, ``Schnellmeldungen``, ``gültige Stimmzettel``,
    ``Wahlberechtigte``): such a column is never a category a catch-all rule may sweep in."""
    return bool(_COUNT_OR_ID.fullmatch(name_key(header)))


def _report_catch_alls(columns: list[_Column], report: Report) -> None:
    """One warning per catch-all rule, naming every column it mapped: for a person to check."""
    swept: dict[str, list[str]] = {}
    for column in columns:
        if column.swept_by and column.role == "value":
            swept.setdefault(column.swept_by, []).append(column.name)
    for rule, names in swept.items():
        report.warning(
            "catch-all-rule",
            f"Rule {rule} matches nearly any header; it mapped {len(names)} column(s): "
            f"{', '.join(map(repr, names))}. Check that each is what the rule says, or name "
            "the columns in the rule.",
            rule=rule,
        )


def _check_running_numbers(
    chunk: pd.DataFrame, columns: list[_Column], mapping: Mapping, report: Report
) -> None:
    """A column a catch-all mapped that counts rows (1, 2, 3 …) is a row number: not mapped."""
    for column in columns:
        if not column.swept_by or column.role != "value":
            continue
        cells = chunk[column.position].astype(str).str.strip()
        if len(cells) < 3 or not cells.str.fullmatch(r"\d{1,9}").all():
            continue
        numbers = cells.astype(np.int64).to_numpy()
        if numbers[0] in (0, 1) and (np.diff(numbers) == 1).all():
            column.role = "unmapped"
            (report.error if mapping.unmapped == "error" else report.warning)(
                "unmapped-column",
                f"Column {column.name!r} counts the rows ({', '.join(cells[:3])} …), and only "
                f"the catch-all rule {column.swept_by} matches it; name it in a rule of its own "
                "or list it under 'ignore'.",
                field=column.name,
                rule=column.swept_by,
            )


def _fixed_area(table: Table, mapping: Mapping) -> Area | None:
    """The one area of a table without an area column: ``area.value`` or the title block."""
    if mapping.area_column is not None:
        return None
    if not mapping.area_from_title:
        area = mapping.areas.resolve(mapping.area_value, mapping.area_level)
        if area is None:
            raise TableRejected(
                Issue(
                    "unknown-area",
                    f"area.value {mapping.area_value!r} is not an area of {mapping.city}"
                    f"{_where_areas(mapping)}",
                )
            )
        _check_title_city(table, mapping)
        return area
    lines = table.info.get("title", [])
    found: dict[Area, str] = {}
    for line in lines:
        for spelling in _title_spellings(line):
            area = mapping.areas.resolve(spelling, mapping.area_level)
            if area is not None:
                found.setdefault(area, line)
                break
    if len(found) == 1:
        area, line = next(iter(found.items()))
        table.info["area_from_title"] = line
        return area
    if found:
        named = ", ".join(f"{a.name!r} ({line!r})" for a, line in found.items())
        raise TableRejected(
            Issue(
                "ambiguous-area",
                f"area.from: title: the title names {len(found)} areas, {named}; "
                "give area.value instead.",
            )
        )
    raise TableRejected(
        Issue(
            "unknown-area",
            f"area.from: title: no line of the title names an area of {mapping.city} "
            f"(level {mapping.area_level}); the title is {lines}. Give area.value instead.",
        )
    )


def _check_title_city(table: Table, mapping: Mapping) -> None:
    """A fixed ``area.value`` is applied to whatever file the source serves: a title naming
    another city of the contract (``Kreisfreie Stadt Koblenz`` under a Trier mapping) refuses
    the table. A title naming no city, or the mapping's own, says nothing against it."""
    for line in table.info.get("title", []):
        for spelling in _title_spellings(line):
            if mapping.areas.resolve(spelling, "stadt") is not None:
                continue
            for city in cities.names():
                other = resolver(city).resolve(spelling, "stadt") if city != mapping.city else None
                if other is not None:
                    raise TableRejected(
                        Issue(
                            "area-conflict",
                            f"area.value {mapping.area_value!r} (city {mapping.city}) "
                            f"contradicts the title, which names {other.name!r} of city "
                            f"{city}: {line!r}. Another city's export? Correct the source or "
                            "the mapping, or take the area from the title (area: {from: title}).",
                            value=spelling,
                        )
                    )


def _where_areas(mapping: Mapping) -> str:
    """Where a mapping's areas are listed, for an unknown-area message: the city's file and the
    areas the mapping adds (which resolve only at the mapping's level)."""
    text = f" (see schemas/vierstaedte_contract/data/areas/{mapping.city}.csv"
    if mapping.added_areas:
        at_level = sum(a.level == mapping.area_level for a in mapping.added_areas)
        text += (
            f", and the mapping's areas.add: {at_level} of its {len(mapping.added_areas)} "
            f"areas are at level {mapping.area_level}; an added area resolves only at the "
            "mapping's level (area.level)"
        )
    return text + ")"


def _title_spellings(line: str) -> list[str]:
    """What in a title line may name the table's area: the whole line, or a part of it written
    the official way, with a key or the kind of municipality (``Kreisfreie Stadt Trier, Stichtag
    31.12.2023``, ``Bevölkerung - 07315000 Mainz, kreisfreie Stadt``). A bare name inside a
    longer line (``Mainz, Landkreis``) is not taken: it may mean another place of that name."""
    if name_key(line) in TOTAL_WORDS:
        return []
    chunks = [c.strip() for c in _TITLE_PARTS.split(line)]
    parts = {*chunks, *(p.strip() for c in chunks for p in c.split(","))} - {line.strip()}
    return [line, *sorted(p for p in parts if _official(p))]


_TITLE_PARTS = re.compile(r"\s+[-–]\s+|\s*[;:|]\s*")


def _official(text: str) -> bool:
    key, name = official_name(text)
    return bool(name) and (bool(key) or name != text.strip())


def _parse_header_fields(fields: dict[str, str], report: Report) -> dict[str, str]:
    """Periods and dimensions taken from a header (or fixed in the rule) in canonical form."""
    parsers = {"period": german.parse_period, **german.DIMENSION_PARSERS}
    for field, parse in parsers.items():
        if field in fields:
            parsed = parse(fields[field])
            if parsed is None:
                report.error(
                    f"invalid-{field.replace('_', '-')}",
                    f"Header {fields['source_column']!r}: "
                    f"{fields[field]!r} is not a valid {field}.",
                    field=fields["source_column"],
                    value=fields[field],
                )
            fields[field] = parsed
    return fields


# --- chunks -----------------------------------------------------------------------------


def _categorical(
    values: pd.Series,
    parse: Callable[[Any], str | None],
    report: Report,
    code: str,
    field: str,
    what: str,
) -> pd.Categorical:
    """Parse each distinct value once; unparsable values are reported (first row, count) and left empty."""
    codes, uniques = pd.factorize(values.fillna(""), sort=False)
    parsed = [parse(u) for u in uniques]
    for i, (raw, result) in enumerate(zip(uniques, parsed, strict=True)):
        if result is None:
            hits = np.flatnonzero(codes == i)
            report.error(
                code,
                f"{what}: {raw!r} ({len(hits)} row(s))",
                count=len(hits),
                row=int(values.index[hits[0]]),
                field=field,
                value=str(raw),
            )
    return _categories(parsed).take(codes) if len(codes) else pd.Categorical([])


def _categories(values: list[Any]) -> pd.Categorical:
    """A Categorical over plain Python objects (pandas would otherwise convert every category list
    to Arrow)."""
    positions: dict[Any, int] = {}
    codes = np.fromiter(
        (-1 if v is None else positions.setdefault(v, len(positions)) for v in values),
        dtype=np.int32,
        count=len(values),
    )
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(positions), dtype=object))


def _constant(value: Any, n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(
        np.zeros(n, dtype=np.int8), categories=pd.Index([value], dtype=object)
    )


def _row_fields(
    chunk: pd.DataFrame,
    columns: list[_Column],
    mapping: Mapping,
    report: Report,
    area: Area | None,
) -> dict[str, pd.Categorical]:
    """Attributes that vary by row: area, period and dimension columns (``area``: the table's
    one area when it has no area column)."""
    keys = {c.key: c for c in columns if c.key}
    fields: dict[str, pd.Categorical] = {}
    if area is None:
        column = keys["area"]
        where = (
            f"Not an area of {mapping.city} at level {mapping.area_level}{_where_areas(mapping)}"
        )
        areas = _categorical(
            chunk[column.position],
            lambda v: mapping.areas.resolve(v, mapping.area_level),
            report,
            "unknown-area",
            column.label,
            where,
        )
        for i, field in enumerate(("area_level", "area_code", "area_name")):
            parts = _categories([dataclasses.astuple(a)[i] for a in areas.categories])
            # code -1 (unknown area) stays missing
            fields[field] = parts.take(areas.codes, allow_fill=True)
    else:
        # the Area's fourth field, its aliases, is left out
        for field, value in zip(
            ("area_level", "area_code", "area_name"), dataclasses.astuple(area), strict=False
        ):
            fields[field] = _constant(value, len(chunk))
    if mapping.rows is not None and mapping.rows.indicator:
        fields["indicator"] = _categorical(
            chunk[mapping.rows.column.find([c.name for c in columns])],
            mapping.rows.indicator_for,
            report,
            "unplaced-row",
            str(mapping.rows.column),
            "rows.indicator places no indicator for the row; add a pattern for it, or drop the "
            "row (rows.drop_match)",
        )
    if "period" in keys:
        fields["period"] = _categorical(
            chunk[keys["period"].position],
            german.parse_period,
            report,
            "invalid-period",
            keys["period"].label,
            "Not a date or period",
        )
    for field in mapping.dimension_columns:
        column = keys[field]
        source = chunk[column.position]
        if field == "dimension_value":
            fields[field] = _categorical(
                source,
                lambda v: spreadsheet_safe(v.strip()) or None,
                report,
                "missing-dimension-value",
                column.label,
                "Empty dimension value",
            )
        else:
            fields[field] = _categorical(
                source,
                german.DIMENSION_PARSERS[field],
                report,
                f"invalid-{field.replace('_', '-')}",
                column.label,
                f"Not a known {field} value",
            )
    return fields


class _Selection:
    """``rows``: the rows of the table that count, by the text of a key column. Every row left
    out is counted in the report (by the rule that left it out), never dropped silently."""

    def __init__(self, rules: RowRules, headers: list[str]):
        self.rules, self.position = rules, rules.column.find(headers)
        self.dropped: dict[str, int] = {}
        self.examples: list[str] = []
        self.kept = 0

    def apply(self, chunk: pd.DataFrame) -> pd.DataFrame:
        keys = chunk[self.position].fillna("").astype(str).str.strip()
        out = np.zeros(len(chunk), dtype=bool)
        reasons = []
        if self.rules.keep:
            kept = np.zeros(len(chunk), dtype=bool)
            for pattern in self.rules.keep:
                kept |= keys.str.fullmatch(pattern).to_numpy(dtype=bool)
            reasons.append(("not kept by rows.keep_match", ~kept))
        for number, pattern in enumerate(self.rules.drop, start=1):
            reasons.append(
                (f"rows.drop_match[{number}] {pattern.pattern!r}", keys.str.fullmatch(pattern))
            )
        for reason, hits in reasons:
            hits = np.asarray(hits, dtype=bool) & ~out
            if hits.any():
                self.dropped[reason] = self.dropped.get(reason, 0) + int(hits.sum())
                self.examples += [k for k in keys[hits][: 5 - len(self.examples)]]
                out |= hits
        self.kept += int((~out).sum())
        return chunk[~out] if out.any() else chunk

    def finish(self, report: Report) -> None:
        report.reading["rows_dropped"] = {
            "count": sum(self.dropped.values()),
            "by_rule": self.dropped,
            "first": self.examples,
        }
        if not self.kept:
            report.error(
                "no-rows-kept",
                f"rows: every one of the table's {report.rows_in} rows was dropped "
                f"({self.dropped}); check keep_match and drop_match against "
                f"{self.rules.column}.",
            )


def _parse_values(chunk: pd.DataFrame, column: _Column, report: Report) -> german.ParsedColumn:
    raw = chunk[column.position]
    # keep deciding while only integers or ambiguous cells were seen, unless the mapping fixed the
    # notation
    detect = not column.forced and (
        column.number_format in (None, german.INTEGER) or column.saw_ambiguous
    )
    parsed = german.parse_numbers(raw, None if detect else column.number_format)
    if detect:
        if parsed.number_format == german.ENGLISH and column.saw_ambiguous:
            raise _Restart(column.name, german.ENGLISH)
        column.saw_ambiguous |= _is_ambiguous(parsed)
        column.number_format = parsed.number_format
        column.note = parsed.note or column.note
    invalid = np.flatnonzero(parsed.status.cat.codes.to_numpy() == german.INVALID)
    if len(invalid):
        report.error_cells(
            "mixed-number-format" if parsed.conflict_rows else "invalid-number",
            f"Column {column.name!r}: not a number in the column's {column.number_format} notation.",
            [(int(raw.index[i]), str(raw.iloc[i])) for i in invalid[:20]],
            len(invalid),
            field=column.name,
        )
    units.convert(column.unit, parsed, column.name, report)
    return parsed


def _status_codes(parsed: german.ParsedColumn) -> np.ndarray:
    """value_status codes: a cell that failed to parse is an error in the report and ``invalid``
    in the table (never ``missing``: the source did have something there)."""
    return parsed.status.cat.codes.to_numpy().astype(np.int8)


def _is_ambiguous(parsed: german.ParsedColumn) -> bool:
    return bool(parsed.note and parsed.note.startswith("ambiguous"))


def _report_notation(
    columns: list[_Column], parsed: list[german.ParsedColumn], report: Report
) -> None:
    """Warn about a column whose notation only a guess decided, unless another column of the table
    proves it."""
    proven = [
        c.name
        for c, p in zip(columns, parsed, strict=True)
        if p.number_format == german.GERMAN and p.note is None
    ]
    for column, result in zip(columns, parsed, strict=True):
        if not result.note or column.reported_note:
            continue
        column.reported_note = True
        if _is_ambiguous(result) and proven:
            column.note = f"German notation, as column {proven[0]!r} of the same table proves"
            continue
        report.warning(
            "number-format-decision", f"Column {column.name!r}: {result.note}.", field=column.name
        )


def _tidy_chunk(
    chunk: pd.DataFrame,
    columns: list[_Column],
    mapping: Mapping,
    report: Report,
    area: Area | None,
) -> pd.DataFrame:
    """Wide → long: one block of rows per value column, attributes as Categoricals."""
    values = [c for c in columns if c.role == "value"]
    n, k = len(chunk), len(values)
    parsed = [_parse_values(chunk, column, report) for column in values]
    _report_notation(values, parsed, report)
    rows = _row_fields(chunk, columns, mapping, report, area)
    tile = np.tile(np.arange(n), k)
    data: dict[str, Any] = {
        "city": _constant(mapping.city, n * k),
        "ags": _constant(mapping.ags, n * k),
        "source_dataset": _constant(mapping.id, n * k),
        "value": np.concatenate([p.values.to_numpy() for p in parsed]) if k else np.zeros(0),
        "value_status": pd.Categorical.from_codes(
            np.concatenate([_status_codes(p) for p in parsed]) if k else np.zeros(0, dtype=np.int8),
            categories=pd.Index(german.STATUSES, dtype=object),
        ),
    }
    for field in dict.fromkeys((*COLUMN_FIELDS, *ROW_FIELDS)):
        by_column = [column.fields.get(field) for column in values]
        by_row = rows.get(field)
        if by_row is not None and all(v is None for v in by_column):
            data[field] = by_row.take(tile)
            continue
        blocks = [
            _constant(v, n)
            if v is not None
            else by_row
            if by_row is not None
            else _constant(DEFAULTS.get(field, ""), n)
            for v in by_column
        ]
        data[field] = union_categoricals(blocks) if blocks else pd.Categorical([])
    tidy = pd.DataFrame(
        {name: data[name] for name in contract_table.field_names()},
        index=np.tile(chunk.index.to_numpy(), k),
    )
    # rows whose area, period or dimension could not be read are errors above; keep them out of the table
    unreadable = np.zeros(n, dtype=bool)
    for name, values_by_row in rows.items():
        if name != "area_code":  # areas without an official code have an empty one
            unreadable |= values_by_row.codes < 0
    return tidy[~np.tile(unreadable, k)] if unreadable.any() else tidy
