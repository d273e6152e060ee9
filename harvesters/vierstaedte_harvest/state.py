"""Per-city harvest state: what was published from which source version.

Only a cache: the truth is CKAN (``source_identifier`` on datasets, ``hash``
on resources), so a lost state file costs downloads, never duplicates. Saved
atomically after every dataset, so a killed run loses at most the dataset in
flight, which the next run simply redoes.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1


class State:
    def __init__(self, path: Path):
        self.path = path
        self.data: dict[str, Any] = {"format": FORMAT, "datasets": {}}
        if path.exists():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if loaded.get("format") == FORMAT:
                self.data = loaded

    @property
    def datasets(self) -> dict[str, dict[str, Any]]:
        return self.data["datasets"]

    def dataset(self, guid: str) -> dict[str, Any]:
        return self.datasets.setdefault(guid, {"files": {}})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.data, handle, ensure_ascii=False, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:  # e.g. disk full: the previous state stays as it was, no stray temporary file
            os.unlink(tmp)
            raise
