"""How names compare: the one key both the harvester and the portal match area names with.

Cities spell the same district ``Mainz-Gonsenheim``, ``mainz gonsenheim`` or
``Muenster``/``Münster``; the key makes case, umlaut spellings, hyphens,
slashes and blanks irrelevant, and nothing else (no stemming, no fuzzy match):
a name either is a known spelling or it stays unknown.

The statistical offices write a municipality the official way: its key, its
name, the kind of municipality (``07315000 Mainz, kreisfreie Stadt``,
``Trier, krfr. Stadt``, ``Ludwigshafen a.Rh., Stadt``). :func:`official_name`
takes such a spelling apart and :func:`abbreviates` compares the name with
abbreviated qualifiers; both only ever compare with a name already known, so
they add spellings, never guesses.
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

# the kind of municipality, written after its name (", kreisfreie Stadt") or before it
# ("Kreisfreie Stadt Trier", "SK Mainz"), as name keys
MUNICIPALITY_WORDS = frozenset(
    {
        "kreisfreie stadt",
        "kreisfr stadt",
        "kreisfr st",
        "krfr stadt",
        "krfr st",
        "krsfr stadt",
        "krsfr st",
        "kfr stadt",
        "kfr st",
        "landeshauptstadt",
        "stadtkreis",
        "stadt",
        "st",
        "sk",
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


_OFFICIAL_KEY = re.compile(r"^(\d{12}|\d{8}|\d{5})(?=\s|$)")
_IN_BRACKETS = re.compile(r"^(.*\S)\s*\(([^()]*)\)$")
_WORD = re.compile(r"[^\s.\-/_,]+\.?")


def official_name(value: Any) -> tuple[str, str]:
    """(official key, bare name) of a municipality written the statistical offices' way.

    ``07315000 Mainz, kreisfreie Stadt`` → ``("07315000", "Mainz")``; ``Kreisfreie
    Stadt Trier`` → ``("", "Trier")``. The key is a Kreis key, AGS or ARS (5, 8 or
    12 digits). Everything after a comma must be a kind of municipality, else the
    name is empty: ``Mainz, Altstadt`` is not a way of writing Mainz. A kind in
    brackets counts as after a comma: ``Mainz (kreisfreie Stadt)``.
    """
    text = unicodedata.normalize("NFC", str(value)).strip()
    key = ""
    if found := _OFFICIAL_KEY.match(text):
        key, text = found[1], text[found.end() :].strip()
    if found := _IN_BRACKETS.match(text):
        text = f"{found[1]}, {found[2]}"
    name, *kinds = (part.strip() for part in text.split(","))
    if any(name_key(kind) not in MUNICIPALITY_WORDS for kind in kinds):
        return key, ""
    words = name.split()
    for cut in range(len(words) - 1, 0, -1):
        if name_key(" ".join(words[:cut])) in MUNICIPALITY_WORDS:
            return key, " ".join(words[cut:])
    return key, name


def abbreviates(short: str, name: str) -> bool:
    """Whether ``short`` is ``name`` with some words abbreviated: ``Ludwigshafen a.Rh.`` for
    ``Ludwigshafen am Rhein``.

    Word by word, a word ending in ``.`` stands for a word it begins; every other word must be
    the same (by :func:`name_key`), and the first word must be written out: ``M.`` is no name.
    """
    words = _WORD.findall(unicodedata.normalize("NFC", short))
    full = name_key(name).split()
    if not words or len(words) != len(full) or words[0].endswith("."):
        return False
    for word, whole in zip(words, full, strict=True):
        stem = name_key(word.rstrip("."))
        if not stem or not (whole.startswith(stem) if word.endswith(".") else stem == whole):
            return False
    return True
