"""City configuration: where a city's data comes from and how its tables are normalised.

One YAML file per city (defaults ship in ``vierstaedte_harvest/cities/``);
city IT points a harvester elsewhere with ``--config FILE``. Relative paths
in a config (manifest, mappings) are relative to that file. The CKAN URL and
the API token never live in the config: they come from the environment.

Every section is a dataclass checked when the file loads (:mod:`vierstaedte_harvest.settings`):
the top level (:class:`CityFile`), ``source`` (the ``Settings`` of the protocol's reader),
``http`` (:class:`~vierstaedte_harvest.fetch.HttpSettings`), ``defaults`` (:class:`Defaults`),
each ``tables`` rule (:class:`TableSettings`) and ``council`` (:class:`CouncilSettings`, the
OParl system). A misspelled key is a :class:`ConfigError`, which the command reports as a usage
error (exit 2) before it touches anything.
"""

from __future__ import annotations

import dataclasses
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from vierstaedte_contract import cities, vocabularies
from vierstaedte_harvest import mapping
from vierstaedte_harvest.fetch import HttpSettings
from vierstaedte_harvest.settings import SettingsError, build, unknown
from vierstaedte_harvest.sources import PROTOCOLS, SourceSettings, WithdrawLimit, settings_class

MATCH_KEYS = ("title", "name", "resource", "url", "format")


class ConfigError(ValueError):
    """The city config is wrong; the message says where."""


def _granularities() -> list[str]:
    return sorted(vocabularies.values("spatial_granularities"))


def _frequencies() -> list[str]:
    return sorted(uri.rsplit("/", 1)[-1] for uri in vocabularies.values("frequencies"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class CityFile:
    """The top level of a city config."""

    city: str  # must be the city the command was given
    source: dict[str, Any]  # where the datasets come from; keys per protocol
    http: dict[str, Any] | None = None  # HttpSettings
    defaults: dict[str, Any] | None = None  # Defaults
    tables: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # TableSettings
    council: dict[str, Any] | None = None  # CouncilSettings: the OParl system


def _licence(value: Any) -> str | None:
    """A licence of the DCAT-AP.de vocabulary in any spelling → its URI; ValueError otherwise."""
    if value is None:
        return None
    found = vocabularies.licence(value) if isinstance(value, str) else None
    if found is None or not found.active:
        raise ValueError(value)
    return found.uri


@dataclasses.dataclass(frozen=True, kw_only=True)
class Defaults:
    """``defaults``: metadata for datasets whose source says nothing about it."""

    themes: list[str] = dataclasses.field(default_factory=list)  # EU data-theme codes or URIs
    license: str | None = dataclasses.field(
        default=None,
        metadata={
            "parse": _licence,
            "expects": "a licence of the DCAT-AP.de vocabulary (URI or id such as dl-by-de/2.0)",
        },
    )
    # a dataset whose licence is not open (NC, ND, other-closed …): refused, or published flagged
    non_open_licences: Literal["refuse", "flag"] = "refuse"
    spatial_granularity: str = dataclasses.field(
        default="stadt", metadata={"choices": _granularities}
    )
    frequency: str | None = dataclasses.field(default=None, metadata={"choices": _frequencies})


@dataclasses.dataclass(frozen=True, kw_only=True)
class TableSettings:
    """One ``tables`` rule: which resource of which dataset a mapping normalises."""

    match: dict[str, Any]  # MATCH_KEYS → regular expression; all must match
    # the mapping file (relative to the config), or the mapping itself written in place
    mapping: str | dict[str, Any]
    spatial_granularity: str | None = dataclasses.field(
        default=None, metadata={"choices": _granularities}
    )


def _http_url(value: Any) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
        raise ValueError(value)
    if not urlsplit(value).hostname:
        raise ValueError(value)
    return value


def _http_urls(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(value)
    return [_http_url(item) for item in value]


@dataclasses.dataclass(frozen=True, kw_only=True)
class CouncilSettings:
    """``council``: the city's OParl system (council information), read by ``council run``."""

    url: str = dataclasses.field(
        metadata={"parse": _http_url, "expects": "an http(s) URL"}
    )  # the OParl System
    # only these Bodies (their OParl id, name, shortName or AGS); empty: every Body
    bodies: list[str] = dataclasses.field(default_factory=list)
    # more hosts the system links to (files on another server), as URLs; the System's is implied
    hosts: list[str] = dataclasses.field(
        default_factory=list, metadata={"parse": _http_urls, "expects": "a list of http(s) URLs"}
    )
    max_requests_per_second: float = dataclasses.field(
        default=1.0, metadata={"low": 0.01, "high": 100}
    )  # per host
    max_pages: int = dataclasses.field(default=10_000, metadata={"low": 1})  # per list
    max_objects: int = dataclasses.field(default=1_000_000, metadata={"low": 1})  # per list
    # seconds subtracted from a list's watermark when asking what changed since
    overlap_seconds: int = dataclasses.field(default=300, metadata={"low": 0})
    max_file_bytes: int = dataclasses.field(default=50 * 1024 * 1024, metadata={"low": 1})
    file_seconds: float = dataclasses.field(default=300.0, metadata={"low": 1})  # one download
    extract_seconds: float = dataclasses.field(default=60.0, metadata={"low": 1})  # one file
    extract_memory_mb: int = dataclasses.field(default=512, metadata={"low": 64})


@dataclasses.dataclass
class TableRule:
    """Which resource of which dataset a mapping normalises."""

    match: dict[str, re.Pattern]
    mapping: mapping.Mapping
    spatial_granularity: str | None = None

    def matches(self, dataset, resource) -> bool:
        values = {
            "title": dataset.title,
            "name": dataset.name,
            "resource": resource.name,
            "url": resource.url,
            "format": resource.format,
        }
        return all(pattern.search(values[key] or "") for key, pattern in self.match.items())


@dataclasses.dataclass
class CityConfig:
    city: str
    path: Path
    source: SourceSettings  # the reader's own Settings, e.g. sources.ckan.Settings
    http: HttpSettings
    defaults: dict[str, Any]  # as written; checked against Defaults
    tables: list[TableRule]
    council: CouncilSettings | None = None

    @property
    def protocol(self) -> str:
        return self.source.protocol

    @property
    def max_datasets(self) -> int:
        return self.source.max_datasets

    @property
    def max_withdraw(self) -> WithdrawLimit:
        return self.source.max_withdraw

    @property
    def ags(self) -> str:
        return cities.get(self.city).ags

    def table_for(self, source) -> tuple[TableRule | None, Any]:
        """The first rule and resource of ``source`` that a table rule matches, or (None, None)."""
        for rule in self.tables:
            for resource in source.resources:
                if rule.matches(source, resource):
                    return rule, resource
        return None, None


def default_path(city: str) -> Path:
    return Path(str(resources.files("vierstaedte_harvest") / "cities" / f"{city}.yaml"))


def _read(path: Path) -> Any:
    """A config file's YAML; ConfigError naming the file if it cannot be read or parsed."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None


def city_of(path: Path) -> str:
    """The city a config file names (``city:``), so that ``--config FILE`` needs no CITY."""
    data = _read(Path(path))
    city = data.get("city") if isinstance(data, dict) else None
    if not isinstance(city, str) or not city:
        raise ConfigError(f"{path} names no city (city: …); give it as the CITY argument")
    return city


def load(city: str, path: Path | None = None) -> CityConfig:
    path = Path(path) if path else default_path(city)
    if cities.find(city) is None:
        raise ConfigError(f"unknown city {city!r}; one of {', '.join(cities.names())}")
    data = _read(path)
    try:
        top = build(CityFile, data)
        if top.city != city:
            raise ConfigError(f"{path} is the config of {top.city!r}, not of {city!r}")
        source = _source(top.source, path, city)
        http = HttpSettings.from_config(top.http)
        build(Defaults, top.defaults, "defaults")  # checked; metadata reads the dict
        tables = [_rule(rule, path, city, n) for n, rule in enumerate(top.tables, start=1)]
        council = _council(top.council)
    except SettingsError as error:
        raise ConfigError(f"{path}: {error}") from None
    return CityConfig(city, path, source, http, dict(top.defaults or {}), tables, council)


def _council(data: dict[str, Any] | None) -> CouncilSettings | None:
    """The ``council`` section; VIERSTAEDTE_COUNCIL_URL points it elsewhere (as the source's)."""
    if data is None:
        return None
    council = build(CouncilSettings, data, "council")
    override = os.environ.get("VIERSTAEDTE_COUNCIL_URL")
    return dataclasses.replace(council, url=override) if override else council


def _source(data: dict[str, Any], path: Path, city: str) -> SourceSettings:
    """The ``source`` section as its protocol's Settings; VIERSTAEDTE_SOURCE_URL points it elsewhere
    (city IT or the demo, without editing the file)."""
    protocol = data.get("protocol")
    if protocol not in PROTOCOLS:
        raise SettingsError(
            f"source.protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}"
        )
    given = {"city": city} if protocol == "manifest" else {}
    source = build(
        settings_class(protocol),
        data,
        "source",
        f"for protocol {protocol}",
        taken=("protocol",),
        **given,
    )
    if getattr(source, "path", None):
        source = dataclasses.replace(source, path=str((path.parent / source.path).resolve()))
    override = os.environ.get("VIERSTAEDTE_SOURCE_URL")
    if override:
        elsewhere = {"path": None} if getattr(source, "path", None) else {}
        source = dataclasses.replace(source, url=override, **elsewhere)
    return source


def _rule(data: Any, path: Path, city: str, number: int) -> TableRule:
    at = f"tables[{number}]"
    rule = build(TableSettings, data, at)
    for key in rule.match:
        if key not in MATCH_KEYS:
            raise SettingsError(unknown(key, list(MATCH_KEYS), f"{at}.match"))
    try:
        patterns = {k: re.compile(str(v), re.I) for k, v in rule.match.items()}
        if isinstance(rule.mapping, dict):
            rules = mapping.parse(rule.mapping, base_dir=path.parent)
        else:
            rules = mapping.load((path.parent / rule.mapping).resolve())
    except re.error as error:
        raise SettingsError(f"{at}: bad regular expression: {error}") from None
    except (mapping.MappingError, OSError) as error:
        raise SettingsError(f"{at}: {error}") from None
    if rules.city != city:
        raise SettingsError(f"{at}: mapping {rules.id} is for {rules.city}, not {city}")
    return TableRule(patterns, rules, rule.spatial_granularity)
