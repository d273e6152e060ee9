"""German conventions in municipal tables: numbers, "no value" markers, periods, dimensions.

Numbers are parsed per *column*: the whole column decides whether ``1.234``
is one thousand two hundred thirty-four (German thousands separator) or one
point two three four (English decimal point), and the decision is reported.
Numbers are parsed with Arrow compute kernels; periods and dimensions, which
repeat, are parsed once per distinct value.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vierstaedte_contract.names import TOTAL_WORDS

MISSING_MARKERS = frozenset(
    {"", ".", "..", "...", "…", "-", "–", "—", "/", "k.A.", "k. A.", "NA", "n.a.", "n. a."}
)
CONFIDENTIAL_MARKERS = frozenset({"x", "X", "geheim", "*"})

# RE2 patterns (Arrow compute): evidence for a notation, and what a valid number looks like in it
_DE_EVIDENCE = r"^\d{1,3}(\.\d{3}){2,}(,\d+)?$|^\d{1,3}(\.\d{3})+,\d+$|^\d+,\d{1,2}$|^\d+,\d{4,}$"
_EN_EVIDENCE = r"^\d{1,3}(,\d{3}){2,}(\.\d+)?$|^\d{1,3}(,\d{3})+\.\d+$|^\d+\.\d{1,2}$|^\d+\.\d{4,}$"
_AMBIGUOUS_DOT = r"^\d{1,3}\.\d{3}$"  # 1.234: thousand or decimal?
_AMBIGUOUS_COMMA = r"^\d{1,3},\d{3}$"  # 1,234: decimal or thousand?
_DE_NUMBER = r"^\d{1,3}(\.\d{3})*(,\d+)?$|^\d+(,\d+)?$"
_EN_NUMBER = r"^\d{1,3}(,\d{3})*(\.\d+)?$|^\d+(\.\d+)?$"

GERMAN, ENGLISH, INTEGER = "de", "en", "integer"


STATUSES = ("reported", "missing", "confidential", "invalid")
REPORTED, MISSING, CONFIDENTIAL, INVALID = range(4)


@dataclasses.dataclass
class ParsedColumn:
    """A numeric column: values (NaN where none), per-cell status, and what was decided."""

    values: pd.Series
    status: (
        pd.Series
    )  # categorical over STATUSES: "reported" | "missing" | "confidential" | "invalid"
    number_format: str
    percent: bool
    note: str | None = None
    conflict_rows: list[int] = dataclasses.field(default_factory=list)


def parse_numbers(series: pd.Series, number_format: str | None = None) -> ParsedColumn:
    """Parse a column of German-formatted numbers.

    ``number_format`` forces ``de`` or ``en``; by default the column decides.
    Runs on Arrow compute kernels (the figures are in docs/performance.md).
    Which kernels run is decided from the bytes of the whole column first: a
    column without ``,`` needs no decimal-comma pass, a plain ASCII one no
    Unicode trimming, so a typical column costs few passes.
    """
    cells = pc.fill_null(_arrow_strings(series), "")
    text = _bytes_of(cells)
    plain = not _has_space_or_unicode(text)
    if not plain:
        cells = pc.utf8_trim_whitespace(cells)
    markers = np.asarray(
        pc.fill_null(pc.index_in(cells, value_set=_MARKERS), -1).to_numpy(zero_copy_only=False)
    )
    missing = (markers >= 0) & (markers < len(MISSING_MARKERS))
    confidential = markers >= len(MISSING_MARKERS)
    reported = markers < 0
    if not plain:
        for space in (
            "\u00a0",
            "\u202f",
            " ",
        ):  # spaces, no-break and thin spaces separate thousands too
            if space.encode() in text:
                cells = pc.replace_substring(cells, space, "")
    percent = b"%" in text and bool(pc.any(pc.ends_with(cells, "%")).as_py())
    if percent:
        cells = pc.replace_substring_regex(cells, "%$", "")
    cells, negative = _strip_sign(cells, text, plain)

    has_comma, has_dot = b"," in text, b"." in text
    de = _matches(cells, _DE_EVIDENCE, reported) if has_comma or has_dot else None
    en = _matches(cells, _EN_EVIDENCE, reported) if has_comma or has_dot else None
    rows_de, rows_en = (int(de.sum()), int(en.sum())) if de is not None else (0, 0)
    note = None
    conflicts = np.zeros(len(markers), dtype=bool)
    if number_format is None:
        if rows_de and rows_en:
            number_format = GERMAN if rows_de >= rows_en else ENGLISH
            conflicts = en if number_format == GERMAN else de
            note = (
                f"mixed number formats: {rows_de} German-style and {rows_en} English-style cells; "
                f"read as {number_format}, the others are errors"
            )
        elif rows_en:
            number_format = ENGLISH
            note = "decimal point: English-style cells such as " + repr(
                series.iloc[int(np.argmax(en))]
            )
        elif rows_de or (has_comma and _matches(cells, _AMBIGUOUS_COMMA).any()):
            number_format = GERMAN
        elif has_dot and (ambiguous := _matches(cells, _AMBIGUOUS_DOT, reported)).any():
            number_format = GERMAN
            note = (
                "ambiguous: every punctuated cell looks like "
                + repr(series.iloc[int(np.argmax(ambiguous))].strip())
                + "; read '.' as German thousands separator"
            )
        else:
            number_format = INTEGER
    if not (has_comma or has_dot):
        valid = _mask(pc.ascii_is_decimal(cells))  # digits only: every notation reads them alike
        numeric = cells
    elif number_format == ENGLISH:
        valid = _matches(cells, _EN_NUMBER)
        numeric = pc.replace_substring(cells, ",", "") if has_comma else cells
    else:
        valid = _matches(cells, _DE_NUMBER)
        numeric = pc.replace_substring(cells, ".", "") if has_dot else cells
        numeric = pc.replace_substring(numeric, ",", ".") if has_comma else numeric
    readable = valid & reported & ~conflicts
    numbers = pc.cast(
        pc.if_else(pa.array(readable), numeric, pa.scalar(None, pa.string())), pa.float64()
    )
    values = np.asarray(numbers.to_numpy(zero_copy_only=False), dtype="float64")
    if negative is not None:
        values = np.where(negative, -values, values)
    status = np.full(len(values), INVALID, dtype=np.int8)
    status[readable] = REPORTED
    status[missing] = MISSING
    status[confidential] = CONFIDENTIAL
    return ParsedColumn(
        pd.Series(values, index=series.index),
        pd.Series(
            pd.Categorical.from_codes(status, categories=pd.Index(STATUSES, dtype=object)),
            index=series.index,
        ),
        number_format,
        percent,
        note,
        list(series.index[conflicts]),
    )


_MARKERS = pa.array(
    sorted(MISSING_MARKERS) + sorted(CONFIDENTIAL_MARKERS)
)  # index < len(MISSING_MARKERS): missing


def _strip_sign(cells: pa.Array, text: bytes, plain: bool) -> tuple[pa.Array, np.ndarray | None]:
    """Cells without a leading sign, and which were negative (None: no cell has a sign)."""
    if plain:  # ASCII only: '-' and '+'
        if b"-" not in text and b"+" not in text:
            return cells, None
        minus = (
            _mask(pc.starts_with(cells, "-")) if b"-" in text else np.zeros(len(cells), dtype=bool)
        )
        plus = (
            _mask(pc.starts_with(cells, "+")) if b"+" in text else np.zeros(len(cells), dtype=bool)
        )
        signed, negative = minus | plus, minus
    else:  # also the minus sign and the en dash that typesetting puts in front of numbers
        signed = _mask(pc.match_substring_regex(cells, r"^[-+\x{2212}\x{2013}]\d"))
        negative = signed & ~_mask(pc.starts_with(cells, "+"))
    if signed.any():
        cells = pc.if_else(pa.array(signed), pc.utf8_slice_codeunits(cells, 1), cells)
    return cells, negative


def _bytes_of(cells: pa.Array) -> bytes:
    """The cells' UTF-8 text in one buffer (a superset when the array is a slice)."""
    data = cells.buffers()[2]
    return data.to_pybytes() if data is not None else b""


def _has_space_or_unicode(text: bytes) -> bool:
    raw = np.frombuffer(text, dtype=np.uint8)
    return bool(((raw <= 0x20) | (raw >= 0x80)).any())


def _matches(cells: pa.Array, pattern: str, where: np.ndarray | None = None) -> np.ndarray:
    found = _mask(pc.match_substring_regex(cells, pattern))
    return found & where if where is not None else found


def _arrow_strings(series: pd.Series) -> pa.Array:
    """The column as an Arrow string array (zero-copy when pandas already holds it in Arrow)."""
    try:
        array = pa.array(series.array, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        array = pa.array(series.astype(object).to_numpy(), type=pa.string(), from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _mask(array: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


# --- periods --------------------------------------------------------------------------

_PERIOD_PATTERNS: list[tuple[re.Pattern, Any]] = [
    (re.compile(r"^(\d{4})$"), lambda m: m[1]),
    (re.compile(r"^(\d{4})-(\d{2})$"), lambda m: f"{m[1]}-{m[2]}"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+)?$"), lambda m: f"{m[1]}-{m[2]}-{m[3]}"),
    (
        re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?: [\d:.]+)?$"),
        lambda m: f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}",
    ),
    (re.compile(r"^(\d{1,2})[./](\d{4})$"), lambda m: f"{m[2]}-{int(m[1]):02d}"),
    (re.compile(r"^(\d{4})\s*[/–-]\s*(\d{4})$"), lambda m: f"{m[1]}/{m[2]}"),
    (re.compile(r"^(\d{4})\s*[/–-]\s*(\d{2})$"), lambda m: f"{m[1]}/{m[1][:2]}{m[2]}"),
    (
        re.compile(r"^([1-4])\.\s*(?:Quartal|Q)\s*(\d{4})$", re.I),
        lambda m: f"{m[2]}-{3 * int(m[1]) - 2:02d}/{m[2]}-{3 * int(m[1]):02d}",
    ),
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


def period_bounds(iso: str) -> tuple[str, str]:
    """First and last day of a canonical period: ``2023`` → 2023-01-01 … 2023-12-31; intervals
    span both ends."""

    def period(text: str) -> pd.Period:  # 2023, 2023-06 or 2023-06-30
        return pd.Period(text, freq=("Y", "M", "D")[text.count("-")])

    ends = iso.split("/")
    return period(ends[0]).start_time.strftime("%Y-%m-%d"), period(ends[-1]).end_time.strftime(
        "%Y-%m-%d"
    )


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


_AGE_PATTERNS: list[tuple[re.Pattern, Any]] = [
    (
        re.compile(r"^(\d{1,3})\s*(?:-|–|bis)\s*(?:unter|u\.)\s*(\d{1,3})(?:\s*jahre?n?)?$"),
        lambda m: f"{m[1]}-{int(m[2]) - 1}",
    ),
    (
        re.compile(r"^(\d{1,3})\s*(?:-|–|bis)\s*(\d{1,3})(?:\s*jahre?n?)?$"),
        lambda m: f"{m[1]}-{m[2]}",
    ),
    (re.compile(r"^unter\s*(\d{1,3})(?:\s*jahre?n?)?$"), lambda m: f"0-{int(m[1]) - 1}"),
    (
        re.compile(
            r"^(\d{1,3})\s*(?:\+|(?:jahre?\s*)?(?:u\.|und)\s*(?:älter|aelter|mehr|darüber))$"
        ),
        lambda m: f"{m[1]}+",
    ),
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
    "foreign": {
        "ausländisch",
        "auslaendisch",
        "ausländer",
        "auslaender",
        "nichtdeutsch",
        "nichtdeutsche",
        "nicht-deutsch",
        "ausländerinnen und ausländer",
    },
}


def _lookup(table: dict[str, set[str]], value: Any) -> str | None:
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    return next((code for code, words in table.items() if text in words or text == code), None)


def parse_sex(value: Any) -> str | None:
    return _lookup(_SEX, value)


def parse_nationality(value: Any) -> str | None:
    return _lookup(_NATIONALITY, value)


DIMENSION_PARSERS = {
    "sex": parse_sex,
    "age_group": parse_age_group,
    "nationality": parse_nationality,
}


def normalise_header(value: Any) -> str:
    """One spelling per header: NFC, single spaces, no surrounding space or quotes."""
    text = unicodedata.normalize("NFC", str(value))
    return re.sub(r"\s+", " ", text).strip().strip('"').strip()
