"""HTTP for the harvesters: timeouts, retries with backoff, size limits, conditional GETs.

Every request goes through :class:`Fetcher`, which also refuses URLs whose host is
not on the public internet (a catalogue is untrusted input and must not make the
harvester probe the city's own network or a cloud's metadata service): every address
that is not globally routable (loopback, private, link-local, shared 100.64.0.0/10,
multicast, reserved, 0.0.0.0/8, and IPv6 forms that embed such an IPv4 address,
e.g. ``::ffff:127.0.0.1``) unless the city config allows it explicitly, as the local
replay setup does (``http.allow_private_addresses``: ``true``, or a list of networks).

The check holds against DNS rebinding: a name is resolved once per request, and the
connection goes to the very address that was checked (:class:`_PinnedAdapter`), never
to a second DNS answer; the Host header, TLS SNI and certificate check keep the name.
Redirects are followed by hand, so every hop is checked the same way.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from vierstaedte_harvest import __version__
from vierstaedte_harvest.settings import build

log = logging.getLogger(__name__)
CHUNK = 1 << 16
MAX_REDIRECTS = 5
# not globally reachable, though ipaddress does not say so for all of them: shared address space
# (carrier-grade NAT) is neither "global" nor "private", and Python 3.11 calls some of 192.0.0.0/24
# (IETF protocol assignments) global
NOT_GLOBAL = (ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("192.0.0.0/24"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_ipv4(ip: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.version == 4:
        return None
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None


def is_public(ip: Address) -> bool:
    """Globally routable unicast, and so is any IPv4 address it embeds."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None and not is_public(embedded):
        return False
    return ip.is_global and not ip.is_multicast and not any(ip in network for network in NOT_GLOBAL)


def _timed_out(error: Exception) -> bool:
    """urllib3 wraps a timeout that outlived its retries in a MaxRetryError in a ConnectionError.

    A refused connection or a failed lookup is a NewConnectionError, which urllib3 derives from
    ConnectTimeoutError: that is no timeout.
    """
    reason = getattr(error.args[0], "reason", None) if error.args else None
    timeouts = (urllib3_exceptions.ReadTimeoutError, urllib3_exceptions.ConnectTimeoutError)
    refused = urllib3_exceptions.NewConnectionError
    return isinstance(reason, timeouts) and not isinstance(reason, refused)


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
    """The ``http`` section of a city config."""

    timeout: float = 30.0  # seconds per connect and per read
    # on connection errors, timeouts, 429 and 5xx
    retries: int = dataclasses.field(default=3, metadata={"low": 0})
    backoff: float = dataclasses.field(default=1.0, metadata={"low": 0})  # 1 s, 2 s, 4 s, …
    max_bytes: int = dataclasses.field(default=200 * 1024 * 1024, metadata={"low": 1})
    allow_private_addresses: bool | list[str] = False  # true: any address; a list: these networks

    def __post_init__(self) -> None:
        allowed = self.allow_private_addresses
        if isinstance(allowed, bool):
            self.allowed_networks: tuple | None = () if not allowed else None
            return
        try:
            if not isinstance(allowed, list) or not all(isinstance(net, str) for net in allowed):
                raise ValueError(allowed)
            self.allowed_networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed)
        except ValueError:
            raise ValueError(
                f"http: allow_private_addresses must be true, false or a list of "
                f"networks (e.g. [127.0.0.1/32]), not {allowed!r}"
            ) from None

    def allows(self, ip: Address) -> bool:
        """Whether the config permits this non-public address (``true`` permits every one)."""
        networks = self.allowed_networks
        return networks is None or any(ip in network for network in networks)

    @classmethod
    def from_config(cls, data: dict[str, Any] | None) -> HttpSettings:
        """The settings from the config's ``http`` section; SettingsError names a bad key."""
        return build(cls, data, "http")


class _PinnedAdapter(HTTPAdapter):
    """Connects each request to the address ``check`` approved for its URL (the one DNS lookup).

    The connection pool is keyed by that address; for HTTPS the URL's host name goes with it as
    the TLS server name (SNI) and the name the certificate must match, and every request carries
    it as its Host header, so the server sees exactly the request it would otherwise.
    """

    def __init__(self, check: Callable[[str], str], **kwargs: Any):
        self._check = check
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        attributes = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params, pool_kwargs = attributes
        name = host_params["host"]
        host_params["host"] = self._check(request.url)
        if host_params["scheme"] == "https":
            pool_kwargs.update(server_hostname=name, assert_hostname=name)
        return host_params, pool_kwargs

    def send(self, request, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        request.headers["Host"] = f"{host}:{parts.port}" if parts.port else host
        return super().send(request, *args, **kwargs)


def _http_url(url: str) -> tuple[str, int]:
    """Host name and port of an http(s) URL, or FetchError("bad-url")."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        raise FetchError("bad-url", f"Not an http(s) URL: {url!r}", url)
    return parts.hostname, port


class Fetcher:
    def __init__(self, settings: HttpSettings | None = None):
        self.settings = settings or HttpSettings()
        retry = Retry(
            total=self.settings.retries,
            connect=self.settings.retries,
            read=self.settings.retries,
            status=self.settings.retries,
            backoff_factor=self.settings.backoff,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=("GET", "HEAD"),
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        self._retry = retry
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        """One session per thread: datasets are harvested in parallel, and requests' sessions are
        not thread-safe."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.mount("http://", _PinnedAdapter(self.check_url, max_retries=self._retry))
            session.mount("https://", _PinnedAdapter(self.check_url, max_retries=self._retry))
            session.headers["User-Agent"] = f"vierstaedte-harvest/{__version__}"
        return session

    def check_url(self, url: str) -> str:
        """The address to connect to for ``url``: its host resolved once, and refused unless every
        answer is public (or allowed by ``http.allow_private_addresses``)."""
        host, port = _http_url(url)
        try:
            answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise FetchError("dns-error", f"Cannot resolve {host}: {error}", url) from None
        addresses = list(dict.fromkeys(str(answer[4][0]) for answer in answers))
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not is_public(ip) and not self.settings.allows(ip):
                raise FetchError(
                    "private-address",
                    f"Refusing {url}: {host} resolves to the "
                    f"non-public address {address} (set http.allow_private_addresses "
                    "to permit)",
                    url,
                )
        if not addresses:
            raise FetchError("dns-error", f"Cannot resolve {host}: no address", url)
        return addresses[0]

    def _timeout(self, url: str) -> FetchError:
        return FetchError(
            "timeout",
            f"No answer from {url} within {self.settings.timeout:g} s "
            f"(after {self.settings.retries} retries)",
            url,
        )

    def _get(self, url: str, **kwargs: Any) -> requests.Response:
        """GET with redirects followed by hand; every hop passes :meth:`check_url` (the adapter)."""
        for _ in range(MAX_REDIRECTS + 1):
            _http_url(url)
            try:
                response = self.session.get(
                    url, timeout=self.settings.timeout, stream=True, allow_redirects=False, **kwargs
                )
            except requests.exceptions.Timeout:
                raise self._timeout(url) from None
            except requests.exceptions.RetryError as error:
                raise FetchError(
                    "http-error",
                    f"{url}: gave up after {self.settings.retries} retries ({error})",
                    url,
                ) from None
            except requests.exceptions.RequestException as error:
                if _timed_out(error):
                    raise self._timeout(url) from None
                raise FetchError(
                    "connection-error", f"{url}: {error.__class__.__name__}: {error}", url
                ) from None
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                response.close()
                continue
            if response.status_code >= 400:
                response.close()
                raise FetchError(
                    "http-error", f"{url}: HTTP {response.status_code} {response.reason}", url
                )
            return response
        raise FetchError("too-many-redirects", f"{url}: more than {MAX_REDIRECTS} redirects", url)

    def _read_limited(self, response: requests.Response, sink) -> tuple[int, str]:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
            raise FetchError(
                "too-large",
                f"{response.url}: {int(declared):,} bytes announced, limit is "
                f"{self.settings.max_bytes:,}",
                response.url,
            )
        digest, size = hashlib.sha256(), 0
        try:
            for block in response.iter_content(CHUNK):
                size += len(block)
                if size > self.settings.max_bytes:
                    raise FetchError(
                        "too-large",
                        f"{response.url}: more than {self.settings.max_bytes:,} bytes",
                        response.url,
                    )
                digest.update(block)
                sink(block)
        except requests.exceptions.RequestException as error:
            raise FetchError(
                "connection-error",
                f"{response.url}: download broke off after {size:,} bytes ({error})",
                response.url,
            ) from None
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
            kind = (
                "an HTML page"
                if b"<html" in body[:2048].lower()
                else f"{content_type or 'no JSON'}"
            )
            raise FetchError("bad-json", f"{url}: expected JSON, got {kind}", url) from None

    def download(
        self, url: str, directory: Path, etag: str | None = None, last_modified: str | None = None
    ) -> Download:
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
        return Download(
            url,
            Path(name),
            False,
            sha256,
            size,
            response.headers.get("ETag"),
            response.headers.get("Last-Modified"),
            response.headers.get("Content-Type", ""),
        )
