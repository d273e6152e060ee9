"""Per-city harvest state: what was published from which source version.

Only a cache: the truth is CKAN (``source_identifier`` on datasets, ``hash``
on resources), so a lost state file costs downloads, never duplicates.

Kept as a snapshot (``<city>.json``) and a journal beside it
(``<city>.json.journal``): every finished dataset appends one line to the
journal, synced to disk, so a killed run loses at most the datasets in flight,
which the next run simply redoes. The end of a run folds the journal into a new
snapshot. (Rewriting the whole snapshot per dataset made a first run of N
datasets cost O(N²) in JSON; see ``docs/performance.md``.)
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1
# what the state says of a dataset it remembers: published from the source, or withdrawn; or
# unsure: a write to CKAN failed midway (a node died, the database refused the commit), so what
# CKAN holds is not known. The next run asks CKAN itself, never the search index alone: CKAN
# indexes a dataset before its database commits it, and a write cut between the two leaves an
# index entry for a dataset the database does not have.
PUBLISHED, WITHDRAWN, UNSURE = "published", "withdrawn", "unsure"
log = logging.getLogger(__name__)


class State:
    def __init__(self, path: Path):
        self.path = path
        self.journal = path.with_name(path.name + ".journal")
        self.data: dict[str, Any] = {"format": FORMAT, "datasets": {}}
        # journal lines a kill or a full disk cut short (their datasets are simply redone)
        self.unreadable = 0
        if path.exists():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if loaded.get("format") == FORMAT:
                self.data = loaded
        if self.journal.exists():
            self._replay()

    def _replay(self) -> None:
        """Apply what a run that did not finish (killed, disk full) recorded after the snapshot."""
        with self.journal.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    self.datasets[record["guid"]] = record["entry"]
                except (ValueError, KeyError, TypeError):
                    self.unreadable += 1
        if self.unreadable:
            log.warning(
                "%s: %d unreadable line(s) skipped; those datasets are compared with CKAN again",
                self.journal,
                self.unreadable,
            )

    @property
    def datasets(self) -> dict[str, dict[str, Any]]:
        return self.data["datasets"]

    def dataset(self, guid: str) -> dict[str, Any]:
        return self.datasets.setdefault(guid, {"files": {}})

    def record(self, guid: str) -> None:
        """Make one dataset's entry durable: one line appended to the journal and synced.

        A write that fails (disk full) is cut off again, so the journal never keeps half a line
        from it; a kill mid-write can leave one, which the leading newline keeps apart from the
        next.
        """
        record = {"guid": guid, "entry": self.datasets.get(guid)}
        line = "\n" + json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            data = memoryview(line.encode("utf-8"))
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, start)
            if start == 0:
                self.journal.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)

    def save(self) -> None:
        """Write the whole state as the new snapshot (atomically), then drop the journal in it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.data, handle, ensure_ascii=False, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:  # e.g. disk full: the previous state stays, no stray temporary file
            os.unlink(tmp)
            raise
        self.journal.unlink(missing_ok=True)
