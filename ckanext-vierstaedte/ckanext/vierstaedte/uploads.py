"""Uploaded resource files: data formats only, checked by content, stored with the type we verified.

Files are served from the portal's own origin, so an uploaded HTML or SVG page would run its script
with the rights of whoever opens it (and could mint that user an API token). CKAN 2.12 keeps the
uploader's file name and media type. Every resource upload — the web form, ``resource_create``,
``package_create``/``_update``/``_revise`` with files, so editors and harvesters alike — passes
through ``IUploader.get_resource_uploader``; :func:`resource_uploader` checks the file there, before
CKAN validates or stores anything, and then hands over to CKAN's own uploader.

A file is accepted when its extension names one of :data:`FORMATS`, no claim about it (declared
media type, ``format``) names a scriptable type, and libmagic finds content of that format. Text
formats need care: libmagic calls any text with ``<script`` in its first lines HTML, so a table
whose title line holds a tag is still a table — what is refused is text that *is* a markup
document (begins with ``<``). How the files are served is :mod:`ckanext.vierstaedte.headers`.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import ckan.plugins.toolkit as tk
import magic
from ckan.lib import files, uploader
from werkzeug.datastructures import FileStorage

SNIFF_BYTES = 65536
TEXT = frozenset(
    {
        "text/plain",
        "text/csv",
        "application/csv",
        "text/tab-separated-values",
        "application/json",
        "text/html",
        "text/xml",
        "application/xml",
        "application/x-empty",
    }
)
MARKUP = frozenset(
    {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml"}
)
ZIP = frozenset({"application/zip"})
# extension: (the media type we store and serve, what libmagic may find in such a file)
FORMATS: dict[str, tuple[str, frozenset[str]]] = {
    "csv": ("text/csv", TEXT),
    "tsv": ("text/tab-separated-values", TEXT),
    "txt": ("text/plain", TEXT),
    "json": ("application/json", TEXT),
    "geojson": ("application/geo+json", TEXT),
    "jsonld": ("application/ld+json", TEXT),
    "xml": ("application/xml", TEXT),
    "rdf": ("application/rdf+xml", TEXT),
    "ttl": ("text/turtle", TEXT),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ZIP | {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    ),
    "ods": (
        "application/vnd.oasis.opendocument.spreadsheet",
        ZIP | {"application/vnd.oasis.opendocument.spreadsheet"},
    ),
    "xls": (
        "application/vnd.ms-excel",
        frozenset({"application/vnd.ms-excel", "application/CDFV2", "application/x-ole-storage"}),
    ),
    "zip": ("application/zip", ZIP),
    "pdf": ("application/pdf", frozenset({"application/pdf"})),
    "png": ("image/png", frozenset({"image/png"})),
    "jpg": ("image/jpeg", frozenset({"image/jpeg"})),
    "jpeg": ("image/jpeg", frozenset({"image/jpeg"})),
}
MARKUP_FORMATS = frozenset({"xml", "rdf"})  # XML documents, but never (X)HTML or SVG ones
SCRIPTABLE_MARKUP = frozenset({"text/html", "image/svg+xml", "application/xhtml+xml"})
SCRIPTABLE_NAMESPACES = (b"http://www.w3.org/1999/xhtml", b"http://www.w3.org/2000/svg")
# words in a declared media type or format that name something a browser runs
SCRIPTABLE = ("html", "svg", "javascript", "ecmascript", "xsl")
UNKNOWN = "application/octet-stream"


def extension(name: str) -> str:
    return os.path.splitext(urlsplit(name or "").path)[1].lstrip(".").lower()


def media_type(name: str) -> str:
    """The media type a stored upload of this name is served as (its extension was verified)."""
    return FORMATS.get(extension(name), (UNKNOWN,))[0]


def resource_uploader(resource: dict[str, Any]):
    """``IUploader.get_resource_uploader``: check a new file, then CKAN's own resource uploader.

    The resource's ``mimetype`` is always ours: the verified type of a new file, else the type
    of the stored file (whatever a client sends in the field). ``resource`` is changed in place,
    as CKAN's uploader does.
    """
    new = resource.get("upload")
    if isinstance(new, FileStorage) and new.filename:
        mimetype = verify(new, resource.get("format"))
    elif resource.get("url_type") == "upload":
        mimetype = media_type(resource.get("url", ""))
    else:
        return None  # a link: CKAN's uploader as usual
    try:  # the uploader CKAN itself would pick: configured file storage, else ckan.storage_path
        files.get_storage(tk.config["ckan.files.default_storages.resource"])
    except files.exc.UnknownStorageError:
        upload = uploader.ResourceUpload(resource)
    else:
        upload = uploader.FKResourceUpload(resource)
    upload.mimetype = resource["mimetype"] = mimetype
    return upload


def _refuse(message: str) -> tk.ValidationError:
    return tk.ValidationError({"upload": [message]})


def verify(upload: FileStorage, declared_format: str | None) -> str:
    """The media type of ``upload`` if it is a data file of the format its name says."""
    ext = extension(upload.filename)
    if ext not in FORMATS:
        raise _refuse(
            tk._(
                "Dateien vom Typ „{extension}“ können nicht hochgeladen werden. "
                "Erlaubt sind Datendateien: {allowed}."
            ).format(extension=ext or tk._("ohne Endung"), allowed=", ".join(sorted(FORMATS)))
        )
    for claim in (upload.mimetype, declared_format):
        if claim and any(word in claim.lower() for word in SCRIPTABLE):
            raise _refuse(
                tk._(
                    "Die Datei ist als „{claim}“ angegeben: Webseiten, Grafiken mit "
                    "Skript und Skripte können nicht hochgeladen werden."
                ).format(claim=claim)
            )
    stream = upload.stream
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    found = magic.from_buffer(head, mime=True)
    mimetype, allowed = FORMATS[ext]
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if ext in MARKUP_FORMATS:  # an XML document, but not a page or a graphic in XML
        markup = found in SCRIPTABLE_MARKUP or any(ns in head for ns in SCRIPTABLE_NAMESPACES)
    else:  # text whose first character opens a tag is a markup document, not a table
        markup = found in MARKUP and start == b"<"
    if found not in allowed or markup:
        raise _refuse(
            tk._(
                "Der Inhalt der Datei passt nicht zur Endung „.{extension}“ "
                "(erkannt: {found}). Webseiten, Grafiken mit Skript und Skripte "
                "können nicht hochgeladen werden."
            ).format(extension=ext, found=found)
        )
    return mimetype
