"""Validators of the council actions' input: what a harvester sends is untrusted.

Each bounds what it accepts (lengths, list sizes, nesting, bytes) so junk is a field error
(HTTP 409), never a 500 deep in PostgreSQL: JSONB refuses NUL characters and NaN, UTF-8 cannot
encode a lone surrogate. NUL characters are dropped from OParl data and texts (a storage
limit, not the harvester's fault); everything else that cannot be stored is refused.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import ckan.plugins.toolkit as tk

from vierstaedte_contract.council import (
    BATCH_MAX,
    FILE_TEXT_STATUSES,
    KEY_LENGTH,
    OBJECT_TYPES,
    TEXT_MAX_CHARS,
    object_key,
    type_of,
)

Invalid = tk.Invalid
_ = tk._

MAX_URL_CHARS = 2000
MAX_DEPTH = 32  # nesting of an OParl object, like logic/schema's MAX_JSON_DEPTH (this module
# cannot import logic/schema, which imports it)
MAX_OBJECT_BYTES = 500_000  # one OParl object as JSON; a paper with embedded files is ~10 kB
MAX_FIELD_CHARS = 300  # an ETag, a Last-Modified header, a media type
# paging of vierstaedte_council_search: deep paging in Solr costs every shard the whole prefix,
# and nobody reads page 500 of hits (the action's schema and council/search both use these)
SEARCH_ROWS_MAX = 50
SEARCH_ROWS_DEFAULT = 20
SEARCH_START_MAX = 1000
OBJECT_FIELDS = ("id", "type", "body", "modified", "deleted", "data")
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)
_KEY = re.compile(rf"[0-9a-f]{{{KEY_LENGTH}}}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:60] + "…"


def oparl_url(value: Any, context: dict | None = None) -> str:
    """An OParl id or download address: an http(s) URL of at most 2,000 characters."""
    if not isinstance(value, str) or len(value) > MAX_URL_CHARS or not _URL.fullmatch(value):
        raise Invalid(
            _("Keine gültige http(s)-Adresse (höchstens {max} Zeichen): {value}").format(
                max=MAX_URL_CHARS, value=_shown(value)
            )
        )
    _encodable(value)
    return value


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(_("Der Text enthält ein ungültiges Zeichen (einzelnes Surrogat).")) from None


def optional_time(value: Any, context: dict | None = None) -> datetime.datetime | None:
    """An ISO 8601 time (without an offset: UTC) as an aware datetime, or None."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(value).strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return moment.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        raise Invalid(
            _("Kein gültiger ISO-8601-Zeitpunkt: {value}").format(value=_shown(value))
        ) from None


def object_key_value(value: Any, context: dict | None = None) -> str:
    """The key of a council object: 16 lower-case hex digits."""
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise Invalid(_("Kein gültiger Schlüssel: {value}").format(value=_shown(value)))
    return value


def short_text(limit: int = MAX_FIELD_CHARS):
    def validator(value: Any, context: dict | None = None) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            raise Invalid(_("Muss ein Text von höchstens {max} Zeichen sein.").format(max=limit))
        _encodable(value)
        return value

    return validator


def file_text_status(value: Any, context: dict | None = None) -> str:
    if value not in FILE_TEXT_STATUSES:
        raise Invalid(
            _("Unbekannter Status: {value}. Erlaubt sind: {allowed}").format(
                value=_shown(value), allowed=", ".join(FILE_TEXT_STATUSES)
            )
        )
    return value


def list_name(value: Any, context: dict | None = None) -> str:
    if value not in OBJECT_TYPES:
        raise Invalid(
            _("Unbekannte Liste: {value}. Erlaubt sind: {allowed}").format(
                value=_shown(value), allowed=", ".join(OBJECT_TYPES)
            )
        )
    return value


def sha256_value(value: Any, context: dict | None = None) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
        raise Invalid(
            _("Keine SHA-256-Prüfsumme (64 Hexziffern): {value}").format(value=_shown(value))
        )
    return value.lower()


def file_text(value: Any, context: dict | None = None) -> str | None:
    """The extracted text: at most ``TEXT_MAX_CHARS`` characters, NUL characters dropped."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > TEXT_MAX_CHARS:
        raise Invalid(
            _("Der Text muss ein Text von höchstens {max} Zeichen sein.").format(max=TEXT_MAX_CHARS)
        )
    _encodable(value)
    return value.replace("\x00", "")


def _json_list(value: Any, most: int, what: str) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise Invalid(_("{what} ist keine gültige JSON-Liste.").format(what=what)) from None
    if not isinstance(value, list) or not 1 <= len(value) <= most:
        raise Invalid(
            _("{what} muss eine Liste mit 1 bis {max} Einträgen sein.").format(what=what, max=most)
        )
    return value


def file_ids(value: Any, context: dict | None = None) -> list[str]:
    """1 to ``BATCH_MAX`` OParl ids of files."""
    ids = _json_list(value, BATCH_MAX, _("file_ids"))
    return [oparl_url(item) for item in ids]


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests deeper than MAX_DEPTH, found without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _storable_data(data: Any) -> dict[str, Any]:
    """The OParl object as stored: a JSON object within the size and nesting bounds, without
    NUL characters; refused if it holds NaN or a lone surrogate."""
    if not isinstance(data, dict):
        raise Invalid(_("data muss ein JSON-Objekt sein."))
    if _too_deep(data):
        raise Invalid(
            _("data ist zu tief verschachtelt (mehr als {max} Ebenen).").format(max=MAX_DEPTH)
        )
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        size = len(text.encode("utf-8"))
    except (TypeError, ValueError) as error:  # NaN, a lone surrogate (UnicodeEncodeError)
        raise Invalid(
            _("data lässt sich nicht als JSON speichern: {error}").format(error=_shown(error))
        ) from None
    if size > MAX_OBJECT_BYTES:
        raise Invalid(
            _("data ist zu groß: {size} Bytes; erlaubt sind höchstens {max}.").format(
                size=size, max=MAX_OBJECT_BYTES
            )
        )
    if _ESCAPED_NUL.search(text):
        text = _ESCAPED_NUL.sub(lambda match: match.group()[:-6], text)
        data = json.loads(text)
    return data


def _council_object(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise Invalid(_("Jedes Objekt muss ein JSON-Objekt sein."))
    unknown = sorted(str(name)[:40] for name in set(item) - set(OBJECT_FIELDS))
    if unknown:
        raise Invalid(
            _("Unbekannte Felder: {unknown}. Erlaubt sind: {allowed}").format(
                unknown=", ".join(unknown), allowed=", ".join(OBJECT_FIELDS)
            )
        )
    oparl_id = oparl_url(item.get("id"))
    short_type = item.get("type")
    if short_type not in OBJECT_TYPES:
        raise Invalid(
            _("Unbekannter Typ: {value}. Erlaubt sind: {allowed}").format(
                value=_shown(short_type), allowed=", ".join(OBJECT_TYPES)
            )
        )
    data = _storable_data(item.get("data"))
    if type_of(data) not in (None, short_type):
        raise Invalid(
            _("type {short} passt nicht zum Typ des Objekts: {value}").format(
                short=short_type, value=_shown(data.get("type"))
            )
        )
    if data.get("id", oparl_id) != oparl_id:
        raise Invalid(_("data.id ist nicht die id des Objekts: {value}").format(value=oparl_id))
    body = item.get("body")
    deleted = item.get("deleted", False)
    if not isinstance(deleted, bool):
        raise Invalid(_("deleted muss true oder false sein."))
    return {
        "id": oparl_id,
        "key": object_key(oparl_id),
        "type": short_type,
        "body": None if body in (None, "") else oparl_url(body),
        "modified": optional_time(item.get("modified")),
        "deleted": deleted or data.get("deleted") is True,
        "data": data,
    }


def council_objects(value: Any, context: dict | None = None) -> list[dict[str, Any]]:
    """1 to ``BATCH_MAX`` objects ``{id, type, body, modified, deleted, data}``, each checked;
    an error names the object by its position."""
    items = _json_list(value, BATCH_MAX, _("objects"))
    result, problems = [], []
    for index, item in enumerate(items):
        try:
            result.append(_council_object(item))
        except Invalid as error:
            problems.append(f"objects[{index}]: {error.error}")
    if problems:
        raise Invalid("; ".join(problems[:10]))
    return result
