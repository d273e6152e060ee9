"""The reference date a table states about itself, in its title block or a column's header.

A mapping that fixes ``period: {value: 31.12.2023}`` is applied by every later harvest run to
every later file; next year's export says ``Stichtag 31.12.2024`` in its title and must not be
published under last year's date. This module finds such statements, so the engine can compare
them with the mapping (``period-conflict``) or take the period from them (``period: {from:
title}``). It reads only what is written plainly: a full date (``31.12.2024``, ``Stichtag
31.12.2024``, ``Stand: 30.06.2024``, ``am 31.12.2024``), a year after such a word, and, in a
title line, a bare year or a span of years. A full date outweighs a bare year (``Basis Zensus
2011, Stichtag 31.12.2023`` states 31.12.2023); years after words that name something other than
the reference time (``Zensus``, ``Gebietsstand``, ``seit``, ``bis`` …) and anything after ``©``
are not statements.
"""

from __future__ import annotations

import dataclasses
import re

from vierstaedte_harvest.german import parse_period, period_bounds

DATE, YEAR = 2, 1  # how firmly a statement names the reference time

# a date or year after these words names something other than the table's reference time
_NOT_REFERENCE = (
    r"(?<!zensus )(?<!basis )(?<!seit )(?<!bis )(?<!ab )(?<!gebietsstand )(?<!gebietsstand: )"
)
_KEYWORD = r"\b(?:stichtag|stand|am|zum|jahr)\s*:?\s*"
_FULL_DATE = re.compile(
    rf"(?:{_KEYWORD}|{_NOT_REFERENCE})(?<![\d.])\d{{1,2}}\.\d{{1,2}}\.\d{{4}}"
    r"(?![\d.]*\d)",
    re.I,
)
_KEYWORD_YEAR = re.compile(rf"{_KEYWORD}(?<![\d.])(?:19|20)\d{{2}}(?![\d.]*\d)", re.I)
_YEAR_SPAN = re.compile(
    r"(?<![\d./-])((?:19|20)\d{2})\s*(?:-|–|/|bis)\s*((?:19|20)\d{2}|\d{2})(?![\d./-]*\d)", re.I
)
_YEAR = re.compile(rf"(?<![\d./-]){_NOT_REFERENCE}((?:19|20)\d{{2}})(?![\d./-]*\d)", re.I)


@dataclasses.dataclass(frozen=True)
class Statement:
    """One statement of the reference time: the words as written, and the days they cover."""

    text: str
    period: str  # canonical: 2024-12-31, 2024 or 2010/2024
    strength: int  # DATE or YEAR
    where: str  # the title line or header it is written in

    def overlaps(self, period: str) -> bool:
        start, end = period_bounds(period)
        own_start, own_end = period_bounds(self.period)
        return start <= own_end and own_start <= end


def in_text(text: str, bare_years: bool) -> list[Statement]:
    """Every statement of a reference time in one title line or header; ``bare_years``: a year
    on its own counts (in a title line; in a header a year is what value rules match)."""
    text = text.split("©")[0]
    found = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match, period: str | None, strength: int) -> None:
        if period is None or any(s < match.end() and match.start() < e for s, e in taken):
            return
        taken.append(match.span())
        found.append(Statement(match[0].strip(), period, strength, text.strip()))

    for match in _FULL_DATE.finditer(text):
        add(match, parse_period(match[0].split()[-1].split(":")[-1]), DATE)
    for match in _KEYWORD_YEAR.finditer(text):
        add(match, parse_period(match[0][-4:]), DATE)
    if bare_years:
        for match in _YEAR_SPAN.finditer(text):
            end = match[2] if len(match[2]) == 4 else match[1][:2] + match[2]
            if end > match[1]:
                add(match, f"{match[1]}/{end}", YEAR)
        for match in _YEAR.finditer(text):
            add(match, match[1], YEAR)
    return found


def strongest(statements: list[Statement]) -> list[Statement]:
    """The statements that decide: the full dates if there are any, else the years."""
    top = max((s.strength for s in statements), default=0)
    return [s for s in statements if s.strength == top]
