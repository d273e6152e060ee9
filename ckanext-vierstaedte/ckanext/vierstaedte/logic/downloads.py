"""The comparison's CSV in two variants: for programs and for German spreadsheets.

A program wants UTF-8, commas and decimal points (``machine``, the default). German Excel
opens a CSV by the locale: without a byte order mark the umlauts break, a comma-separated file
lands in one column and ``72.19`` becomes a date or 7219. ``excel`` is therefore UTF-8 with BOM,
``;`` and decimal commas (``72,19``), numbers unquoted so they stay numbers. Both variants name
for every row its source (dataset title and page), its licence (name and text URL) and the
attribution the licence asks for (DL-DE-BY: provider, title, URL, licence, "changed"), so a
table passed on still says where its figures come from. Text cells are quoted and made
``spreadsheet_safe`` (no formulas).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.vierstaedte.logic import exports
from ckanext.vierstaedte.logic.tools import citations
from vierstaedte_contract import table as contract_table
from vierstaedte_contract.csvsafe import spreadsheet_safe

MACHINE, EXCEL = "machine", "excel"
VARIANTS = (MACHINE, EXCEL)
BOM = "\ufeff"


def variant(value: str | None) -> str:
    """The requested variant: ``?format=excel``, or the machine CSV without ``format``.

    Raises ValueError for any other value: a typo must not quietly give the other file.
    """
    if value in (None, "", MACHINE, "csv"):
        return MACHINE
    if value == EXCEL:
        return EXCEL
    raise ValueError(value)


def provenance_header() -> list[str]:
    return [
        str(tk._("Quelle (URL)")),
        str(tk._("Lizenz")),
        str(tk._("Lizenz (URL)")),
        str(tk._("Namensnennung")),
    ]


def provenance(sources: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per source table (``resource_id``): dataset page, licence, licence URL, attribution."""
    cells = {}
    for source in sources:
        dataset = tk.get_action("package_show")({}, {"id": source["dataset_name"]})
        licence = exports.licence_details(dataset)
        page = exports.dataset_urls(dataset)["page"]
        cells[source["resource_id"]] = [
            page,
            licence["title"] or "",
            licence["url"] or licence["id"] or "",
            citations.attribution(dataset, licence, page, "de"),
        ]
    return cells


def _number(cell: str, decimal: str) -> str:
    """A number cell as written: plain digits, ``decimal`` as the separator, never exponents."""
    number = contract_table.number(cell)
    if number is None:
        return ""
    text = format(Decimal(str(number)), "f")
    return text.replace(".", decimal)


def _text(cell: Any) -> str:
    return '"' + spreadsheet_safe(str(cell)).replace('"', '""') + '"'


def _label(label: str, delimiter: str) -> str:
    """A header label (ours), quoted only where it must be."""
    return _text(label) if any(c in label for c in (delimiter, '"', "\n", "\r")) else label


def comparison_csv(shown: dict[str, Any], result: dict[str, Any], which: str = MACHINE) -> str:
    """The comparison table ``shown`` (one row per row of ``result``) with provenance columns.

    ``shown`` is the page's table (``header``, ``rows``, ``number_columns``); ``result`` the
    indicator query it was made from, whose rows name their source table.
    """
    excel = which == EXCEL
    delimiter, decimal = (";", ",") if excel else (",", ".")
    numbers = shown["number_columns"]
    by_source = provenance(result["sources"])
    header = [*shown["header"], *provenance_header()]
    lines = [delimiter.join(_label(label, delimiter) for label in header)]
    for cells, row in zip(shown["rows"], result["rows"], strict=True):
        written = [
            _number(cell, decimal) if index in numbers else _text(cell)
            for index, cell in enumerate(cells)
        ]
        written += [_text(cell) for cell in by_source[row["resource_id"]]]
        lines.append(delimiter.join(written))
    return (BOM if excel else "") + "\r\n".join(lines) + "\r\n"
