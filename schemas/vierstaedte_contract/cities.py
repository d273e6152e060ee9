"""The member cities: one list, in ``data/cities.json``.

A city is data: its short name (the CKAN organization and the ``city`` value
of every row), its titles, its Amtlicher Gemeindeschlüssel (AGS, 8 digits)
and Regionalschlüssel (ARS, 12 digits) from the Statistisches Landesamt, and
the DCAT-AP.de geocoding URIs derived from them. The Table Schema's ``city``
enum, the portal's organizations, the harvester's choices and the local
stack's tokens all come from this list, so a fifth city is one entry here
(plus its areas and a harvester config), never an edit of code.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re

from vierstaedte_contract import path
from vierstaedte_contract.vocabularies import DEFAULT_GEOCODING_LEVEL, GEOCODING_BASE

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,99}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclasses.dataclass(frozen=True)
class City:
    name: str
    title: str
    short_title: str
    ags: str
    regional_key: str
    website: str = ""
    coordinator: bool = False
    colour: str = ""  # the city's line in charts (#rrggbb); without one, charts pick a colour

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise ValueError(
                f"cities.json: city name {self.name!r} must be lower-case letters, "
                "digits and '-' (it names the CKAN organization)"
            )
        if not (len(self.ags) == 8 and self.ags.isdigit()):
            raise ValueError(f"cities.json: {self.name}: ags {self.ags!r} must have 8 digits")
        if not (len(self.regional_key) == 12 and self.regional_key.isdigit()):
            raise ValueError(f"cities.json: {self.name}: regional_key must have 12 digits")
        if self.colour and not _COLOUR.match(self.colour):
            raise ValueError(f"cities.json: {self.name}: colour {self.colour!r} is no #rrggbb")
        if not self.regional_key.startswith(self.ags[:5]):
            raise ValueError(f"cities.json: {self.name}: regional_key and ags disagree")

    @property
    def geocoding_uri(self) -> str:
        """``dcatde:politicalGeocodingURI`` of the city: its Regionalschlüssel."""
        return GEOCODING_BASE + "regionalKey/" + self.regional_key

    @property
    def geocoding_level_uri(self) -> str:
        return DEFAULT_GEOCODING_LEVEL

    def as_dict(self) -> dict:
        """The city as the portal shows it, with its geocoding URIs."""
        return dict(
            dataclasses.asdict(self),
            political_geocoding_uri=self.geocoding_uri,
            political_geocoding_level_uri=self.geocoding_level_uri,
        )


@functools.cache
def _cities() -> tuple[City, ...]:
    data = json.loads(path("cities.json").read_text(encoding="utf-8"))
    found = tuple(City(**entry) for entry in data["cities"])
    names = [c.name for c in found]
    if len(set(names)) != len(names):
        raise ValueError("cities.json names a city twice")
    return found


def members() -> tuple[City, ...]:
    """The member cities, coordinator first as listed."""
    return _cities()


def names() -> list[str]:
    return [c.name for c in _cities()]


def get(name: str) -> City:
    """The city called ``name``; ``KeyError`` naming the known cities if there is none."""
    for city in _cities():
        if city.name == name:
            return city
    raise KeyError(f"unknown city {name!r}; one of {', '.join(names())}")


def find(name: str) -> City | None:
    return next((c for c in _cities() if c.name == name), None)


def as_dicts() -> list[dict]:
    """The cities as the portal shows them (:meth:`City.as_dict`)."""
    return [c.as_dict() for c in _cities()]


def as_dict(name: str) -> dict | None:
    """One city as the portal shows it, or None if ``name`` is no member."""
    city = find(name)
    return city.as_dict() if city else None
