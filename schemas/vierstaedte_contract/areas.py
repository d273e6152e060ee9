"""Each city's areas, and the one resolver of area names.

``data/areas/<city>.csv`` lists a city's areas below the city itself:
``level`` (``ortsbezirk``, ``stadtteil`` …), the official ``code`` where the
city publishes one, the canonical ``name`` and ``aliases`` (``|``-separated
spellings). The city itself (level ``stadt``) comes from ``cities.json`` and
may be repeated in the file to add aliases. A city without a file has only
its total: a new city can publish city-wide tables before anyone lists its
districts.

Names are compared by :func:`vierstaedte_contract.names.name_key`; unknown
names stay unknown, nothing is guessed. The city itself is also found by its
official spellings (``07315000 Mainz, kreisfreie Stadt``, ``Trier, krfr.
Stadt``), derived from ``cities.json`` for every city alike: its keys (AGS,
ARS, Kreis key) and names plus the words for the kind of municipality. A
table's mapping may add areas and aliases of its own: a resolver built with
them checks that each alias names a known area.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import re
from collections.abc import Iterable, Mapping

from vierstaedte_contract import cities, path
from vierstaedte_contract.names import TOTAL_WORDS, abbreviates, name_key, official_name

CITY_LEVEL = "stadt"
_CODE_AND_NAME = re.compile(r"^(\d{1,4})\s+(\D.*)$")


@dataclasses.dataclass(frozen=True)
class Area:
    level: str
    code: str
    name: str
    aliases: tuple[str, ...] = ()

    def spellings(self) -> list[str]:
        return [s for s in (self.name, self.code, *self.aliases) if s]

    def as_dict(self) -> dict[str, str]:
        return {
            "level": self.level,
            "code": self.code,
            "name": self.name,
            "aliases": "|".join(self.aliases),
        }


@functools.cache
def areas(city: str) -> tuple[Area, ...]:
    """The city's reference list: the city first, then its areas as the file lists them."""
    member = cities.get(city)
    file = path(f"areas/{city}.csv")
    rows = (
        list(csv.DictReader(io.StringIO(file.read_text(encoding="utf-8"))))
        if file.is_file()
        else []
    )
    listed = [
        Area(
            r["level"],
            r.get("code") or "",
            r["name"],
            tuple(a for a in (r.get("aliases") or "").split("|") if a),
        )
        for r in rows
    ]
    if not any(a.level == CITY_LEVEL for a in listed):
        listed.insert(0, Area(CITY_LEVEL, "", member.short_title, (member.title,)))
    return tuple(listed)


def levels(city: str) -> list[str]:
    """The area levels the city lists, the city level first."""
    return list(dict.fromkeys(a.level for a in areas(city)))


class AreaResolver:
    """Resolves area spellings against a city's reference list; unknown names stay unknown.

    ``added`` areas extend the list (for one table's mapping); ``aliases`` map a
    further spelling to ``(level, name)`` of a known area. Either raises
    ValueError when it would make a name ambiguous or point nowhere.
    """

    def __init__(
        self,
        city: str,
        added: Iterable[Area] = (),
        aliases: Mapping[str, tuple[str, str]] | None = None,
    ):
        member = cities.find(city)
        if member is None:
            raise ValueError(f"unknown city {city!r}; expected one of {', '.join(cities.names())}")
        self.city = city
        self.areas = list(areas(city))
        self._by_key: dict[tuple[str, str], Area] = {}
        for area in self.areas:
            for spelling in area.spellings():
                self._by_key[(area.level, name_key(spelling))] = area
        self.city_area = next(a for a in self.areas if a.level == CITY_LEVEL)
        for word in TOTAL_WORDS:
            self._by_key.setdefault((CITY_LEVEL, name_key(word)), self.city_area)
        # the Kreis key (first five digits) names the city only where the city is its own Kreis
        self._city_keys = {member.ags, member.regional_key}
        if member.ags.endswith("000"):
            self._city_keys.add(member.ags[:5])
        self._city_names = [
            *(s for s in self.city_area.spellings() if not s.isdigit()),
            member.title,
            member.short_title,
        ]
        for area in added:
            self._add(area)
        for spelling, (level, name) in (aliases or {}).items():
            self._alias(spelling, level, name)

    def _add(self, area: Area) -> None:
        taken = [s for s in area.spellings() if (area.level, name_key(s)) in self._by_key]
        if taken:
            raise ValueError(f"{taken[0]!r} is already an area of {self.city} at {area.level}")
        self.areas.append(area)
        for spelling in area.spellings():
            self._by_key[(area.level, name_key(spelling))] = area

    def _alias(self, spelling: str, level: str, name: str) -> None:
        area = self.resolve(name, level)
        if area is None:
            raise ValueError(f"{name!r} is not an area of {self.city} at level {level}")
        known = self.resolve(spelling, level)
        if known is not None and known != area:
            raise ValueError(f"{spelling!r} already names {known.name!r} ({known.level})")
        self._by_key[(area.level, name_key(spelling))] = area

    def resolve(self, value: str, level: str) -> Area | None:
        """The area called ``value`` at ``level``; a city total is accepted at any level.

        ``01 Altstadt`` (code and name in one cell) resolves only when both agree.
        """
        prefixed = _CODE_AND_NAME.match(str(value).strip())
        if prefixed:
            area = self.resolve(prefixed[2], level)
            if area is not None and area.code.lstrip("0") == prefixed[1].lstrip("0"):
                return area
            return None
        key = name_key(value)
        found = self._by_key.get((level, key)) or self._by_key.get((CITY_LEVEL, key))
        if found is None and key in self._city_keys:  # the city's AGS, ARS or Kreis key
            return self.city_area
        if found is None and key.isdigit():  # "1" for code "01"
            code = key.lstrip("0")
            found = next(
                (a for a in self.areas if a.level == level and a.code.lstrip("0") == code), None
            )
        return found or self._official(value)

    def _official(self, value: str) -> Area | None:
        """The city, written the statistical offices' way (its key, name, kind of municipality)."""
        key, name = official_name(value)
        if not name or (key and key not in self._city_keys):
            return None
        if any(abbreviates(name, spelling) for spelling in self._city_names):
            return self.city_area
        return None

    def find(self, name: str | None) -> list[Area]:
        """Areas called ``name`` (name, alias or code) at any level; the city itself if no name."""
        if not name:
            return [self.city_area]
        wanted = name_key(name)
        return [a for a in self.areas if wanted in {name_key(s) for s in a.spellings()}]


@functools.cache
def resolver(city: str) -> AreaResolver:
    """The (shared, read-only) resolver of a city."""
    return AreaResolver(city)
