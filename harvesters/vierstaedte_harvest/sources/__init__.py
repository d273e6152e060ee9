"""Protocol readers: each turns a city's catalogue into :class:`SourceDataset` records.

A reader only *describes* what the source offers (metadata and file URLs); it
downloads catalogue pages through the shared :class:`~vierstaedte_harvest.fetch.Fetcher`
and never touches CKAN. Everything a reader returns is untrusted input.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterator


PROTOCOLS = ("ckan", "dcat", "manifest", "opendatasoft")


class SourceError(Exception):
    """The catalogue could not be listed completely; nothing may be withdrawn on this run."""


@dataclasses.dataclass
class SourceResource:
    """One downloadable file of a dataset."""

    url: str
    name: str = ""
    format: str = ""  # upper-case, e.g. CSV, XLSX, JSON
    id: str = ""  # stable id at the source, if it has one
    modified: str | None = None  # ISO date-time at the source


@dataclasses.dataclass
class SourceDataset:
    """A dataset as the city publishes it, in protocol-neutral form."""

    guid: str  # stable, namespaced: "<protocol>:<host>:<id at the source>"
    name: str  # a slug-like name at the source (used to build the CKAN name)
    title: str
    description: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)
    license: str | None = None  # URI or short id as the source gives it
    themes: list[str] = dataclasses.field(default_factory=list)  # EU data-theme URIs or codes
    modified: str | None = None
    issued: str | None = None
    landing_page: str | None = None
    temporal_start: str | None = None
    temporal_end: str | None = None
    publisher: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    resources: list[SourceResource] = dataclasses.field(default_factory=list)
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)


Reader = Callable[["Fetcher", dict[str, Any]], Iterator[SourceDataset]]  # noqa: F821 - Fetcher is documentation here


def reader(protocol: str) -> Reader:
    """The list function of a protocol: ``ckan``, ``dcat``, ``manifest`` or ``opendatasoft``."""
    import importlib

    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; one of {', '.join(PROTOCOLS)}")
    return importlib.import_module(f"vierstaedte_harvest.sources.{protocol}").list_datasets
