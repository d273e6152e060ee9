"""Security headers on every response of the portal, set by CKAN itself.

They are set in the Flask app (``IMiddleware``), not in a proxy, so the local stack, the tests
and the Docker deployment send the same ones (nginx in ``docker/`` passes them through).

* Pages: a Content-Security-Policy that runs only the portal's own script files (no inline
  script, no ``eval``), may not be framed by other sites, ``nosniff`` and a Referrer-Policy.
  Resource views (the DataTables view) are pages the resource page shows in an iframe: they
  alone may be framed, by the portal's own pages.
* The read-only API is open to browser apps on other sites (CORS): a GET (or HEAD) of a
  side-effect-free action under ``/api/`` (``package_search``, ``datastore_search``, our
  ``vierstaedte_*`` reads) and its ``OPTIONS`` preflight get ``Access-Control-Allow-Origin`` for
  the origins of ``ckanext.vierstaedte.cors.origins`` (default ``*``). Never credentials: no
  ``Access-Control-Allow-Credentials``, no cookies or ``Authorization`` header allowed across
  sites, and nothing that writes (POST) or is no action (pages) is shared. The open-data files
  outside ``/api/`` (``/catalog.ttl`` and the other DCAT formats, ``/katalog.jsonl``,
  ``/vergleich.csv``) are shared the same way. CKAN's own
  ``ckan.cors.*`` options, which cover every request, stay off.
* Uploaded files: always downloads (``Content-Disposition: attachment``) except the inert image
  types, served as the media type their verified extension gives (:mod:`.uploads`), never what
  the URL's file name or a stored field suggests, and sandboxed should a browser render one.
"""

from __future__ import annotations

import os

import ckan.plugins.toolkit as tk
from ckan import model
from flask import Flask, Response, request

from ckanext.vierstaedte import uploads

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
INLINE_TYPES = frozenset({"image/png", "image/jpeg"})  # shown by the browser, never run
REFERRER_POLICY = "strict-origin-when-cross-origin"
CORS_ORIGINS = "ckanext.vierstaedte.cors.origins"
CORS_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_MAX_AGE = "86400"  # a browser asks once a day per URL, not before every call


def install(app: Flask) -> Flask:
    """``IMiddleware.make_middleware``: add the headers to every response of the Flask app."""
    app.after_request(secure)
    return app


def _resource_endpoint() -> str | None:
    """``download``, ``view``, … for the resource blueprints of every dataset type; else None."""
    blueprint, _, name = (request.endpoint or "").rpartition(".")
    return name if blueprint == "resource" or blueprint.endswith("_resource") else None


# the open-data files outside /api/: the DCAT catalogue and dataset records, the catalogue's
# JSON Lines and Data Package, the comparison's CSV; read-only, like the read API
OPEN_DATA_ENDPOINTS = frozenset(
    {
        "dcat.read_catalog",
        "dcat.read_dataset",
        "dcat_json_interface.dcat_json",
        "vierstaedte_exports.catalogue_jsonl",
        "vierstaedte_exports.catalogue_datapackage",
        "vierstaedte_exports.table_schema",
        "vierstaedte_compare.csv",
    }
)


def _read_only_api() -> bool:
    """A GET/HEAD/OPTIONS of a side-effect-free API action (or another GET-only API URL), or
    of an open-data file."""
    if request.method not in CORS_METHODS:
        return False
    if request.endpoint in OPEN_DATA_ENDPOINTS:
        return True
    if not request.path.startswith("/api/"):
        return False
    name = (request.view_args or {}).get("logic_function")
    if name is None:  # /api/vierstaedte/tools.json, /api/i18n/…: GET-only JSON
        return request.url_rule is not None and "POST" not in (request.url_rule.methods or ())
    try:
        return bool(getattr(tk.get_action(name), "side_effect_free", False))
    except (KeyError, AttributeError):  # an unknown action: CKAN answers 400, no CORS
        return False


def _cors(response: Response) -> None:
    """``Access-Control-*`` for another site's browser app reading the API; never credentials."""
    allowed = tk.config.get(CORS_ORIGINS).split()
    origin = request.headers.get("Origin")
    if not allowed or not origin or not _read_only_api():
        return
    headers = response.headers
    if "*" in allowed:
        headers["Access-Control-Allow-Origin"] = "*"
    elif origin in allowed:
        headers["Access-Control-Allow-Origin"] = origin
        headers.add("Vary", "Origin")
    else:
        return
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = ", ".join(CORS_METHODS)
        headers["Access-Control-Max-Age"] = CORS_MAX_AGE


def secure(response: Response) -> Response:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = REFERRER_POLICY
    _cors(response)
    endpoint = _resource_endpoint()
    if endpoint == "download" and response.status_code in (200, 206, 304):
        _as_download(response)
        return response
    framed = endpoint == "view"  # a resource view, shown in an iframe on the resource page
    ancestors = "'self'" if framed else "'none'"
    headers["Content-Security-Policy"] = f"{CSP}; frame-ancestors {ancestors}"
    headers["X-Frame-Options"] = "SAMEORIGIN" if framed else "DENY"
    return response


def _as_download(response: Response) -> None:
    """An uploaded file (CKAN redirects links elsewhere): its verified type, and no page of ours."""
    resource = model.Resource.get((request.view_args or {}).get("resource_id", ""))
    name = os.path.basename(resource.url) if resource is not None else ""
    mimetype = uploads.media_type(name)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["X-Frame-Options"] = "DENY"
    disposition = "inline" if mimetype in INLINE_TYPES else "attachment"
    response.headers.set("Content-Disposition", disposition, filename=name or "download")
