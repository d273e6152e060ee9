"""Protocol readers: each turns a city's catalogue into :class:`SourceDataset` records.

A reader only *describes* what the source offers (metadata and file URLs); it
downloads catalogue pages through the shared :class:`~vierstaedte_harvest.fetch.Fetcher`
and never touches CKAN. Everything a reader returns is untrusted input.

Withdrawing a dataset because the source no longer lists it is only safe when the
listing is known to be whole: an empty page before the announced count, a server that
ignores the offset, a count that moves while paging, all look like a finished listing
and would withdraw datasets the source still has. So a listing is *incomplete unless
proven*: :class:`Listing` is the one place that decides, and the run withdraws only
when it says ``complete``. A reader (a generator) yields the datasets, a :class:`Skipped`
for a record that is not a dataset, a :class:`Gap` for a problem it can read past, a
:class:`Note` for something the report must say that does not touch completeness, raises
:class:`SourceError` when it cannot go on, and *returns* its proof: a sentence saying how
it knows it saw everything (e.g. "all 253 of count 253 on 3 pages"). A reader that ends
without one, or that listed an id twice, leaves the listing incomplete.

Each reader module names what it reads from the city config's ``source`` section in its own
``Settings`` dataclass (a subclass of :class:`SourceSettings`), so a misspelled key is refused
when the config loads (see :mod:`vierstaedte_harvest.settings`) instead of being ignored.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import re
from collections.abc import Callable, Generator, Iterator
from typing import Any, ClassVar

log = logging.getLogger(__name__)
PROTOCOLS = ("ckan", "dcat", "manifest", "opendatasoft")
TOO_MANY = (
    "the source lists more than {limit:,} datasets (source.max_datasets); nothing was "
    "harvested — check the source's filter or raise the limit"
)
MAX_DATASETS = 10_000  # per source and run; more is refused as a whole
MAX_PAGES = 1000


class SourceError(Exception):
    """The catalogue could not be listed completely; nothing may be withdrawn on this run.

    ``code`` is stable for reports: ``source-error`` (the source failed or answered nonsense),
    ``listing-ended-early``, ``count-changed``, ``repeated-ids``, ``too-many-datasets``.
    """

    def __init__(self, message: str, code: str = "source-error"):
        super().__init__(message)
        self.code = code


@dataclasses.dataclass
class Gap:
    """Something a reader read past that makes its listing unprovable (e.g. a count that moved)."""

    code: str
    message: str


@dataclasses.dataclass
class Note:
    """What a reader noticed about a catalogue page and cannot tie to one dataset (a malformed
    value outside any dataset): reported as a source warning; the listing stays provable."""

    code: str
    message: str


@dataclasses.dataclass
class Skipped:
    """A catalogue record that is not a dataset (a harvest source, a showcase, a data service)."""

    guid: str
    kind: str  # the record's type as the source names it, e.g. "harvest" or "dcat:DataService"
    title: str = ""


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
    publisher_uri: str | None = None  # the publishing body's URI (dct:publisher), as given
    contact_name: str | None = None
    contact_email: str | None = None
    frequency: str | None = None  # EU frequency URI or code (MONTHLY), as the source gives it
    political_geocoding: list[str] = dataclasses.field(default_factory=list)  # DCAT-AP.de URIs
    political_geocoding_level: str | None = None  # DCAT-AP.de level URI, as given
    # the smallest area it describes, a value of the portal's vocabulary (stadtteil); else None
    spatial_granularity: str | None = None
    resources: list[SourceResource] = dataclasses.field(default_factory=list)
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)
    # what the reader noticed about this record and the run report must say, in plain language:
    # (code, message), e.g. ("bad-literal", "dct:modified '2023-13-01' is no date, left out")
    notes: list[tuple[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class WithdrawLimit:
    """``source.max_withdraw``: how many of the datasets a city has published from its source one
    run may withdraw. A complete listing can still be wrong (``count: 0`` from a broken filter, a
    migrated or emptied portal); above it a run withdraws nothing; ``--allow-withdraw N`` lifts it.

    ``percent`` (``"50%"``, the default): that share of them, rounded down but at least one;
    ``number`` (``5``): that many, ``0`` for none. Either way never all of two or more.
    """

    EXPECTS: ClassVar[str] = "a share from 1% to 100% or a whole number ≥ 0 of datasets"

    percent: int | None = 50
    number: int | None = None

    def __post_init__(self) -> None:
        if self.number is not None:
            object.__setattr__(self, "percent", None)

    def __str__(self) -> str:
        return f"{self.percent}%" if self.number is None else str(self.number)

    def of(self, published: int) -> int:
        """The most datasets one run may withdraw of the ``published`` ones."""
        if self.number is not None:
            most = self.number
        else:
            most = max(1, published * self.percent // 100)
        return min(most, published - 1) if published >= 2 else most

    @classmethod
    def parse(cls, value: Any) -> WithdrawLimit:
        """``"N%"`` (1–100) or a whole number ≥ 0; ValueError otherwise."""
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return cls(number=value)
        share = re.fullmatch(r"\s*(\d{1,3})\s*%\s*", value) if isinstance(value, str) else None
        if share and 1 <= int(share[1]) <= 100:
            return cls(percent=int(share[1]))
        raise ValueError(f"source.max_withdraw must be {cls.EXPECTS}, not {value!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SourceSettings:
    """The ``source`` keys of every protocol; a reader's ``Settings`` adds its own."""

    protocol: ClassVar[str]

    url: str | None = None  # the catalogue (required by every reader but the manifest's)
    # more datasets in one listing: none is harvested (a lost filter must not flood the portal)
    max_datasets: int = dataclasses.field(default=MAX_DATASETS, metadata={"low": 1})
    # the most of its published datasets one run may withdraw
    max_withdraw: WithdrawLimit = dataclasses.field(
        default=WithdrawLimit(),
        metadata={"parse": WithdrawLimit.parse, "expects": WithdrawLimit.EXPECTS},
    )

    @property
    def location(self) -> str:
        """Where the source is, for reports."""
        return self.url or ""


def max_pages_field() -> Any:
    """The ``max_pages`` setting of the paged readers: a guard against endless paging."""
    return dataclasses.field(default=MAX_PAGES, metadata={"low": 1})


Reader = Callable[..., Generator[Any, None, "str | None"]]  # (fetcher, settings) → events, proof


class Listing:
    """A reader's listing of one catalogue, and whether it is provably complete.

    Iterating reads the catalogue and yields each dataset once (a repeated id keeps the
    first copy); it raises :class:`SourceError` where the reader fails and, at the end,
    when the listing is not complete, so a plain loop never mistakes a partial view for
    the whole. :meth:`read` reads it all without raising, for the run, which looks at
    :attr:`complete`, :attr:`gaps` and :attr:`skipped` afterwards.
    """

    def __init__(self, events: Generator[Any, None, str | None], limit: int | None = None):
        self._events = events
        self.limit = limit  # more datasets: none is harvested (a lost filter must not flood us)
        self.datasets: list[SourceDataset] = []
        self.skipped: list[Skipped] = []
        self.gaps: list[dict[str, str]] = []  # {"code", "message"}, in the order they were found
        self.notes: list[dict[str, str]] = []  # {"code", "message"}: the readers' Note events
        self.proof: str | None = None
        self._guids: set[str] = set()
        self._repeated: set[str] = set()
        self._finished = False

    @property
    def complete(self) -> bool:
        """The reader proved it saw the whole catalogue, and nothing contradicted it."""
        return self._finished and self.proof is not None and not self.gaps

    def read(self) -> Listing:
        try:
            for _ in self:
                pass
        except SourceError:
            pass  # recorded in gaps
        return self

    def __iter__(self) -> Iterator[SourceDataset]:
        try:
            yield from self._read()
        except SourceError as error:
            self._gap(error.code, str(error))
            self._events.close()
            raise
        finally:
            self._finish()
        if not self.complete:
            first = self.gaps[0]
            raise SourceError(f"the listing is incomplete: {first['message']}", first["code"])

    def _read(self) -> Iterator[SourceDataset]:
        while True:
            try:
                event = next(self._events)
            except StopIteration as end:
                self.proof = end.value or None
                return
            if isinstance(event, Gap):
                self._gap(event.code, event.message)
            elif isinstance(event, Note):
                self.notes.append({"code": event.code, "message": event.message})
            elif isinstance(event, Skipped):
                self.skipped.append(event)
            elif event.guid in self._guids:
                self._repeated.add(event.guid)
            else:
                self._guids.add(event.guid)
                self.datasets.append(event)
                if self.limit is not None and len(self.datasets) > self.limit:
                    self.datasets = []
                    raise SourceError(TOO_MANY.format(limit=self.limit), "too-many-datasets")
                yield event

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._repeated:
            first = ", ".join(sorted(self._repeated)[:3])
            self._gap(
                "repeated-ids",
                f"{len(self._repeated)} dataset(s) listed more than once "
                f"({first}): the source's paging is not stable, so others may be missing",
            )
        if self.proof is None and not self.gaps:
            self._gap("unproven", "the reader ended without showing it saw the whole catalogue")
        if self.skipped:
            log.warning(
                "skipped %d record(s) that are not datasets: %s%s",
                len(self.skipped),
                "; ".join(f"{s.kind}: {s.title or s.guid}" for s in self.skipped[:20]),
                " …" if len(self.skipped) > 20 else "",
            )

    def _gap(self, code: str, message: str) -> None:
        self.gaps.append({"code": code, "message": message})


def _module(protocol: str) -> Any:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; one of {', '.join(PROTOCOLS)}")
    return importlib.import_module(f"vierstaedte_harvest.sources.{protocol}")


def settings_class(protocol: str) -> type[SourceSettings]:
    """The ``Settings`` dataclass of a protocol's reader (imports only that reader)."""
    return _module(protocol).Settings


def _reader(protocol: str) -> Reader:
    return _module(protocol).list_datasets


def reader(protocol: str) -> Callable[[Any, SourceSettings], Listing]:
    """The listing of a protocol (``ckan``, ``dcat``, ``manifest``, ``opendatasoft``)."""
    events = _reader(protocol)
    return lambda fetcher, settings: Listing(events(fetcher, settings))


def read(
    protocol: str, fetcher: Any, settings: SourceSettings, limit: int | None = None
) -> Listing:
    """The whole listing of a source, read; see :attr:`Listing.complete` before withdrawing."""
    return Listing(_reader(protocol)(fetcher, settings), limit).read()
