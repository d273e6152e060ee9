"""City harvesters of Vier Städte Open Data: fetch, read, normalise, validate, publish."""

__version__ = "0.1.0"
