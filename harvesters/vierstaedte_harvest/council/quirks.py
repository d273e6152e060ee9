"""Vendor repairs of single OParl objects, and the embedded objects inside them.

Each repair is one documented deviation of a real product from the specification, applied in
place so that the object the portal stores (``data``) is the repaired one, and counted so the
run report says what was repaired how often:

* ALLRIS (CC e-gov) sends ``auxiliaryFile`` as one object instead of a list (``auxiliary-file``),
  and ``mimeType: "pdf"`` instead of a media type (``mime-type``).
* Sternberg (SD.NET) omits ``type`` on some objects: the type is the one of the list the object
  came from, or of the key it is embedded under (``type-inferred``).
* more!rubin sets ``created``/``modified`` to the day of the request: see
  :func:`request_day_timestamps`; such timestamps are removed (``timestamps-removed``), else every
  run would store every object again.
"""

from __future__ import annotations

import collections
import datetime as dt
import mimetypes
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from vierstaedte_contract.council import type_of

# an object embedded under this key is of this type when it does not say
EMBEDDED = {
    "mainFile": "file",
    "auxiliaryFile": "file",
    "invitation": "file",
    "resultsProtocol": "file",
    "verbatimProtocol": "file",
    "derivativeFile": "file",
    "file": "file",
    "location": "location",
    "legislativeTerm": "legislativeTerm",
    "consultation": "consultation",
    "agendaItem": "agendaItem",
    "membership": "membership",
    "organization": "organization",
    "person": "person",
    "meeting": "meeting",
    "paper": "paper",
}
PARENTS = ("body", "system")  # links up, never embedded copies to store
EXTRA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
BERLIN = ZoneInfo("Europe/Berlin")
REQUEST_DAY_MINIMUM = 3  # objects on a page, all stamped with the request day


def media_type(value: str) -> str | None:
    """``"pdf"`` → ``application/pdf``; None if it is no known file type."""
    word = value.strip().lower().lstrip(".")
    return EXTRA_TYPES.get(word) or mimetypes.types_map.get(f".{word}")


def repair(obj: dict[str, Any], counts: collections.Counter) -> None:
    """Repair one object in place (not its embedded objects: :func:`objects` visits those)."""
    aux = obj.get("auxiliaryFile")
    if isinstance(aux, dict):
        obj["auxiliaryFile"] = [aux]
        counts["auxiliary-file"] += 1
    mime = obj.get("mimeType")
    if isinstance(mime, str) and "/" not in mime and media_type(mime):
        obj["mimeType"] = media_type(mime)
        counts["mime-type"] += 1


def objects(
    obj: dict[str, Any], short_type: str, counts: collections.Counter
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The object and every object embedded in it (depth first), each repaired, with its type.

    ``short_type`` is what the list (or the embedding key) says the object is; the object's own
    ``type`` wins where it has one.
    """
    own = type_of(obj)
    if own is None:
        counts["type-inferred"] += 1
    repair(obj, counts)
    yield own or short_type, obj
    for key, value in obj.items():
        if key in PARENTS:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                inner = type_of(item) or EMBEDDED.get(key)
                if inner:
                    yield from objects(item, inner, counts)


def _day(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.date()


def request_day_timestamps(page: list[dict[str, Any]], now: dt.datetime) -> bool:
    """Whether a page's objects carry the request day as ``created`` and ``modified`` (more!rubin).

    At least :data:`REQUEST_DAY_MINIMUM` objects, every one created and modified today (UTC or
    Berlin time): real objects of a council are not all created on the day one asks for them.
    """
    today = {now.astimezone(dt.UTC).date(), now.astimezone(BERLIN).date()}
    live = [o for o in page if isinstance(o, dict) and not o.get("deleted")]
    return len(live) >= REQUEST_DAY_MINIMUM and all(
        _day(o.get("created")) in today and _day(o.get("modified")) in today for o in live
    )


def remove_timestamps(obj: dict[str, Any], counts: collections.Counter) -> None:
    """Drop the request-day ``created``/``modified`` of an object and of those embedded in it."""
    for key in ("created", "modified"):
        if obj.pop(key, None) is not None:
            counts["timestamps-removed"] += 1
    for key, value in obj.items():
        if key in PARENTS:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                remove_timestamps(item, counts)
