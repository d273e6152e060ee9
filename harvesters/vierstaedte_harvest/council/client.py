"""HTTP to one OParl system: only its own hosts, politely, and tolerant of what vendors send.

An OParl system links to itself everywhere (lists, ``links.next``, file URLs), and every one of
those links is untrusted input. So besides the catalogue fetcher's guard against non-public
addresses (``fetch.py``: DNS pinned, every redirect hop checked) a council fetcher talks only to
the hosts of the configured System URL and those the city config names (``council.hosts``); a
link elsewhere is refused and reported, never followed, also as a redirect target.

Requests to one host are spaced (``council.max_requests_per_second``, 1 by default): a council
system is a city's production server. Spurious HTTP 500s (SessionNet) are retried with backoff
by the fetcher (``http.retries``, ``http.backoff``). A body that is not JSON is an error with
the URL in the report; JSON with raw control characters inside strings (ALLRIS) is repaired.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from vierstaedte_harvest.fetch import Download, Fetcher, FetchError, HttpSettings

CONTROL = {c: " " for c in range(32) if chr(c) not in "\t\n\r"}


class CouncilError(Exception):
    """A council request failed; ``code`` is stable for reports."""

    def __init__(self, code: str, message: str, url: str):
        super().__init__(message)
        self.code, self.url = code, url


def host_of(url: str) -> str:
    """``host:port`` of an http(s) URL, lower-case, the port explicit ('' if not a URL)."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.hostname.lower()}:{port}"


class Pace:
    """At most ``per_second`` requests per host, spread evenly (shared by all threads)."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(host, 0.0))
            self._next[host] = at + self.interval
        if at > now:
            time.sleep(at - now)


class CouncilFetcher(Fetcher):
    """The catalogue fetcher, limited to the system's hosts and paced per host."""

    def __init__(self, http: HttpSettings, hosts: set[str], pace: Pace):
        super().__init__(http)
        self.hosts, self.pace = hosts, pace

    def allowed(self, url: str) -> bool:
        return host_of(url) in self.hosts

    def check_url(self, url: str) -> str:
        """Every connection, redirect hops included, goes to an allowed host only."""
        if not self.allowed(url):
            raise FetchError(
                "foreign-host",
                f"Refusing {url}: not a host of the configured OParl system "
                f"({', '.join(sorted(self.hosts))}); council.hosts may name more",
                url,
            )
        return super().check_url(url)

    def _get(self, url: str, **kwargs: Any) -> requests.Response:
        if not self.allowed(url):
            self.check_url(url)  # raises foreign-host before any wait
        self.pace.wait(host_of(url))
        return super()._get(url, **kwargs)

    def download_capped(
        self,
        url: str,
        directory: Path,
        max_bytes: int,
        seconds: float,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Download:
        """A file with a size cap and a cap on the whole download's time; 304 is unchanged.

        FetchError ``too-large`` past ``max_bytes``, ``timeout`` past ``seconds`` (a server
        that trickles a byte a second never hits the per-read timeout).
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + seconds
        response = self._get(url, headers=headers)
        if response.status_code == 304:
            response.close()
            return Download(url, None, True, etag=etag, last_modified=last_modified)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            response.close()
            raise FetchError("too-large", f"{url}: {int(declared):,} bytes announced", url)
        digest, size = hashlib.sha256(), 0
        fd, name = tempfile.mkstemp(dir=directory, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                # read1: whatever has arrived, so that the deadline holds against a trickle too
                while block := response.raw.read1(1 << 16, decode_content=True):
                    size += len(block)
                    if size > max_bytes:
                        raise FetchError("too-large", f"{url}: more than {max_bytes:,} bytes", url)
                    if time.monotonic() > deadline:
                        raise FetchError("timeout", f"{url}: not complete after {seconds:g} s", url)
                    digest.update(block)
                    handle.write(block)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as error:
            os.unlink(name)
            raise FetchError("connection-error", f"{url}: broke off ({error})", url) from None
        except BaseException:
            os.unlink(name)
            raise
        finally:
            response.close()
        return Download(
            url,
            Path(name),
            False,
            digest.hexdigest(),
            size,
            response.headers.get("ETag"),
            response.headers.get("Last-Modified"),
            response.headers.get("Content-Type", ""),
        )


def parse_json(body: bytes, url: str) -> tuple[Any, list[str]]:
    """An OParl answer and what had to be repaired in it (``control-characters``, ``not-utf8``).

    CouncilError ``bad-json`` if it is no JSON even after the repairs.
    """
    repairs = []
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = body.decode("cp1252", errors="replace")
        repairs.append("not-utf8")
    try:
        return json.loads(text), repairs
    except ValueError:
        pass
    for attempt in (text, text.translate(CONTROL)):
        try:
            value = json.loads(attempt, strict=False)  # raw control characters in strings
        except ValueError as error:
            problem = error
            continue
        return value, [*repairs, "control-characters"]
    kind = "an HTML page" if b"<html" in body[:2048].lower() else f"invalid JSON ({problem})"
    raise CouncilError("bad-json", f"{url}: expected OParl JSON, got {kind}", url)


class Client:
    """GETs of OParl documents: allowed hosts, pace, retries; JSON parsed and repaired."""

    def __init__(self, fetcher: CouncilFetcher):
        self.fetcher = fetcher
        self.requests = 0

    def get(self, url: str, query: str = "") -> tuple[Any, list[str]]:
        """The document at ``url`` (``query`` appended as written: see :func:`since_query`)."""
        if not self.fetcher.allowed(url):
            raise CouncilError(
                "foreign-host",
                f"Refusing {url}: not a host of the configured OParl system",
                url,
            )
        full = url + (("&" if "?" in url else "?") + query if query else "")
        self.requests += 1
        try:
            body, _ = self.fetcher.get_bytes(full)
        except FetchError as error:
            raise CouncilError(error.code, str(error), full) from None
        return parse_json(body, full)


def since_query(timestamp: str) -> str:
    """``modified_since=…`` exactly as sent: UTC, whole seconds, ``Z``, nothing percent-encoded.

    SessionNet does not decode a percent-encoded ``modified_since`` (``%3A`` for the colons), and
    a ``+`` of an offset would be read as a space; ``2024-05-01T08:00:00Z`` needs neither.
    """
    return f"modified_since={timestamp}"
