"""Units with a dimension and a factor: the one rule for turning a source's figures into ours.

A figure is only comparable across cities when its unit is: 12,345 ar and
123.45 ha are the same area, and a table that says ``ar`` must never be
published labelled ``hectare``. So every unit in ``data/units.csv`` has a
``dimension`` (``area``, ``money``, ``ratio`` …) and a ``factor`` to that
dimension's base unit (m², EUR, 1 …), and lists the ``symbols`` real files
spell it with (``ha``, ``Hektar``; ``Tsd. EUR``, ``1000 EUR``, ``TEUR``).

Counts are refined after a colon: ``count:persons`` counts persons. A bare
count (``Anzahl``, GENESIS' unit for every head count) says less than the
indicator does and may be read as any refined count; persons never become
households. Units of different dimensions never convert: the caller refuses
the figures instead of relabelling them.

Conversions are decimal: a factor is a :class:`~decimal.Decimal`, and a
float is scaled through its shortest decimal spelling, so 12345 ar are
123.45 ha, not 123.45000000000002.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import io
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from vierstaedte_contract import path

COLUMNS = ("id", "label_de", "label_en", "dimension", "factor", "symbols")
GENERIC_COUNT = "count"  # the dimension of a bare number of things: converts into a refined count


class UnitError(ValueError):
    """An unknown unit, or two units that cannot be converted into each other."""


@dataclasses.dataclass(frozen=True)
class Unit:
    id: str
    label_de: str
    label_en: str
    dimension: str
    factor: Decimal  # how many of the dimension's base unit one of this unit is
    symbols: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        return (self.id, self.label_de, self.label_en, *self.symbols)

    def label(self, lang: str = "de") -> str:
        return self.label_en if lang == "en" else self.label_de


def key(spelling: str) -> str:
    """The form spellings are compared in: ``km2`` = ``km²``, ``Tsd.EUR`` = ``tsd. eur``."""
    return "".join(unicodedata.normalize("NFKC", str(spelling)).casefold().split())


@functools.cache
def catalogue() -> dict[str, Unit]:
    """Unit id → :class:`Unit`, in the order of ``units.csv``."""
    text = path("units.csv").read_text(encoding="utf-8")
    found = {}
    for row in csv.DictReader(io.StringIO(text)):
        try:
            factor = Decimal(row["factor"])
        except InvalidOperation:
            raise UnitError(f"units.csv: unit {row['id']!r} has no factor") from None
        found[row["id"]] = Unit(
            row["id"],
            row["label_de"],
            row["label_en"],
            row["dimension"],
            factor,
            tuple(s.strip() for s in row["symbols"].split("|") if s.strip()),
        )
    return found


@functools.cache
def _by_spelling() -> dict[str, Unit]:
    found: dict[str, Unit] = {}
    for unit in catalogue().values():
        for spelling in unit.spellings():
            other = found.setdefault(key(spelling), unit)
            if other is not unit:
                raise UnitError(f"units.csv: {spelling!r} spells both {other.id!r} and {unit.id!r}")
    return found


def find(spelling: str) -> Unit | None:
    """The unit an id, label or symbol names (case and spaces do not matter), or None.

    A lone letter names a unit only in its exact case: ``a`` is ar, but the
    ``A`` of ``Wahlberechtigte gesamt (A)`` is a field code.
    """
    text = str(spelling).strip()
    unit = _by_spelling().get(key(text)) if text else None
    if unit is not None and len(text) == 1 and text not in unit.spellings():
        return None
    return unit


def get(spelling: str) -> Unit:
    """Like :func:`find`, but an unknown spelling is a :class:`UnitError` with a suggestion."""
    unit = find(spelling)
    if unit is None:
        raise UnitError(f"unknown unit {spelling!r}{suggestion(spelling)}")
    return unit


def suggestion(spelling: str) -> str:
    """`` (did you mean 'ha'?)`` for the closest known spelling, else the known units."""
    spellings = [s for unit in catalogue().values() for s in unit.spellings()]
    close = difflib.get_close_matches(str(spelling), spellings, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return "; known units: " + ", ".join(catalogue())


def convertible(source: Unit | str, target: Unit | str) -> bool:
    """Whether figures in ``source`` can be expressed in ``target``."""
    source, target = _unit(source), _unit(target)
    return source.dimension == target.dimension or (
        source.dimension == GENERIC_COUNT and target.dimension.startswith(GENERIC_COUNT + ":")
    )


def factor(source: Unit | str, target: Unit | str) -> Decimal:
    """What a figure in ``source`` is multiplied by to be in ``target`` (ar → ha: 0.01)."""
    source, target = _unit(source), _unit(target)
    if not convertible(source, target):
        raise UnitError(
            f"{source.label_de} ({source.id}, {source.dimension}) cannot be converted into "
            f"{target.label_de} ({target.id}, {target.dimension}): different dimensions"
        )
    return source.factor / target.factor


def agree(first: Unit | str, second: Unit | str) -> bool:
    """Two statements of a unit that mean the same figures (``Anzahl`` and ``Personen`` do)."""
    first, second = _unit(first), _unit(second)
    return first == second or any(
        convertible(a, b) and factor(a, b) == 1 for a, b in ((first, second), (second, first))
    )


def convert(value: Any, source: Unit | str, target: Unit | str) -> Any:
    """``value`` (a number, or an iterable of numbers) from ``source`` into ``target``.

    A Decimal stays a Decimal; other numbers come back as floats that equal
    their decimal result as written. None and NaN stay as they are.
    """
    scale = factor(source, target)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return _scaled(value, scale)
    return [_scaled(v, scale) for v in value]


def _scaled(value: Any, scale: Decimal) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return value
    if isinstance(value, Decimal):
        return value * scale
    return float(Decimal(repr(value) if isinstance(value, float) else str(value)) * scale)


def _unit(unit: Unit | str) -> Unit:
    return unit if isinstance(unit, Unit) else get(unit)
