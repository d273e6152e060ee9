"""HTTP for the harvesters: timeouts, retries with backoff, size limits, conditional GETs.

Every request goes through :class:`Fetcher`, which also refuses URLs that point
at loopback, private or link-local addresses (a catalogue is untrusted input
and must not make the harvester probe the city's own network) unless the city
config allows them explicitly, as the local replay setup does.
"""
from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import logging
import os
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from vierstaedte_harvest import __version__

log = logging.getLogger(__name__)
CHUNK = 1 << 16
MAX_REDIRECTS = 5


def _timed_out(error: Exception) -> bool:
    """urllib3 wraps a read timeout that outlived its retries in a MaxRetryError inside a ConnectionError."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, (urllib3_exceptions.ReadTimeoutError, urllib3_exceptions.ConnectTimeoutError))


class FetchError(Exception):
    """A URL could not be fetched; ``code`` is stable for reports."""

    def __init__(self, code: str, message: str, url: str):
        super().__init__(message)
        self.code, self.url = code, url


@dataclasses.dataclass
class Download:
    url: str
    path: Path | None  # None when unchanged (HTTP 304)
    unchanged: bool
    sha256: str | None = None
    size: int = 0
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""


@dataclasses.dataclass
class HttpSettings:
    timeout: float = 30.0  # seconds per connect and per read
    retries: int = 3  # on connection errors, timeouts, 429 and 5xx
    backoff: float = 1.0  # 1 s, 2 s, 4 s, …
    max_bytes: int = 200 * 1024 * 1024
    allow_private_addresses: bool = False

    @classmethod
    def from_config(cls, data: dict[str, Any] | None) -> "HttpSettings":
        data = dict(data or {})
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"http: unknown setting(s) {', '.join(sorted(unknown))}")
        return cls(**data)


class Fetcher:
    def __init__(self, settings: HttpSettings | None = None):
        self.settings = settings or HttpSettings()
        retry = Retry(total=self.settings.retries, connect=self.settings.retries, read=self.settings.retries,
                      status=self.settings.retries, backoff_factor=self.settings.backoff,
                      status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET", "HEAD"),
                      raise_on_status=False, respect_retry_after_header=True)
        self._retry = retry
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        """One session per thread: datasets are harvested in parallel, and requests' sessions are not thread-safe."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.mount("http://", HTTPAdapter(max_retries=self._retry))
            session.mount("https://", HTTPAdapter(max_retries=self._retry))
            session.headers["User-Agent"] = f"vierstaedte-harvest/{__version__}"
        return session

    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("bad-url", f"Not an http(s) URL: {url!r}", url)
        if self.settings.allow_private_addresses:
            return
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
        except socket.gaierror as error:
            raise FetchError("dns-error", f"Cannot resolve {parts.hostname}: {error}", url)
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
                raise FetchError("private-address", f"Refusing {url}: {parts.hostname} resolves to the non-public "
                                 f"address {ip} (set http.allow_private_addresses to permit)", url)

    def _get(self, url: str, **kwargs: Any) -> requests.Response:
        """GET with redirects followed by hand, so that every hop passes :meth:`check_url`."""
        for _ in range(MAX_REDIRECTS + 1):
            self.check_url(url)
            try:
                response = self.session.get(url, timeout=self.settings.timeout, stream=True, allow_redirects=False,
                                            **kwargs)
            except requests.exceptions.Timeout:
                raise FetchError("timeout", f"No answer from {url} within {self.settings.timeout:g} s "
                                 f"(after {self.settings.retries} retries)", url)
            except requests.exceptions.RetryError as error:
                raise FetchError("http-error", f"{url}: gave up after {self.settings.retries} retries ({error})", url)
            except requests.exceptions.RequestException as error:
                if _timed_out(error):
                    raise FetchError("timeout", f"No answer from {url} within {self.settings.timeout:g} s "
                                     f"(after {self.settings.retries} retries)", url)
                raise FetchError("connection-error", f"{url}: {error.__class__.__name__}: {error}", url)
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                response.close()
                continue
            if response.status_code >= 400:
                response.close()
                raise FetchError("http-error", f"{url}: HTTP {response.status_code} {response.reason}", url)
            return response
        raise FetchError("too-many-redirects", f"{url}: more than {MAX_REDIRECTS} redirects", url)

    def _read_limited(self, response: requests.Response, sink) -> tuple[int, str]:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
            raise FetchError("too-large", f"{response.url}: {int(declared):,} bytes announced, limit is "
                             f"{self.settings.max_bytes:,}", response.url)
        digest, size = hashlib.sha256(), 0
        try:
            for block in response.iter_content(CHUNK):
                size += len(block)
                if size > self.settings.max_bytes:
                    raise FetchError("too-large", f"{response.url}: more than {self.settings.max_bytes:,} bytes",
                                     response.url)
                digest.update(block)
                sink(block)
        except requests.exceptions.RequestException as error:
            raise FetchError("connection-error", f"{response.url}: download broke off after {size:,} bytes ({error})",
                             response.url)
        finally:
            response.close()
        return size, digest.hexdigest()

    def get_bytes(self, url: str, params: dict[str, Any] | None = None) -> tuple[bytes, str]:
        """Body and content type of a (small) document such as a catalogue page."""
        response = self._get(url, params=params)
        parts: list[bytes] = []
        self._read_limited(response, parts.append)
        return b"".join(parts), response.headers.get("Content-Type", "")

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        body, content_type = self.get_bytes(url, params)
        try:
            return requests.models.complexjson.loads(body)
        except ValueError:
            kind = "an HTML page" if b"<html" in body[:2048].lower() else f"{content_type or 'no JSON'}"
            raise FetchError("bad-json", f"{url}: expected JSON, got {kind}", url)

    def download(self, url: str, directory: Path, etag: str | None = None,
                 last_modified: str | None = None) -> Download:
        """Stream a file to ``directory``; a 304 to the conditional request means unchanged."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = self._get(url, headers=headers)
        if response.status_code == 304:
            response.close()
            return Download(url, None, True, etag=etag, last_modified=last_modified)
        fd, name = tempfile.mkstemp(dir=directory, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                size, sha256 = self._read_limited(response, handle.write)
        except BaseException:
            os.unlink(name)
            raise
        return Download(url, Path(name), False, sha256, size, response.headers.get("ETag"),
                        response.headers.get("Last-Modified"), response.headers.get("Content-Type", ""))
