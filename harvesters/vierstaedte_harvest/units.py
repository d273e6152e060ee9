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
refused with the reason, never relabelled. So is a unit-like spelling in a
unit position that the contract does not know (``dt/ha``): 90.7 dt/ha were
once published as 90.7 hectare. Only where nothing is stated is the
indicator's unit assumed. A guess (a lone letter, a unit-row symbol, an
unknown spelling) yields to the mapping's declaration; a field code such as
the ``(A)`` of ``Wahlberechtigte gesamt (A)`` states nothing. A conversion is exact to 15 significant digits
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
_LIST_END = re.compile(r"[(\[;,]|\s(?:und|bzw\.?|oder|sowie|in)\s", re.IGNORECASE)
_UNIT_LINE = re.compile(r"^\s*(?:Einheit|Einheiten|Maßeinheit)\s*:?\s+(.+?)\s*$", re.IGNORECASE)
# a word of five letters or more is a heading, not a unit row's symbol (Anzahl is GENESIS' one)
_WORD = re.compile(r"[^\W\d_]{5,}")
# what makes an unknown expression in a unit position a unit: a sign, "dt/ha", "je Einwohner",
# a scale ("1000", "Tsd."); "m/w" (two lone letters) is no unit
_UNIT_LIKE = re.compile(
    r"[%‰€$£]|[^\W\d_]{2}\.?\s*/\s*[^\W\d_]|[^\W\d_]\.?\s*/\s*[^\W\d_]{2}"
    r"|(?:^|\s)(?:je|pro)\s+\S|^1[.\s]?000$|\b(?:Tsd|Tausend|Mio|Mill|Mrd|Millionen|Milliarden)\b",
    re.IGNORECASE,
)
_TOKENS = re.compile(r"[\s/()\[\],;:]+")


@dataclasses.dataclass(frozen=True)
class Statement:
    """A unit a header or title line states."""

    spelling: str
    unit: Unit | None  # None: unit-like, but no unit the contract knows
    certain: bool  # a known unit of two letters or more in a unit position; else a guess


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


def _symbol(token: str) -> bool:
    """A token that is a known unit's symbol (``ha``, ``EUR``, ``km²``), not a word (``Jahr``)."""
    if len(token) < 2 or contract.find(token) is None:
        return False
    return not (token.isalpha() and len(token) >= 4 and not token.isupper())


def unit_like(expression: str) -> bool:
    """Whether an expression in a unit position reads as a unit, known or not."""
    return bool(_UNIT_LIKE.search(expression)) or any(
        _symbol(token) for token in _TOKENS.split(expression)
    )


def _lone(spelling: str) -> bool:
    return len(spelling) == 1 and spelling.isalpha()


def _expression(text: str, anything: bool = False, bracketed: bool = False) -> list[Statement]:
    """What an expression in a unit position states; ``anything``: it stands on a unit line."""
    spelling = text.strip()
    unit = contract.find(spelling)
    lone = _lone(spelling)
    if unit is not None and not (bracketed and lone):  # "(a)" is a footnote mark, not ar
        return [Statement(spelling, unit, certain=not lone)]
    if spelling and not lone and (anything or unit_like(spelling)):
        return [Statement(spelling, None, certain=False)]
    return []


def _after_in(tail: str) -> list[Statement]:
    """The longest known unit the words after ``in`` begin with, else what they all state.

    A stacked header runs on after the unit (``Ausländeranteil in % Anteil an …``), but
    a unit followed by ``je``/``pro``/``/`` is part of another (``Tsd. EUR je Einwohner``).
    """
    words = tail.split()
    for size in range(len(words), 0, -1):
        head, rest = " ".join(words[:size]), words[size:]
        if rest and (_lone(head) or rest[0].casefold() in ("je", "pro") or rest[0][0] == "/"):
            continue
        if contract.find(head) is not None:
            return _expression(head)
    return _expression(tail)


def stated(text: str, unit_row: bool = False) -> list[Statement]:
    """The units a header or title line states, first to last.

    ``unit_row``: the text ends with the cell of a GENESIS unit row (stacked
    headers), so a trailing symbol counts too, as a guess.
    """
    found = [
        hit
        for match in _BRACKETS.finditer(text)
        for hit in _expression(match.group(1) or match.group(2), bracketed=True)
    ]
    line = _UNIT_LINE.match(text)
    if line:
        found += _expression(line.group(1), anything=True)
    # each "in …" up to the next bracket, list separator or "in": "Fläche in ha bzw. in ar"
    # states two units, and which one a column is in cannot then be assumed
    hits = []
    for match in _IN.finditer(text):
        tail, *more = _LIST_END.split(text[match.end() :])
        hits += _after_in(tail)
        # "in ha und km²": a list goes on with units as long as its parts are nothing else
        for part in more:
            unit = contract.find(part.strip())
            if unit is None or _lone(part.strip()):
                break
            hits.append(Statement(part.strip(), unit, certain=True))
    found += [hit for hit in hits if hit.unit] or hits[:1]
    if unit_row and not found:
        words = text.split()
        for size in range(min(3, len(words) - 1), 0, -1):
            tail = " ".join(words[-size:])
            if (unit := contract.find(tail)) and (tail == "Anzahl" or not _WORD.search(tail)):
                found.append(Statement(tail, unit, certain=False))
                break
        else:
            if len(words) > 1 and unit_like(words[-1]):
                found.append(Statement(words[-1], None, certain=False))
    return found


def _one(found: list[Statement]) -> Statement | None | bool:
    """The unit all statements agree on; None when there is none, False when they disagree."""
    if not found:
        return None
    first = found[0]
    return first if all(contract.agree(first.unit, hit.unit) for hit in found[1:]) else False


def title_unit(lines: list[str]) -> tuple[Statement | None, list[Statement], list[Statement]]:
    """The one known unit the title block states, its unknown ones, and — when it states
    several known units that disagree — those (then there is no one unit)."""
    found = [hit for line in lines for hit in stated(line)]
    known = [hit for hit in found if hit.unit]
    agreed = _one(known)
    unknown = [hit for hit in found if not hit.unit]
    return (agreed or None), unknown, (known if agreed is False else [])


@dataclasses.dataclass
class ColumnUnit:
    """What unit a value column's figures are in and what they are multiplied by."""

    source: Unit
    target: Unit
    stated_by: str  # mapping | header | title | indicator (nothing stated)
    spelling: str
    factor: Decimal
    refused_cells: bool = False
    overridden: list[tuple[str, Statement]] = dataclasses.field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if self.factor != 1:
            info["unit_conversion"] = {
                "from": self.source.id,
                "to": self.target.id,
                "factor": _plain(self.factor),
                "stated_by": self.stated_by,
            }
        if self.overridden:
            info["unit_override"] = {
                "unit": self.source.id,
                "over": [
                    {"stated_by": by, "spelling": hit.spelling, "unit": hit.unit and hit.unit.id}
                    for by, hit in self.overridden
                ],
            }
        return info


def _unknown(name: str, by: str, hit: Statement, report: Any) -> None:
    report.error(
        "unknown-unit",
        f"Column {name!r}: the {by} states the unit {hit.spelling!r}, which units.csv does "
        "not know, so its figures cannot be converted. If it spells a known unit, declare "
        "that unit with 'unit:' in the column's value rule; otherwise add the unit to "
        "schemas/vierstaedte_contract/data/units.csv and give the indicator that unit "
        "(indicators.csv or the mapping's 'indicators' file).",
        field=name,
        value=hit.spelling,
    )


def _describe(by: str, hit: Statement) -> str:
    return f"the {by} {hit.spelling!r}" + (f" ({hit.unit.id})" if hit.unit else "")


def for_column(
    name: str,
    declared_unit: str | None,
    indicator_unit: str,
    info: dict[str, Any],
    report: Any,
) -> ColumnUnit | None:
    """The column's unit from what the mapping, header and title state; None after an error.

    ``info`` is the table's reading info (title lines, header rows). The
    mapping's declaration beats a guess (an unknown spelling, a lone letter,
    a unit-row symbol) and names it in ``unit_override``; a certain statement
    that contradicts it is a conflict.
    """
    target = contract.get(indicator_unit)
    header = [("header", hit) for hit in stated(name, unit_row=info.get("header_rows", 1) > 1)]
    title, title_unknown, title_several = title_unit(info.get("title", []))
    titles = [("title", hit) for hit in ([title] if title else []) + title_unknown]
    overridden = []
    if declared_unit is not None:
        source = contract.get(declared_unit)
        for by, hit in header + titles:
            if hit.unit is not None and contract.agree(hit.unit, source):
                continue
            # a title about other columns (another dimension) says nothing about this one
            if (
                by == "title"
                and hit.unit is not None
                and not contract.convertible(hit.unit, source)
            ):
                continue
            if hit.certain:
                report.error(
                    "unit-conflict",
                    f"Column {name!r}: the mapping says {declared_unit!r} ({source.id}), "
                    f"{_describe(by, hit)}; which is it?",
                    field=name,
                    value=hit.spelling,
                )
                return None
            overridden.append((by, hit))
        stated_by, spelling = "mapping", declared_unit
    else:
        known = [(by, hit) for by, hit in header if hit.unit]
        unknown = [(by, hit) for by, hit in header if not hit.unit] or (
            [] if known else [(by, hit) for by, hit in titles if not hit.unit]
        )
        if unknown:
            _unknown(name, *unknown[0], report)
            return None
        # a title stating several units of this column's kind, and a header stating none:
        # which one the figures are in cannot be told, so it is never assumed
        candidates = [hit for hit in title_several if contract.convertible(hit.unit, target)]
        if not known and len({hit.unit.id for hit in candidates}) > 1:
            spellings = ", ".join(repr(hit.spelling) for hit in candidates)
            report.error(
                "unit-conflict",
                f"Column {name!r} states no unit and the title states several ({spellings}); "
                "declare the right one with 'unit:' in its value rule.",
                field=name,
            )
            return None
        if _one([hit for _, hit in known]) is False:
            spellings = ", ".join(repr(hit.spelling) for _, hit in known)
            report.error(
                "unit-conflict",
                f"Column {name!r} states several units ({spellings}); "
                "declare the right one with 'unit:' in its value rule.",
                field=name,
            )
            return None
        statements = known[:1] + ([("title", title)] if title else [])
        stated_by, hit = statements[0] if statements else ("indicator", Statement("", target, True))
        source, spelling = hit.unit, hit.spelling or target.id
        for other_by, other in statements[1:]:
            if not contract.convertible(other.unit, source):
                continue  # the title speaks of other columns
            if not contract.agree(other.unit, source):
                report.error(
                    "unit-conflict",
                    f"Column {name!r}: the {stated_by} says {spelling!r} ({source.id}), "
                    f"{_describe(other_by, other)}; which is it?",
                    field=name,
                    value=other.spelling,
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
    return ColumnUnit(source, target, stated_by, spelling, factor, overridden=overridden)


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
