"""Council information (OParl) as the harvester sends it and the portal stores it.

Both wings name an OParl object the same way: by its short type (``type_of``),
and, in our URLs and the council Solr core, by a short stable key derived from
its OParl id (``object_key``), so a page address survives a re-harvest and never
exposes the original system's URL layout. The limits here bound what one write
call may carry, so the harvester batches and the portal validates against the
same numbers.
"""

from __future__ import annotations

import hashlib
from typing import Any

OBJECT_TYPES = (
    "system",
    "body",
    "organization",
    "person",
    "membership",
    "meeting",
    "agendaItem",
    "paper",
    "consultation",
    "file",
    "location",
    "legislativeTerm",
)
# the last segment of a type URI, lower-cased, to the short type
_BY_LOWER = {name.lower(): name for name in OBJECT_TYPES}

# how the extraction of a file's text ended; "empty" = no text layer (a scanned PDF)
FILE_TEXT_STATUSES = ("ok", "empty", "too_large", "timeout", "failed", "unsupported", "refused")

BATCH_MAX = 200  # objects per upsert call
TEXT_MAX_CHARS = 1_000_000  # characters of extracted text stored per file
KEY_LENGTH = 16


def type_of(obj: Any) -> str | None:
    """The short type of an OParl object (``"paper"``, ``"agendaItem"``), or None.

    Reads ``obj["type"]`` in any OParl version ("https://schema.oparl.org/1.1/Paper",
    "https://schema.oparl.org/1.0/AgendaItem", the 1.0 draft's "https://oparl.org/schema/1.0/
    Paper"); None when it is absent or not an OParl type (e.g. GeoJSON's "Feature"), and the
    harvester then infers the type from the list it read.
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        return None
    last = obj["type"].rstrip("/").rsplit("/", 1)[-1]
    return _BY_LOWER.get(last.lower())


def object_key(oparl_id: str) -> str:
    """The short stable key of an object: the first 16 hex digits of sha256 of its OParl id."""
    return hashlib.sha256(oparl_id.encode("utf-8")).hexdigest()[:KEY_LENGTH]
