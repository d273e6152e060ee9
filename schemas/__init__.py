"""The data contract, importable as ``vierstaedte_schemas`` so installed code finds the files."""
from importlib import resources

SCHEMA_VERSION = "1.0.0"


def path(name: str):
    """A file of the contract, e.g. ``path("city-statistics.schema.json")``."""
    return resources.files(__name__) / name
