"""The colours of the comparison: parties in their customary colours, a palette for the rest.

Chart and table must agree on a party's colour, and so must every district and
every election: CDU black, SPD red, wherever it appears. ``data/colours.json``
holds them once (cities keep theirs in ``cities.json``); this module is their
only reader. Result tables spell parties differently ("GRÜNE", "Bündnis 90/Die
Grünen"), so a party is found by its name or an alias, compared by
:func:`vierstaedte_contract.names.name_key`.
"""

from __future__ import annotations

import functools
import json
import re

from vierstaedte_contract import path
from vierstaedte_contract.names import name_key

_COLOUR = re.compile(r"^#[0-9a-f]{6}$")


@functools.cache
def _data() -> dict:
    data = json.loads(path("colours.json").read_text(encoding="utf-8"))
    found = [p["colour"] for p in data["parties"]] + [data["other_party"], *data["series"]]
    bad = [colour for colour in found if not _COLOUR.match(colour)]
    if bad:
        raise ValueError(f"colours.json: no #rrggbb colour: {', '.join(bad)}")
    return data


@functools.cache
def _parties() -> dict[str, str]:
    index: dict[str, str] = {}
    for party in _data()["parties"]:
        for name in (party["name"], *party["aliases"]):
            index[name_key(name)] = party["colour"]
    return index


def party(name: str) -> str:
    """The party's customary colour; one neutral grey for every party without one."""
    return _parties().get(name_key(name), _data()["other_party"])


def series(index: int) -> str:
    """The colour of the ``index``-th series that has no colour of its own (a city's area …)."""
    palette = _data()["series"]
    return palette[index % len(palette)]
