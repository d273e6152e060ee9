"""City configuration: where a city's data comes from and how its tables are normalised.

One YAML file per city (defaults ship in ``vierstaedte_harvest/cities/``);
city IT points a harvester elsewhere with ``--config FILE``. Relative paths
in a config (manifest, mappings) are relative to that file. The CKAN URL and
the API token never live in the config: they come from the environment.
"""
from __future__ import annotations

import dataclasses
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vierstaedte_contract import cities
from vierstaedte_harvest import mapping
from vierstaedte_harvest.fetch import HttpSettings
from vierstaedte_harvest.sources import PROTOCOLS

MATCH_KEYS = ("title", "name", "resource", "url", "format")
MAX_DATASETS = 10_000  # per source and run; more is refused as a whole (source.max_datasets raises it)


class ConfigError(ValueError):
    """The city config is wrong; the message says where."""


@dataclasses.dataclass(frozen=True)
class WithdrawLimit:
    """``source.max_withdraw``: how many of the datasets a city has published from its source one
    run may withdraw. A complete listing can still be wrong (``count: 0`` from a broken filter, a
    migrated or emptied portal); above it a run withdraws nothing; ``--allow-withdraw N`` lifts it.

    ``percent`` (``"50%"``, the default): that share of them, rounded down but at least one;
    ``number`` (``5``): that many, ``0`` for none. Either way never all of two or more.
    """

    percent: int | None = 50
    number: int | None = None

    def __post_init__(self) -> None:
        if self.number is not None:
            object.__setattr__(self, "percent", None)

    def of(self, published: int) -> int:
        """The most datasets one run may withdraw of the ``published`` ones."""
        most = self.number if self.number is not None else max(1, published * self.percent // 100)
        return min(most, published - 1) if published >= 2 else most

    @classmethod
    def parse(cls, value: Any) -> "WithdrawLimit":
        """``"N%"`` (1–100) or a whole number ≥ 0; ValueError otherwise."""
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return cls(number=value)
        share = re.fullmatch(r"\s*(\d{1,3})\s*%\s*", value) if isinstance(value, str) else None
        if share and 1 <= int(share[1]) <= 100:
            return cls(percent=int(share[1]))
        raise ValueError("source.max_withdraw must be a share from 1% to 100% or a whole number "
                         f"≥ 0 of datasets, not {value!r}")


@dataclasses.dataclass
class TableRule:
    """Which resource of which dataset a mapping normalises."""

    match: dict[str, re.Pattern]
    mapping: mapping.Mapping
    spatial_granularity: str | None = None

    def matches(self, dataset, resource) -> bool:
        values = {"title": dataset.title, "name": dataset.name, "resource": resource.name, "url": resource.url,
                  "format": resource.format}
        return all(pattern.search(values[key] or "") for key, pattern in self.match.items())


@dataclasses.dataclass
class CityConfig:
    city: str
    path: Path
    protocol: str
    source: dict[str, Any]
    http: HttpSettings
    defaults: dict[str, Any]
    tables: list[TableRule]
    max_datasets: int = MAX_DATASETS
    max_withdraw: WithdrawLimit = WithdrawLimit()

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


def load(city: str, path: Path | None = None) -> CityConfig:
    path = Path(path) if path else default_path(city)
    if cities.find(city) is None:
        raise ConfigError(f"unknown city {city!r}; one of {', '.join(cities.names())}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error}")
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a YAML mapping")
    unknown = set(data) - {"city", "source", "http", "defaults", "tables"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    if data.get("city") != city:
        raise ConfigError(f"{path} is the config of {data.get('city')!r}, not of {city!r}")
    source = dict(data.get("source") or {})
    protocol = source.pop("protocol", None)
    if protocol not in PROTOCOLS:
        raise ConfigError(f"{path}: source.protocol must be one of {', '.join(PROTOCOLS)}")
    if protocol == "manifest" and source.get("path"):
        source["path"] = str((path.parent / source["path"]).resolve())
    elif not source.get("url"):
        raise ConfigError(f"{path}: source.url is required for protocol {protocol}")
    source["city"] = city
    max_datasets = source.pop("max_datasets", MAX_DATASETS)
    if isinstance(max_datasets, bool) or not isinstance(max_datasets, int) or max_datasets < 1:
        raise ConfigError(f"{path}: source.max_datasets must be a whole number ≥ 1, not {max_datasets!r}")
    try:
        max_withdraw = WithdrawLimit.parse(source.pop("max_withdraw", "50%"))
    except ValueError as error:
        raise ConfigError(f"{path}: {error}")
    if "VIERSTAEDTE_SOURCE_URL" in os.environ:  # lets city IT or the demo point a city elsewhere without editing
        source["url"] = os.environ["VIERSTAEDTE_SOURCE_URL"]
    try:
        http = HttpSettings.from_config(data.get("http"))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{path}: {error}")
    return CityConfig(city, path, protocol, source, http, dict(data.get("defaults") or {}),
                      [_rule(rule, path, city, n) for n, rule in enumerate(data.get("tables") or [], start=1)],
                      max_datasets, max_withdraw)


def _rule(data: Any, path: Path, city: str, number: int) -> TableRule:
    at = f"{path}: tables[{number}]"
    if not isinstance(data, dict) or "mapping" not in data or not isinstance(data.get("match"), dict):
        raise ConfigError(f"{at}: needs 'match' (a mapping of {', '.join(MATCH_KEYS)} to regular expressions) and 'mapping'")
    bad = set(data["match"]) - set(MATCH_KEYS)
    if bad:
        raise ConfigError(f"{at}: unknown match key(s) {', '.join(sorted(bad))}")
    try:
        patterns = {k: re.compile(str(v), re.I) for k, v in data["match"].items()}
        rules = mapping.load((path.parent / data["mapping"]).resolve())
    except re.error as error:
        raise ConfigError(f"{at}: bad regular expression: {error}")
    except (mapping.MappingError, OSError) as error:
        raise ConfigError(f"{at}: {error}")
    if rules.city != city:
        raise ConfigError(f"{at}: mapping {data['mapping']} is for {rules.city}, not {city}")
    return TableRule(patterns, rules, data.get("spatial_granularity"))
