"""The files of council objects: downloaded once, their text extracted and stored in the portal.

For each OParl File the portal is asked first what it holds (``file_state``): a file stored
from the same URL whose OParl ``modified`` is not newer than the stored ``Last-Modified`` is not
requested at all; otherwise the request is conditional (ETag, Last-Modified) and a 304 or a
download with the stored SHA-256 ends there. Only a new or changed file is extracted
(``extract.py``) and its text stored (``file_text``).

Only ``downloadUrl``/``accessUrl`` on the system's hosts are fetched: another host is stored as
``refused`` and reported. A file larger than ``council.max_file_bytes`` (announced by OParl's
``size``, by Content-Length, or found while streaming) is ``too_large``; a download that takes
longer than ``council.file_seconds`` is ``timeout``. A connection that fails is not stored: the
list's watermark then stays, and the next run tries again.
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import logging
from pathlib import Path
from typing import Any

from vierstaedte_harvest.council.client import CouncilFetcher
from vierstaedte_harvest.council.extract import Limits, extract
from vierstaedte_harvest.council.store import Store
from vierstaedte_harvest.fetch import FetchError

log = logging.getLogger(__name__)
# outcomes that stay until the file changes; timeouts and failures are tried again
FINAL = ("ok", "empty", "too_large", "unsupported", "refused")


def _stamp(value: Any, http: bool = False) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        if http:
            return email.utils.parsedate_to_datetime(value)
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


class Files:
    def __init__(
        self,
        fetcher: CouncilFetcher,
        store: Store,
        work: Path,
        max_bytes: int,
        seconds: float,
        limits: Limits,
    ):
        self.fetcher, self.store, self.work = fetcher, store, work
        self.max_bytes, self.seconds, self.limits = max_bytes, seconds, limits
        self.counts: collections.Counter = collections.Counter()
        self.problems: list[dict[str, Any]] = []

    def process(self, files: list[dict[str, Any]]) -> bool:
        """Handle the File objects of one batch; False if one must be tried again (transient)."""
        files = [f for f in files if not f.get("deleted") and self._url(f)]
        if not files:
            return True
        states = self.store.file_state([f["id"] for f in files])
        complete = True
        for item in files:
            complete &= self._one(item, states.get(item["id"]) or {})
        return complete

    @staticmethod
    def _url(item: dict[str, Any]) -> str | None:
        for key in ("downloadUrl", "accessUrl"):
            if isinstance(item.get(key), str) and item[key]:
                return item[key]
        return None

    def _problem(self, code: str, message: str, item: dict[str, Any]) -> None:
        self.problems.append({"code": code, "message": message, "file": item["id"]})

    def _store(self, item: dict[str, Any], url: str, status: str, **fields: Any) -> None:
        mime = fields.pop("mime_type", None) or item.get("mimeType")
        self.store.file_text(
            file_id=item["id"], status=status, source_url=url, mime_type=mime, **fields
        )
        self.counts[status] += 1

    def _one(self, item: dict[str, Any], state: dict[str, Any]) -> bool:
        url = self._url(item)
        same = state.get("source_url") == url and state.get("status") in FINAL
        if not self.fetcher.allowed(url):
            self._problem("foreign-host", f"file on another host, not fetched: {url}", item)
            if not (same and state["status"] == "refused"):
                self._store(item, url, "refused")
            else:
                self.counts["unchanged"] += 1
            return True
        modified, stored = _stamp(item.get("modified")), _stamp(state.get("last_modified"), True)
        if same and modified and stored and modified <= stored:
            self.counts["unchanged"] += 1
            return True
        size = item.get("size")
        if isinstance(size, int) and not isinstance(size, bool) and size > self.max_bytes:
            return self._too_large(item, url, state, f"OParl size {size:,} bytes")
        try:
            download = self.fetcher.download_capped(
                url,
                self.work,
                self.max_bytes,
                self.seconds,
                etag=state.get("etag") if same else None,
                last_modified=state.get("last_modified") if same else None,
            )
        except FetchError as error:
            return self._failed(item, url, state, error)
        if download.unchanged or (same and download.sha256 == state.get("sha256")):
            if download.path:
                download.path.unlink(missing_ok=True)
            self.counts["unchanged"] += 1
            return True
        try:
            result = extract(download.path, self.limits)
        finally:
            download.path.unlink(missing_ok=True)
        if result.capped:
            self._problem("text-capped", "the text was cut at the contract's maximum", item)
        if result.status in ("failed", "timeout", "unsupported"):
            self._problem(f"text-{result.status}", f"{url}: {result.message}", item)
        self._store(
            item,
            url,
            result.status,
            text=result.text or None,
            sha256=download.sha256,
            size=download.size,
            etag=download.etag,
            last_modified=download.last_modified,
            mime_type=result.mime_type,
        )
        return True

    def _too_large(self, item: dict[str, Any], url: str, state: dict[str, Any], why: str) -> bool:
        self._problem("file-too-large", f"{url}: {why}, more than council.max_file_bytes", item)
        if state.get("status") == "too_large" and state.get("source_url") == url:
            self.counts["unchanged"] += 1
        else:
            self._store(item, url, "too_large")
        return True

    def _failed(self, item: dict[str, Any], url: str, state: dict[str, Any], error) -> bool:
        if error.code == "too-large":
            return self._too_large(item, url, state, str(error))
        if error.code == "timeout" and "not complete after" in str(error):
            self._problem("file-timeout", str(error), item)
            self._store(item, url, "timeout")
            return True
        if error.code in ("foreign-host", "private-address"):
            self._problem(error.code, str(error), item)
            self._store(item, url, "refused")
            return True
        if error.code == "http-error" and ": HTTP 4" in str(error):
            self._problem("file-missing", str(error), item)
            self._store(item, url, "failed")
            return True
        self._problem("file-unreachable", str(error), item)
        self.counts["retry"] += 1
        return False
