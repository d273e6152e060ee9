"""German conventions in municipal tables: numbers, "no value" markers, periods, dimensions.

Numbers are parsed per *column*: the whole column decides whether ``1.234``
is one thousand two hundred thirty-four (German thousands separator) or one
point two three four (English decimal point), and the decision is reported.
Everything is vectorised; cell-by-cell Python only runs over distinct values.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

MISSING_MARKERS = frozenset({"", ".", "..", "...", "…", "-", "–", "—", "/", "k.A.", "k. A.", "NA", "n.a.", "n. a."})
CONFIDENTIAL_MARKERS = frozenset({"x", "X", "geheim", "*"})

_DE_EVIDENCE = re.compile(r"^\d{1,3}(\.\d{3}){2,}(,\d+)?$|^\d{1,3}(\.\d{3})+,\d+$|^\d+,\d{1,2}$|^\d+,\d{4,}$")
_EN_EVIDENCE = re.compile(r"^\d{1,3}(,\d{3}){2,}(\.\d+)?$|^\d{1,3}(,\d{3})+\.\d+$|^\d+\.\d{1,2}$|^\d+\.\d{4,}$")
_AMBIGUOUS_DOT = re.compile(r"^\d{1,3}\.\d{3}$")  # 1.234: thousand or decimal?
_AMBIGUOUS_COMMA = re.compile(r"^\d{1,3},\d{3}$")  # 1,234: decimal or thousand?
_DE_NUMBER = re.compile(r"^\d{1,3}(\.\d{3})*(,\d+)?$|^\d+(,\d+)?$")
_EN_NUMBER = re.compile(r"^\d{1,3}(,\d{3})*(\.\d+)?$|^\d+(\.\d+)?$")

GERMAN, ENGLISH, INTEGER = "de", "en", "integer"


@dataclasses.dataclass
class ParsedColumn:
    """A numeric column: values (NaN where none), per-cell status, and what was decided."""

    values: pd.Series
    status: pd.Series  # "reported" | "missing" | "confidential" | "invalid"
    number_format: str
    percent: bool
    note: str | None = None
    conflict_rows: list[int] = dataclasses.field(default_factory=list)


def parse_numbers(series: pd.Series, number_format: str | None = None) -> ParsedColumn:
    """Parse a column of German-formatted numbers.

    ``number_format`` forces ``de`` or ``en``; by default the column decides.
    The work runs once per distinct cell text, then maps back to the rows.
    """
    codes, uniques = pd.factorize(series.fillna(""), sort=False)
    weights = np.bincount(codes, minlength=len(uniques)) if len(codes) else np.zeros(0, dtype=int)
    parsed = _parse_distinct_numbers(pd.Series(uniques, dtype=object), weights, number_format)
    status = pd.Series(parsed.status.to_numpy()[codes], index=series.index, dtype=object)
    values = pd.Series(parsed.values.to_numpy()[codes], index=series.index, dtype="float64")
    conflict_rows = list(series.index[np.isin(codes, parsed.conflict_rows)]) if parsed.conflict_rows else []
    return ParsedColumn(values, status, parsed.number_format, parsed.percent, parsed.note, conflict_rows)


def _parse_distinct_numbers(raw: pd.Series, weights: np.ndarray, number_format: str | None) -> ParsedColumn:
    """``parse_numbers`` over distinct texts; ``weights`` = how many rows hold each text."""
    raw = raw.astype(str).str.strip()
    status = pd.Series("reported", index=raw.index, dtype=object)
    status[raw.isin(MISSING_MARKERS)] = "missing"
    status[raw.isin(CONFIDENTIAL_MARKERS)] = "confidential"
    # spaces, no-break and thin spaces serve as thousands separators too
    cells = raw.where(status == "reported", "").str.replace(r"[\s\u00a0\u202f]+", "", regex=True)

    percent = bool(cells.str.endswith("%").any())
    if percent:
        cells = cells.str.removesuffix("%")
    negative = cells.str.match(r"^[-−–]\d").astype(bool)
    cells = cells.str.replace(r"^[-−–+](?=\d)", "", regex=True)

    punctuated = cells.str.contains(r"[.,]", regex=True).astype(bool)
    sample = cells[punctuated]
    de = sample.str.match(_DE_EVIDENCE).astype(bool)
    en = sample.str.match(_EN_EVIDENCE).astype(bool)
    rows_de, rows_en = int(weights[de[de].index].sum()), int(weights[en[en].index].sum())
    note = None
    conflicts: list[int] = []
    if number_format is None:
        ambiguous_dot = sample.str.match(_AMBIGUOUS_DOT).astype(bool)
        if rows_de and rows_en:
            number_format = GERMAN if rows_de >= rows_en else ENGLISH
            minority = en if number_format == GERMAN else de
            conflicts = list(minority[minority].index)
            note = (f"mixed number formats: {rows_de} German-style and {rows_en} English-style cells; "
                    f"read as {number_format}, the others are errors")
        elif rows_en:
            number_format = ENGLISH
            note = "decimal point: English-style cells such as " + repr(sample[en].iloc[0])
        elif rows_de or sample.str.match(_AMBIGUOUS_COMMA).any():
            number_format = GERMAN
        elif ambiguous_dot.any():
            number_format = GERMAN
            note = ("ambiguous: every punctuated cell looks like " + repr(sample[ambiguous_dot].iloc[0])
                    + "; read '.' as German thousands separator")
        else:
            number_format = INTEGER
    if number_format == ENGLISH:
        valid = cells.str.match(_EN_NUMBER).astype(bool)
        numeric = cells.str.replace(",", "", regex=False)
    else:
        valid = cells.str.match(_DE_NUMBER).astype(bool)
        numeric = cells.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    values = pd.to_numeric(numeric.where(valid & (status == "reported")), errors="coerce").astype("float64")
    values = values.where(~negative, -values)
    invalid = (status == "reported") & (~valid | values.isna())
    if conflicts:
        invalid |= raw.index.isin(conflicts)
        values[raw.index.isin(conflicts)] = np.nan
    status[invalid] = "invalid"
    return ParsedColumn(values, status, number_format, percent, note, conflicts)


# --- periods --------------------------------------------------------------------------

_PERIOD_PATTERNS: list[tuple[re.Pattern, Any]] = [
    (re.compile(r"^(\d{4})$"), lambda m: m[1]),
    (re.compile(r"^(\d{4})-(\d{2})$"), lambda m: f"{m[1]}-{m[2]}"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+)?$"), lambda m: f"{m[1]}-{m[2]}-{m[3]}"),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?: [\d:.]+)?$"), lambda m: f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}"),
    (re.compile(r"^(\d{1,2})[./](\d{4})$"), lambda m: f"{m[2]}-{int(m[1]):02d}"),
    (re.compile(r"^(\d{4})\s*[/–-]\s*(\d{4})$"), lambda m: f"{m[1]}/{m[2]}"),
    (re.compile(r"^(\d{4})\s*[/–-]\s*(\d{2})$"), lambda m: f"{m[1]}/{m[1][:2]}{m[2]}"),
    (re.compile(r"^([1-4])\.\s*(?:Quartal|Q)\s*(\d{4})$", re.I),
     lambda m: f"{m[2]}-{3 * int(m[1]) - 2:02d}/{m[2]}-{3 * int(m[1]):02d}"),
]
_PERIOD_PREFIX = re.compile(r"^(?:Stand|Stichtag|Jahr|Zeitraum|am)\s*:?\s*", re.I)


def parse_period(value: Any) -> str | None:
    """ISO 8601 period for a German period cell or header; None when it is not one."""
    if isinstance(value, (pd.Timestamp,)) or hasattr(value, "isoformat"):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    text = _PERIOD_PREFIX.sub("", str(value).strip())
    for pattern, build in _PERIOD_PATTERNS:
        match = pattern.match(text)
        if match:
            iso = build(match)
            return iso if _plausible(iso) else None
    return None


def _plausible(iso: str) -> bool:
    for part in iso.split("/"):
        pieces = part.split("-")
        if not 1800 <= int(pieces[0]) <= 2200:
            return False
        if len(pieces) > 1 and not 1 <= int(pieces[1]) <= 12:
            return False
        if len(pieces) > 2:
            try:
                pd.Timestamp(part)
            except ValueError:
                return False
    return True


# --- dimensions -----------------------------------------------------------------------

TOTAL_WORDS = {"insgesamt", "gesamt", "zusammen", "summe", "total", "alle", "alle altersgruppen", "stadt insgesamt"}

_AGE_PATTERNS: list[tuple[re.Pattern, Any]] = [
    (re.compile(r"^(\d{1,3})\s*(?:-|–|bis)\s*(?:unter|u\.)\s*(\d{1,3})(?:\s*jahre?n?)?$"), lambda m: f"{m[1]}-{int(m[2]) - 1}"),
    (re.compile(r"^(\d{1,3})\s*(?:-|–|bis)\s*(\d{1,3})(?:\s*jahre?n?)?$"), lambda m: f"{m[1]}-{m[2]}"),
    (re.compile(r"^unter\s*(\d{1,3})(?:\s*jahre?n?)?$"), lambda m: f"0-{int(m[1]) - 1}"),
    (re.compile(r"^(\d{1,3})\s*(?:\+|(?:jahre?\s*)?(?:u\.|und)\s*(?:älter|aelter|mehr|darüber))$"), lambda m: f"{m[1]}+"),
    (re.compile(r"^(\d{1,3})(?:\s*jahre?)?$"), lambda m: f"{m[1]}-{m[1]}"),
]


def parse_age_group(value: Any) -> str | None:
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    if text in TOTAL_WORDS:
        return "total"
    for pattern, build in _AGE_PATTERNS:
        match = pattern.match(text)
        if match:
            return build(match)
    return None


_SEX = {
    "total": TOTAL_WORDS,
    "male": {"männlich", "maennlich", "m", "männer", "maenner", "mann"},
    "female": {"weiblich", "w", "frauen", "frau"},
    "diverse": {"divers", "d"},
    "unknown": {"ohne angabe", "unbekannt", "o. a.", "o.a."},
}
_NATIONALITY = {
    "total": TOTAL_WORDS,
    "german": {"deutsch", "deutsche", "deutsche staatsangehörigkeit", "deutschland"},
    "foreign": {"ausländisch", "auslaendisch", "ausländer", "auslaender", "nichtdeutsch", "nichtdeutsche", "nicht-deutsch", "ausländerinnen und ausländer"},
}


def _lookup(table: dict[str, set[str]], value: Any) -> str | None:
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    return next((code for code, words in table.items() if text in words or text == code), None)


def parse_sex(value: Any) -> str | None:
    return _lookup(_SEX, value)


def parse_nationality(value: Any) -> str | None:
    return _lookup(_NATIONALITY, value)


DIMENSION_PARSERS = {"sex": parse_sex, "age_group": parse_age_group, "nationality": parse_nationality}


def normalise_header(value: Any) -> str:
    """One spelling per header: NFC, single spaces, no surrounding space or quotes."""
    text = unicodedata.normalize("NFC", str(value))
    return re.sub(r"\s+", " ", text).strip().strip('"').strip()


def name_key(value: Any) -> str:
    """Comparison key for names: case, umlaut spelling, '-', '/' and spaces do not matter."""
    text = unicodedata.normalize("NFC", str(value)).lower().strip()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[\s\-/_.,]+", " ", text).strip()
