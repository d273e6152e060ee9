"""No CSV we publish carries a spreadsheet formula: one rule for every writer.

Both wings write CSV that people open in Excel or LibreOffice: the harvester
its normalised tables, the portal its comparison download. Text from a city's
headers or cells that a spreadsheet would run (``=HYPERLINK(…)``) gets a
leading apostrophe, the way OWASP's CSV-injection advice recommends.
"""

from __future__ import annotations

import functools
import re

_FORMULA = re.compile(r"^(\s*[=+\-@]|[\t\r])")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")


@functools.cache
def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading apostrophe if a spreadsheet would run it as a formula.

    That is text whose first non-blank character is ``= + - @``, or that starts
    with a tab or CR. Text that is only a plain number (``-3.5``) cannot run and
    stays; value columns hold numbers and are never passed here.
    """
    return "'" + text if _FORMULA.match(text) and not _PLAIN_NUMBER.match(text) else text
