"""Typed settings: each section of a city config is a dataclass, and YAML is checked against it.

A key the harvester does not know used to be ignored, and an ignored key changes what a run
does without a word: ``organisation:`` instead of ``organization:`` made the CKAN reader list
the whole state portal. So every section (the top level, ``source`` per protocol, ``http``,
``defaults``, each ``tables`` rule) is a dataclass, and :func:`build` refuses, before anything
runs, a key the dataclass lacks (naming the allowed keys and the closest one), a required key
that is missing and a value of the wrong type. The field types say what is allowed; a field's
``metadata`` may add ``low``/``high`` bounds, ``choices`` (a callable, so vocabularies load
only when a config does) or ``parse`` (YAML value → setting; ValueError says what it expects).
A field whose ``metadata`` has ``key=False`` is not read from YAML; the loader sets it.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, Literal, TypeVar, Union

T = TypeVar("T")
_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


class SettingsError(ValueError):
    """A section of a config does not fit its dataclass; the message names the key."""


def keys(cls: type) -> list[str]:
    """The YAML keys ``cls`` takes, in declaration order."""
    return [f.name for f in dataclasses.fields(cls) if f.metadata.get("key", True)]


def build(
    cls: type[T],
    data: Any,
    section: str = "",
    context: str = "",
    taken: tuple[str, ...] = (),
    **given: Any,
) -> T:
    """``cls`` from the YAML mapping ``data``, or SettingsError naming ``section.key``.

    ``section`` is where ``data`` sits in the file (``source``, ``tables[2]``; empty for the top
    level); ``context`` follows the key in messages (``for protocol ckan``); ``taken`` are keys
    the caller reads itself (``protocol``); ``given`` are the values of the fields it sets.
    """
    where = section or "the top level"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError(f"{where} must be a mapping of keys to values, not {_shown(data)}")
    allowed = [*taken, *keys(cls)]
    for key in data:
        if key not in allowed:
            raise SettingsError(unknown(key, allowed, section, context))
    hints = typing.get_type_hints(cls)
    values = dict(given)
    for field in dataclasses.fields(cls):
        if field.name not in data or not field.metadata.get("key", True):
            if _required(field) and field.name not in values:
                raise SettingsError(
                    f"{_name(section, field.name)} is required" + (f" {context}" if context else "")
                )
            continue
        values[field.name] = _value(field, hints[field.name], data[field.name], section)
    try:
        return cls(**values)
    except ValueError as error:  # a rule across keys, checked by the dataclass itself
        raise SettingsError(str(error)) from None


def unknown(key: Any, allowed: list[str], section: str = "", context: str = "") -> str:
    """The message for a key not in ``allowed``, with the closest allowed key if there is one."""
    return (
        f"unknown key {_name(section, key)}"
        + (f" {context}" if context else "")
        + suggestion(key, allowed)
        + f"; allowed: {', '.join(sorted(allowed))}"
    )


def suggestion(key: Any, allowed: typing.Iterable[str]) -> str:
    """`` (did you mean X?)`` for the allowed key closest to a misspelled one, else nothing."""
    close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def describe(field: dataclasses.Field, hint: Any) -> str:
    """What a field takes, in words (for messages and the table in docs/harvesters.md)."""
    if "expects" in field.metadata:
        return field.metadata["expects"]
    if "choices" in field.metadata:
        return "one of " + ", ".join(field.metadata["choices"]())
    text = _describe(hint)
    low, high = field.metadata.get("low"), field.metadata.get("high")
    if low is not None and high is not None:
        return f"{text} from {low} to {high}"
    return f"{text} ≥ {low}" if low is not None else text


def _required(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _name(section: str, key: Any) -> str:
    return f"{section}.{key}" if section else str(key)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _value(field: dataclasses.Field, hint: Any, value: Any, section: str) -> Any:
    name = _name(section, field.name)
    parse = field.metadata.get("parse")
    if parse is not None:
        try:
            return parse(value)
        except ValueError:
            raise SettingsError(
                f"{name} must be {describe(field, hint)}, not {_shown(value)}"
            ) from None
    low, high = field.metadata.get("low"), field.metadata.get("high")
    choices = field.metadata.get("choices")
    if (
        not _fits(value, hint)
        or (low is not None and value < low)
        or (high is not None and value > high)
        or (choices is not None and value is not None and value not in choices())
    ):
        raise SettingsError(f"{name} must be {describe(field, hint)}, not {_shown(value)}")
    return float(value) if hint is float else value


def _fits(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin is dict:  # a section of its own, checked by its own dataclass
        return isinstance(value, dict)
    if hint is type(None):
        return value is None
    if hint in (int, float) and isinstance(value, bool):
        return False
    if hint is float:
        return isinstance(value, (int, float))
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        words = [_describe(arg) for arg in typing.get_args(hint) if arg is not type(None)]
        return " or ".join(words)
    if origin is Literal:
        return "one of " + ", ".join(str(arg) for arg in typing.get_args(hint))
    if origin is list:
        return f"a list ({_describe(typing.get_args(hint)[0])} each)"
    if origin is dict:
        return "a mapping of keys to values"
    return _NAMES.get(hint, getattr(hint, "__name__", str(hint)))
