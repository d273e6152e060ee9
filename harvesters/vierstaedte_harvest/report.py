"""Machine-readable reports: what happened to a table, row by row where it matters.

Errors and warnings share one shape (``code``, ``message`` and, where known,
``row``, ``field``, ``value``, ``rule``) so a dashboard or an AI tool can group
them without parsing prose. Lists are capped; the counts are always complete.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

MAX_LISTED = 200  # per code; counts stay exact
SHOWN_CELLS = 20  # example cells listed per error

VALID = "valid"
VALID_WITH_WARNINGS = "valid_with_warnings"
REJECTED = "rejected"


@dataclasses.dataclass
class Issue:
    code: str
    message: str
    row: int | None = None
    field: str | None = None
    value: Any = None
    rule: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


class TableRejected(Exception):
    """Raised when a table cannot be read or mapped at all; carries the issue."""

    def __init__(self, issue: Issue):
        super().__init__(issue.message)
        self.issue = issue


@dataclasses.dataclass
class Report:
    source: str
    schema_version: str
    errors: list[Issue] = dataclasses.field(default_factory=list)
    warnings: list[Issue] = dataclasses.field(default_factory=list)
    error_counts: Counter = dataclasses.field(default_factory=Counter)
    warning_counts: Counter = dataclasses.field(default_factory=Counter)
    reading: dict[str, Any] = dataclasses.field(default_factory=dict)
    columns: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    rows_in: int = 0
    rows_out: int = 0
    coverage: dict[str, str] = dataclasses.field(default_factory=dict)  # first and last day the periods cover

    def _add(self, issues: list[Issue], counts: Counter, issue: Issue, count: int = 1) -> None:
        counts[issue.code] += count
        if sum(1 for i in issues if i.code == issue.code) < MAX_LISTED:
            issues.append(issue)

    def error(self, code: str, message: str, count: int = 1, **where: Any) -> None:
        self._add(self.errors, self.error_counts, Issue(code, message, **where), count)

    def warning(self, code: str, message: str, count: int = 1, **where: Any) -> None:
        self._add(self.warnings, self.warning_counts, Issue(code, message, **where), count)

    def error_cells(self, code: str, message: str, cells: list[tuple[int, Any]], total: int, **where: Any) -> None:
        """One error counted ``total`` times, listed for the first few (row, value) cells it affects."""
        self.error_counts[code] += total
        for row, value in cells[:SHOWN_CELLS]:
            if sum(1 for i in self.errors if i.code == code) < MAX_LISTED:
                self.errors.append(Issue(code, message, row=row, value=value, **where))

    @property
    def verdict(self) -> str:
        if self.error_counts:
            return REJECTED
        return VALID_WITH_WARNINGS if self.warning_counts else VALID

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "schema_version": self.schema_version,
            "verdict": self.verdict,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "coverage": self.coverage,
            "reading": self.reading,
            "columns": self.columns,
            "error_counts": dict(self.error_counts),
            "warning_counts": dict(self.warning_counts),
            "errors": [i.as_dict() for i in self.errors],
            "warnings": [i.as_dict() for i in self.warnings],
        }
