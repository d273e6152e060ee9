"""The contract both wings of the platform share: what a published statistics table is.

The harvesters (``vierstaedte_harvest``) write tables and datasets, the CKAN
extension (``ckanext.vierstaedte``) reads and serves them; neither imports the
other. Everything they must agree on lives here, once: the data files in
``data/`` (Table Schema, indicators, units, areas, cities, vocabularies,
licences) and the only code that reads them. This package imports neither
CKAN nor the harvester, and nothing outside the standard library at import
time, so both wings (and the tests, scripts and benchmarks) can depend on it.

One module per concept, as frictionless-py does:

* ``table``: the Table Schema and the DataStore field layout;
* ``vocabularies``: indicators, units, DCAT-AP.de vocabularies, licences;
* ``cities``: the member cities with their official keys;
* ``areas``: each city's areas and the one resolver of area names;
* ``names``: the spelling-insensitive name key both resolvers compare with;
* ``dataset``: what a harvested dataset looks like in CKAN (resource roles, marker);
* ``runs``: harvest run kinds, run and dataset statuses, report counts;
* ``council``: OParl object types, the short key of an object, council write limits;
* ``csvsafe``: the rule that keeps spreadsheet formulas out of every CSV we publish.
* ``units``: units with a dimension and a factor, the spellings files use, conversions.
* ``colours``: the parties' customary colours and the palette of the comparison's series.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

SCHEMA_VERSION = "1.1.0"
# names a directory whose files take the place of the packaged data files of the same name
DATA_OVERRIDE = "VIERSTAEDTE_CONTRACT_DATA"


def path(name: str) -> Traversable:
    """A data file of the contract, e.g. ``path("city-statistics.schema.json")``.

    A deployment adds a city by editing ``data/cities.json`` (and maybe adding
    ``data/areas/<city>.csv``) and installing again. Where the installed package cannot
    be edited, ``$VIERSTAEDTE_CONTRACT_DATA`` names a directory holding such files
    (``cities.json``, ``areas/<city>.csv``): a file there is read instead of the packaged
    one, every other file still comes from the package. CKAN and the harvesters must
    see the same directory; each process reads the files once.
    """
    override = os.environ.get(DATA_OVERRIDE)
    if override and (Path(override) / name).is_file():
        return Path(override) / name
    return resources.files(__name__) / "data" / name
