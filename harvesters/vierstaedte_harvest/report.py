"""Machine-readable reports: what happened to a table, row by row where it matters, and to a run.

Errors and warnings share one shape (``code``, ``message`` and, where known,
``row``, ``field``, ``value``, ``rule``) so a dashboard or an AI tool can group
them without parsing prose. Lists are capped; the counts are always complete.

A run's report goes to the portal as well, which stores and shows a bounded
amount: :func:`for_portal` trims it to fit, so a run with thousands of
problems is still recorded (the local report file keeps everything).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

from vierstaedte_contract.runs import PROBLEM_STATUSES

MAX_LISTED = 200  # per code; counts stay exact
SHOWN_CELLS = 20  # example cells listed per error
# the portal's defaults: ckanext.vierstaedte.harvest_report_max_bytes and _max_problems
PORTAL_MAX_BYTES = 2 * 1024 * 1024
PORTAL_MAX_PROBLEMS = 500
PORTAL_MESSAGE_CHARS = 2000

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
    coverage: dict[str, str] = dataclasses.field(
        default_factory=dict
    )  # first and last day the periods cover

    def _add(self, issues: list[Issue], counts: Counter, issue: Issue, count: int = 1) -> None:
        counts[issue.code] += count
        if sum(1 for i in issues if i.code == issue.code) < MAX_LISTED:
            issues.append(issue)

    def error(self, code: str, message: str, count: int = 1, **where: Any) -> None:
        self._add(self.errors, self.error_counts, Issue(code, message, **where), count)

    def warning(self, code: str, message: str, count: int = 1, **where: Any) -> None:
        self._add(self.warnings, self.warning_counts, Issue(code, message, **where), count)

    def error_cells(
        self, code: str, message: str, cells: list[tuple[int, Any]], total: int, **where: Any
    ) -> None:
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


def _size(report: dict[str, Any]) -> int:
    return len(json.dumps(report, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _short(error: Any) -> Any:
    """An error (of a dataset or the source) with its message cut to PORTAL_MESSAGE_CHARS."""
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return dict(error, message=error["message"][:PORTAL_MESSAGE_CHARS])
    return error


def for_portal(
    run: dict[str, Any], max_bytes: int = PORTAL_MAX_BYTES, max_problems: int = PORTAL_MAX_PROBLEMS
) -> dict[str, Any]:
    """The run report as the portal stores it: at most ``max_problems`` problem datasets and
    source errors, at most ``max_bytes`` of JSON; what is left out is counted in ``omitted``.

    If the report is still too big, the datasets without problems go first (the
    counts keep them), then the problems are halved until it fits. The order of
    the datasets, ``counts`` and everything else stay as they are.
    """
    entries = [
        dict(d, errors=[_short(e) for e in d["errors"]]) if isinstance(d.get("errors"), list) else d
        for d in run.get("datasets", [])
    ]
    source_errors = [_short(e) for e in run.get("source_errors", [])]

    def trimmed(problems_kept: int, others_kept: bool) -> dict[str, Any]:
        datasets, omitted, problems = [], Counter(), 0
        for entry in entries:
            if entry.get("status") in PROBLEM_STATUSES:
                problems += 1
                if problems > problems_kept:
                    omitted[entry["status"]] += 1
                    continue
            elif not others_kept:
                omitted[entry.get("status")] += 1
                continue
            datasets.append(entry)
        omitted["source_errors"] = max(len(source_errors) - max_problems, 0)
        result = dict(run, datasets=datasets, source_errors=source_errors[:max_problems])
        if +omitted:
            result["omitted"] = dict(+omitted)
        return result

    keep = max_problems
    report = trimmed(keep, True)
    if _size(report) > max_bytes:
        report = trimmed(keep, False)
    while _size(report) > max_bytes and keep:
        keep //= 2
        report = trimmed(keep, False)
    return report
