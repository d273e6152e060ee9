"""The unit a source column's figures are in, and their conversion into the indicator's unit.

A GENESIS land-use export counts in ``ar``; published as ``hectare`` unread,
every figure was 100 times too large. So each value column's unit is stated,
and wherever it is stated it must be one the contract knows
(``vierstaedte_contract.units``):

* by the mapping: ``unit:`` on a value rule, or for the whole table;
* by the column header: ``Fläche in ar``, ``Fläche (ha)``, ``Betrag [1000 EUR]``,
  or a GENESIS unit row under the headings (``Insgesamt`` / ``ha``);
* by the title block: ``Einheit: ar``, ``Bodenfläche (ar)``, ``Angaben in 1000 EUR``;
* by the cells: ``12,5 %``.

Statements that contradict each other are an error, as is a unit that
cannot be converted into the indicator's (another dimension): the column is
refused with the reason, never relabelled. Where nothing is stated the
indicator's unit is assumed. A conversion is exact to 15 significant digits
(12345 ar → 123.45 ha) and named in the report's column entry.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from vierstaedte_contract import units as contract
from vierstaedte_contract.units import Unit, UnitError

SIGNIFICANT = 15  # digits a float keeps for sure; a converted figure is rounded to them
_EXACT_POWERS = 22  # 10**n is an exact float up to here
_IN = re.compile(r"(?:^|\s)(?:Angaben\s+)?in\s+")
_BRACKETS = re.compile(r"\(\s*(?:in\s+)?([^()]+?)\s*\)|\[\s*(?:in\s+)?([^\[\]]+?)\s*\]")
_UNIT_LINE = re.compile(r"^\s*(?:Einheit|Einheiten|Maßeinheit)\s*:?\s+(.+?)\s*$", re.IGNORECASE)
# a word of five letters or more is a heading, not a unit row's symbol (Anzahl is GENESIS' one)
_WORD = re.compile(r"[^\W\d_]{5,}")


def declared(spelling: Any, indicator_unit: str | None = None) -> str | None:
    """The id of the unit a mapping names, checked against the indicator's unit.

    Raises :class:`UnitError` for an unknown spelling (with a suggestion) or a
    unit that cannot be converted into ``indicator_unit``.
    """
    if spelling is None:
        return None
    unit = contract.get(str(spelling))
    if indicator_unit is not None:
        contract.factor(unit, indicator_unit)
    return unit.id


def stated(text: str, unit_row: bool = False) -> list[tuple[str, Unit]]:
    """The units a header or title line states, as (spelling, unit), first to last.

    ``unit_row``: the text ends with the cell of a GENESIS unit row (stacked
    headers), so a trailing symbol counts too.
    """
    found = [
        (spelling, unit)
        for match in _BRACKETS.finditer(text)
        if (unit := contract.find(spelling := match.group(1) or match.group(2)))
    ]
    line = _UNIT_LINE.match(text)
    if line and (unit := contract.find(line.group(1))):
        found.append((line.group(1), unit))
    for match in _IN.finditer(text):  # the longest known tail after an "in"
        tail = text[match.end() :].strip()
        if unit := contract.find(tail):
            found.append((tail, unit))
            break
    if unit_row and not found:
        words = text.split()
        for size in range(min(3, len(words) - 1), 0, -1):
            tail = " ".join(words[-size:])
            if (unit := contract.find(tail)) and (tail == "Anzahl" or not _WORD.search(tail)):
                found.append((tail, unit))
                break
    return found


def _one(found: list[tuple[str, Unit]]) -> tuple[str, Unit] | None | bool:
    """The unit all statements agree on; None when there is none, False when they disagree."""
    if not found:
        return None
    first = found[0]
    return first if all(contract.agree(first[1], unit) for _, unit in found[1:]) else False


def title_unit(lines: list[str]) -> tuple[str, Unit] | None:
    """The one unit the title block states; none if it states none or several."""
    found = [hit for line in lines for hit in stated(line)]
    return _one(found) or None


@dataclasses.dataclass
class ColumnUnit:
    """What unit a value column's figures are in and what they are multiplied by."""

    source: Unit
    target: Unit
    stated_by: str  # mapping | header | title | indicator (nothing stated)
    spelling: str
    factor: Decimal
    refused_cells: bool = False

    def describe(self) -> dict[str, Any]:
        if self.factor == 1:
            return {}
        return {
            "unit_conversion": {
                "from": self.source.id,
                "to": self.target.id,
                "factor": _plain(self.factor),
                "stated_by": self.stated_by,
            }
        }


def for_column(
    name: str,
    declared_unit: str | None,
    indicator_unit: str,
    info: dict[str, Any],
    report: Any,
) -> ColumnUnit | None:
    """The column's unit from what the mapping, header and title state; None after an error.

    ``info`` is the table's reading info (title lines, header rows).
    """
    target = contract.get(indicator_unit)
    header = stated(name, unit_row=info.get("header_rows", 1) > 1)
    title = title_unit(info.get("title", []))
    in_header = _one(header)
    if in_header is False:
        spellings = ", ".join(repr(s) for s, _ in header)
        if declared_unit is None:
            report.error(
                "unit-conflict",
                f"Column {name!r} states several units ({spellings}); "
                "declare the right one with 'unit:' in its value rule.",
                field=name,
            )
            return None
        in_header = next((hit for hit in header if contract.agree(hit[1], declared_unit)), None)
        if in_header is None:
            report.error(
                "unit-conflict",
                f"Column {name!r}: the mapping says {declared_unit}, the header {spellings}.",
                field=name,
            )
            return None
    statements = []
    if declared_unit is not None:
        statements.append(("mapping", declared_unit, contract.get(declared_unit)))
    if in_header:
        statements.append(("header", in_header[0], in_header[1]))
    if title:
        statements.append(("title", title[0], title[1]))
    stated_by, spelling, source = statements[0] if statements else ("indicator", target.id, target)
    for other_by, other_spelling, other in statements[1:]:
        # a title about other columns (another dimension) says nothing about this one
        if other_by == "title" and not contract.convertible(other, source):
            continue
        if not contract.agree(other, source):
            report.error(
                "unit-conflict",
                f"Column {name!r}: the {stated_by} says {spelling!r} ({source.id}), "
                f"the {other_by} {other_spelling!r} ({other.id}); which is it?",
                field=name,
                value=other_spelling,
            )
            return None
    try:
        factor = contract.factor(source, target)
    except UnitError as error:
        report.error(
            "unit-mismatch",
            f"Column {name!r} is in {spelling!r} (stated by the {stated_by}), "
            f"its indicator in {target.id}: {error}.",
            field=name,
            value=spelling,
        )
        return None
    return ColumnUnit(source, target, stated_by, spelling, factor)


def convert(column: ColumnUnit, parsed: Any, name: str, report: Any) -> None:
    """Scale a parsed chunk of the column (``german.ParsedColumn``) into the indicator's unit.

    Cells written ``12,5 %`` state percent: refused unless the column is in percent.
    """
    if parsed.percent and not column.refused_cells:
        _check_percent_cells(column, name, report)
    if column.factor != 1:
        parsed.values = pd.Series(
            scale(parsed.values.to_numpy(), column.factor), index=parsed.values.index
        )


def _check_percent_cells(column: ColumnUnit, name: str, report: Any) -> None:
    if contract.agree(contract.get("percent"), column.source):
        return
    column.refused_cells = True
    if column.stated_by == "indicator":
        report.error(
            "unit-mismatch",
            f"Column {name!r} holds percentages, its indicator is in {column.target.id}; "
            "map it to an indicator in percent.",
            field=name,
            value="%",
        )
    else:
        report.error(
            "unit-conflict",
            f"Column {name!r} holds percentages, the {column.stated_by} says "
            f"{column.spelling!r} ({column.source.id}).",
            field=name,
            value="%",
        )


def scale(values: np.ndarray, factor: Decimal) -> np.ndarray:
    """``values × factor`` rounded to SIGNIFICANT digits: the decimal result, no float noise."""
    numerator, denominator = factor.as_integer_ratio()
    result = np.asarray(values, dtype=np.float64) * numerator / denominator
    nonzero = np.isfinite(result) & (result != 0)
    found = result[nonzero]
    if not len(found):
        return result
    decimals = SIGNIFICANT - 1 - np.floor(np.log10(np.abs(found))).astype(np.int64)
    snapped = np.empty_like(found)
    up = (decimals >= 0) & (decimals <= _EXACT_POWERS)
    down = (decimals < 0) & (decimals >= -_EXACT_POWERS)
    powers = 10.0 ** np.abs(decimals)
    snapped[up] = np.round(found[up] * powers[up]) / powers[up]
    snapped[down] = np.round(found[down] / powers[down]) * powers[down]
    rest = ~(up | down)  # beyond the exact powers of ten: decimal rounding one by one
    snapped[rest] = [float(f"{v:.{SIGNIFICANT}g}") for v in found[rest]]
    result[nonzero] = snapped
    return result


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")
