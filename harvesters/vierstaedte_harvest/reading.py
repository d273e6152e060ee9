"""Read a raw municipal table: encoding, delimiter, title block, stacked headers, footer.

Works on a file on disk and yields the data in chunks of string cells, so a
large file never has to fit in memory. Everything it decides goes into the
report's ``reading`` section; everything it cannot read raises
:class:`TableRejected` with a specific code.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from openpyxl.cell.cell import TYPE_ERROR, TYPE_NUMERIC
from pandas.io.parsers import TextParser

from vierstaedte_harvest.german import CONFIDENTIAL_MARKERS, MISSING_MARKERS, normalise_header
from vierstaedte_harvest.report import Issue, TableRejected

HEAD_BYTES = 256 * 1024
XLSX_MAX_UNPACKED = (
    200 * 1024 * 1024
)  # what an .xlsx may unpack to; real workbooks pack 5–20×, zip bombs hundreds×
XLSX_MAX_RATIO = 100
# what of an Excel number format is shown literally: "%", \%, [Red]; a bare % multiplies by 100
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
DELIMITERS = (";", ",", "\t", "|")
_NUMBERISH = re.compile(r"^[-−–+]?[\d.,\s\u00a0]+%?$")
_FOOTER = re.compile(
    r"^\s*(©|\(c\)|copyright|quelle|source|stand|hinweis|anmerkung|fußnote|fussnote|\*|erläuterung|zeichenerklärung)",
    re.I,
)


@dataclasses.dataclass
class ReadOptions:
    """Per-source overrides; ``None`` means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    skip_rows: int | None = None
    header_rows: int | None = None
    sheet: str | int | None = None


def _reject(code: str, message: str, **where: Any) -> TableRejected:
    return TableRejected(Issue(code, message, **where))


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if (
            len(head) >= HEAD_BYTES and error.start >= len(head) - 4
        ):  # a multi-byte character cut by the head limit
            return "utf-8"
    return "cp1252"


def _check_text(head: bytes) -> None:
    stripped = head.lstrip().lower()
    if not stripped:
        raise _reject("empty-file", "The file is empty.")
    if (
        stripped.startswith((b"<!doctype html", b"<html", b"<?xml"))
        or b"<html" in stripped[:2048]
        or b"<body" in stripped[:2048]
    ):
        raise _reject(
            "html-instead-of-csv",
            "The server sent an HTML/XML page instead of a table (an error or login page?).",
        )
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _reject(
            "encoding-error",
            "The file contains NUL bytes: it is binary or in an encoding without a byte-order mark "
            "(UTF-16?).",
        )


def _rows(text: str, delimiter: str, limit: int = 80) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the most lines into the same, largest number of fields."""
    best, best_score = ";", -1
    for delimiter in DELIMITERS:
        counts = [len(r) for r in _rows(text, delimiter) if any(c.strip() for c in r)]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        score = counts.count(modal) * (modal - 1)
        if modal > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def _is_value(cell: str) -> bool:
    cell = cell.strip()
    return bool(_NUMBERISH.match(cell)) or cell in MISSING_MARKERS or cell in CONFIDENTIAL_MARKERS


def find_header(rows: list[list[str]]) -> tuple[int, int]:
    """(rows to skip before the header, number of header rows).

    The header is the first row as wide as the table whose cells are mostly
    text; following rows belong to a stacked header while their first cell is
    empty and they hold text but no numbers, the way GENESIS exports span
    group headings. GENESIS exports start their header rows with empty key
    cells (``;;;Gebietsfläche`` over ``;;;qkm``; a row of dates over
    ``;;Insgesamt;männlich``): such rows above the table belong to its header
    however few cells they fill, where a title line starts in the first cell.
    Other year rows (``2021;2022``) look like data: for them the mapping says
    ``read: {header_rows: 2}``.
    """
    widths = [sum(1 for c in r if c.strip()) for r in rows]
    multi = [w for w in widths if w >= 2]
    if not multi:
        return 0, 1
    width = max(
        set(multi), key=lambda w: (multi.count(w), w)
    )  # the usual row width; one odd line cannot set it
    data_like = [w >= max(2, width - 1) for w in widths]
    start = next((i for i, ok in enumerate(data_like) if ok), 0)
    # a title block line can be as wide as the table only when it is the header itself
    while start > 0 and (
        (widths[start - 1] >= 2 and not all(_is_value(c) for c in rows[start - 1][1:] if c.strip()))
        or _keyed_header_row(rows[start - 1], rows[start])
    ):
        start -= 1
    header_rows = 1
    for row in rows[start + 1 :]:
        texts = [c for c in row[1:] if c.strip()]
        # a data row with an empty first cell (e.g. an unused "Nr" column) has numbers; a header row has none
        if row and not row[0].strip() and texts and not any(_is_value(c) for c in texts):
            header_rows += 1
        else:
            break
    return start, header_rows


_PERIOD_CELL = re.compile(r"\d{4}|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}/\d{4}|\d{4}/\d{2,4}")


def _keyed_header_row(row: list[str], below: list[str]) -> bool:
    """A GENESIS header row: empty key cells first, then text, or periods over such a row."""
    cells = [c.strip() for c in row]
    if not cells or cells[0] or not any(cells):
        return False
    filled = [c for c in cells if c]
    if not any(_is_value(c) for c in filled):
        return True
    below_cells = [c.strip() for c in below]
    return (
        all(_PERIOD_CELL.fullmatch(c) for c in filled)
        and bool(below_cells)
        and not below_cells[0]
        and not any(_is_value(c) for c in below_cells if c)
    )


def combine_headers(header_block: list[list[str]]) -> list[str]:
    """Stacked header rows → one name per column (spanning cells carried right)."""
    width = max(len(r) for r in header_block)
    parts: list[list[str]] = [[] for _ in range(width)]
    for depth, row in enumerate(header_block):
        carry = ""
        for i in range(width):
            cell = normalise_header(row[i]) if i < len(row) else ""
            if cell:
                carry = cell
            elif depth < len(header_block) - 1:
                cell = carry  # spanning group heading
            if cell:
                parts[i].append(cell)
    return [" ".join(p) for p in parts]


@dataclasses.dataclass
class Table:
    """A readable table: its header and a way to stream its data rows."""

    path: Path
    kind: str  # "csv" | "xlsx"
    headers: list[str]
    info: dict[str, Any]
    _frame: pd.DataFrame | None = None  # xlsx: read at once

    def chunks(
        self, size: int = 200_000, positions: list[int] | None = None
    ) -> Iterator[pd.DataFrame]:
        """Data rows as string cells, columns labelled by position; the index is the 1-based row number.

        ``positions`` limits the result to the columns needed (plus the first:
        footers live there). Rows that look like a footer (only the first
        cell filled) are held back until a later data row shows they were not
        the end of the table.
        """
        wanted = (
            sorted({0, *positions}) if positions is not None else list(range(len(self.headers)))
        )
        held = None
        for chunk in self._raw_chunks(size, wanted):
            chunk = chunk if held is None else pd.concat([held, chunk])
            cut = _footer_start(chunk)
            held = chunk.iloc[cut:]
            if cut:
                yield chunk.iloc[:cut]
        if held is not None and len(held):
            self.info["footer_rows"] = [
                str(v) for v in held.iloc[:, 0] if str(v).strip()
            ] + self.info.get("footer_rows", [])

    def _raw_chunks(self, size: int, wanted: list[int]) -> Iterator[pd.DataFrame]:
        if self._frame is not None:
            yield self._frame[wanted]
            return
        width = len(self.headers)
        names = [str(i) for i in range(width)]
        short_rows: list[str] = []
        open_quote: list[str] = []

        def invalid_row(row) -> str:
            # an unbalanced quote runs to the end of the file: the transfer was cut off inside a cell
            if row.text.count('"') % 2:
                open_quote.append(row.text)
                return "error"
            # a row with too many cells is always an error; short ones are fine only as a footer at
            # the very end
            if row.actual_columns > row.expected_columns:
                return "error"
            short_rows.append(row.text)
            return "skip"

        try:
            reader = pa_csv.open_csv(
                self.path,
                read_options=pa_csv.ReadOptions(
                    encoding=self.info["encoding"],
                    column_names=names,
                    skip_rows=self.info["skipped_title_rows"] + self.info["header_rows"],
                    block_size=1 << 19,
                ),
                parse_options=pa_csv.ParseOptions(
                    delimiter=self.info["delimiter"],
                    newlines_in_values=True,
                    invalid_row_handler=invalid_row,
                ),
                convert_options=pa_csv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            offset, pending = 0, []
            for batch in itertools.chain(reader, [None]):
                if batch is not None:
                    pending.append(batch.select([names[i] for i in wanted]))
                    if sum(len(b) for b in pending) < size:
                        continue
                if not pending:
                    break
                chunk = pa.Table.from_batches(pending).to_pandas(types_mapper=_ARROW_STRINGS.get)
                pending = []
                chunk.columns = wanted
                chunk.index = pd.RangeIndex(offset + 1, offset + 1 + len(chunk))
                offset += len(chunk)
                yield chunk
        except pa.ArrowInvalid as error:
            if open_quote:
                raise _reject(
                    "truncated-file",
                    f"The file ends inside a quoted cell: it was cut off ({open_quote[0][:80]!r}).",
                ) from None
            raise _reject(*_arrow_problem(str(error), width)) from None
        except (UnicodeDecodeError, LookupError) as error:
            raise _reject(
                "encoding-error", f"Not readable as {self.info['encoding']}: {error}"
            ) from None
        if short_rows:
            self._check_short_rows_are_footer(short_rows, width)

    def _check_short_rows_are_footer(self, rows: list[str], width: int) -> None:
        """Lines without all the delimiters (``© Stadt Mainz``) are a footer only at the end of the file.

        A footer row may be a quoted cell over several lines (GENESIS footnotes under a
        ``__________`` rule): rows and the file's tail are compared line by line.
        """
        with self.path.open("rb") as handle:
            handle.seek(max(0, self.path.stat().st_size - 65536))
            tail = handle.read().decode(self.info["encoding"], errors="replace").splitlines()
        expected = [line.strip() for row in rows for line in row.splitlines() if line.strip()]
        last = [line.strip() for line in tail if line.strip()][-len(expected) :]
        delimiter = self.info["delimiter"]
        if last != expected or not all(
            _FOOTER.match(r) or len(next(csv.reader(io.StringIO(r), delimiter=delimiter), [])) == 1
            for r in rows
        ):
            raise _reject(
                "malformed-row",
                f"A row has fewer cells than the {width} columns of the header: {rows[0]!r}",
            )
        self.info.setdefault("footer_rows", []).extend(row.strip() for row in rows)


_ARROW_STRINGS = {pa.string(): pd.StringDtype("pyarrow")}


def _arrow_problem(message: str, width: int) -> tuple[str, str]:
    if "columns" in message:
        return "malformed-row", f"A row does not fit the header of {width} columns: {message}"
    return "unreadable-csv", f"The CSV cannot be parsed: {message}"


def _footer_start(frame: pd.DataFrame) -> int:
    """Position where trailing footer-like rows (notes, copyright, blank) begin; looks only at the tail."""
    cut = len(frame)
    while cut > 0:
        first, *others = (str(cell) for cell in frame.iloc[cut - 1])
        if any(cell.strip() for cell in others) or (first.strip() and not _FOOTER.match(first)):
            break
        cut -= 1
    return cut


def open_table(path: str | Path, options: ReadOptions | None = None) -> Table:
    path = Path(path)
    options = options or ReadOptions()
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, options)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _reject(
            "unsupported-format", "Old Excel format (.xls) is not supported; ask for .xlsx or CSV."
        )
    _check_text(head)
    encoding = options.encoding or detect_encoding(head)
    try:
        text = head.decode(encoding, errors="strict" if len(head) < HEAD_BYTES else "ignore")
    except (UnicodeDecodeError, LookupError) as error:
        raise _reject("encoding-error", f"Not readable as {encoding}: {error}") from None
    if "Ã¤" in text or "Ã¼" in text or "Ã¶" in text:
        raise _reject(
            "encoding-error",
            "The text is UTF-8 that was decoded as Latin-1 once before (mojibake such as 'Ã¤').",
        )
    delimiter = options.delimiter or sniff_delimiter(text)
    rows = _rows(text, delimiter)
    if not rows:
        raise _reject("empty-file", "The file has no rows.")
    skip, header_rows = find_header(rows)
    if options.skip_rows is not None:
        skip = options.skip_rows
    if options.header_rows is not None:
        header_rows = options.header_rows
    header_block = rows[skip : skip + header_rows]
    if not header_block:
        raise _reject("empty-file", "The file has a title but no table.")
    headers = combine_headers(header_block)
    if not headers:
        raise _reject("empty-file", "The file has no columns.")
    info = {
        "format": "csv",
        "encoding": encoding,
        "delimiter": delimiter,
        "skipped_title_rows": skip,
        "title": _title(rows[:skip]),
        "header_rows": header_rows,
        "columns": headers,
    }
    _check_headers(headers)
    _check_tail(path, encoding, delimiter, len(headers))
    return Table(path, "csv", headers, info)


def _check_tail(path: Path, encoding: str, delimiter: str, width: int) -> None:
    """A file cut off in transfer ends without a line break inside a short last row."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 65536))
        tail = handle.read()
    if tail.endswith((b"\n", b"\r")):
        return
    last = (
        tail.replace(b"\r", b"\n").rsplit(b"\n", 1)[-1].decode(encoding, errors="replace")
    )  # CR-only files too
    cells = next(csv.reader([last], delimiter=delimiter), [])
    if len(cells) < width:
        raise _reject(
            "truncated-file",
            f"The last line has {len(cells)} of {width} columns and no line end: "
            "the file was cut off.",
        )


def _title(rows: list[list[str]]) -> list[str]:
    return [line for line in (" ".join(c.strip() for c in r if c.strip()) for r in rows) if line]


def _check_headers(headers: list[str]) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(headers, start=1):
        if name and name in seen:
            raise _reject(
                "duplicate-header",
                f"Column {position} repeats the header {name!r} of column {seen[name]}.",
                field=name,
            )
        seen[name] = position


def _xlsx_cell(value: Any) -> str:
    """Excel cells as the CSV path sees them: numbers in German notation, dates ISO."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() else repr(value)).replace(".", ",")
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    return str(value)


def _xlsx_value(cell: Any) -> Any:
    """A cell as pandas reads it, but a number shown in a percent format as ``9,7 %``.

    Excel stores 9.7 % as 0.097; the CSV path reads ``9,7 %`` as percent, so the
    stored value is multiplied by 100 in decimal (0.097 × 100 is exactly 9.7) and
    the cell states its unit the same way. Other numbers keep their stored value,
    not the rounded one the number format shows.
    """
    if cell.value is None:
        return ""
    if cell.data_type == TYPE_ERROR:
        return float("nan")
    if cell.data_type != TYPE_NUMERIC or isinstance(cell.value, bool):
        return cell.value
    if cell.number_format and "%" in _FORMAT_LITERALS.sub("", cell.number_format):
        percent = Decimal(repr(cell.value)) * 100
        return format(percent.normalize(), "f").replace(".", ",") + " %"
    return int(cell.value) if int(cell.value) == cell.value else float(cell.value)


def _read_xlsx(path: Path, sheet: str | int) -> pd.DataFrame:
    """The sheet as ``pandas.read_excel(header=None, dtype=object)`` reads it, formats seen."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        cells = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
        cells.reset_dimensions()  # declared dimensions can be wrong
        rows = []
        for row in cells.rows:
            values = [_xlsx_value(cell) for cell in row]
            while values and values[-1] == "":
                values.pop()
            rows.append(values)
    finally:
        book.close()
    while rows and not rows[-1]:
        rows.pop()
    width = max(map(len, rows), default=0)
    rows = [row + [""] * (width - len(row)) for row in rows]
    return TextParser(rows, header=None, dtype=object).read()


def _open_xlsx(path: Path, options: ReadOptions) -> Table:
    try:  # the sizes the archive declares bound what unpacking yields (zipfile stops there)
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise _reject("unreadable-excel", f"The Excel file cannot be read: {error}") from None
    ratio = unpacked / max(path.stat().st_size, 1)
    if unpacked > XLSX_MAX_UNPACKED or (unpacked > 10 * 1024 * 1024 and ratio > XLSX_MAX_RATIO):
        raise _reject(
            "too-large",
            f"The Excel file unpacks to {unpacked:,} bytes ({ratio:,.0f}× its size); "
            "refused as a possible zip bomb.",
        )
    try:
        frame = _read_xlsx(path, options.sheet or 0)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many types for broken files
        raise _reject("unreadable-excel", f"The Excel file cannot be read: {error}") from None
    rows = [[_xlsx_cell(v) for v in r] for r in frame.itertuples(index=False, name=None)]
    if not any(any(c.strip() for c in r) for r in rows):
        raise _reject("empty-file", "The Excel sheet is empty.")
    skip, header_rows = find_header(rows[:80])
    skip = options.skip_rows if options.skip_rows is not None else skip
    header_rows = options.header_rows if options.header_rows is not None else header_rows
    headers = combine_headers(rows[skip : skip + header_rows])
    _check_headers(headers)
    data = pd.DataFrame(rows[skip + header_rows :], columns=range(len(headers)), dtype=str)
    data = data[(data != "").any(axis=1)]
    data.index = pd.RangeIndex(1, len(data) + 1)
    info = {
        "format": "xlsx",
        "sheet": options.sheet or 0,
        "skipped_title_rows": skip,
        "title": _title(rows[:skip]),
        "header_rows": header_rows,
        "columns": headers,
    }
    return Table(path, "xlsx", headers, info, _frame=data)
