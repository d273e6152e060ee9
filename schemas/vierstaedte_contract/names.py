"""How names compare: the one key both the harvester and the portal match area names with.

Cities spell the same district ``Mainz-Gonsenheim``, ``mainz gonsenheim`` or
``Muenster``/``Münster``; the key makes case, umlaut spellings, hyphens,
slashes and blanks irrelevant, and nothing else (no stemming, no fuzzy match):
a name either is a known spelling or it stays unknown.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# words that name "all of it" in a breakdown column or an area column
TOTAL_WORDS = frozenset(
    {
        "insgesamt",
        "gesamt",
        "zusammen",
        "summe",
        "total",
        "alle",
        "alle altersgruppen",
        "stadt insgesamt",
    }
)

_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))
_SEPARATORS = re.compile(r"[\s\-/_.,]+")


def name_key(value: Any) -> str:
    """Comparison key for names: case, umlaut spelling, '-', '/' and spaces do not matter."""
    text = unicodedata.normalize("NFC", str(value)).lower().strip()
    for umlaut, plain in _UMLAUTS:
        text = text.replace(umlaut, plain)
    return _SEPARATORS.sub(" ", text).strip()
