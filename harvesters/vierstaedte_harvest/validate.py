"""Validation of normalised tables against the common Table Schema.

Two validators read the same descriptor (``schemas/city-statistics.schema.json``):

* :class:`SchemaValidator` checks a pandas chunk column-wise (types, required,
  enum, pattern, minimum/maximum, primary key across chunks). It is what the
  harvest runs: a million rows validate in about a second.
* :func:`frictionless_errors` runs the reference implementation, frictionless,
  on a written CSV. Tests run both on the same files and require the same
  verdict, so the fast path cannot drift from the standard.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vierstaedte_harvest.report import Report


def check_descriptor(descriptor: dict[str, Any]) -> None:
    """Refuse an invalid Table Schema early, with frictionless's own message."""
    from frictionless import Schema

    Schema.from_descriptor(descriptor)


class SchemaValidator:
    def __init__(self, descriptor: dict[str, Any]):
        self.fields = descriptor["fields"]
        self.primary_key = descriptor.get("primaryKey", [])
        self._key_hashes: list[np.ndarray] = []
        self._key_rows: list[np.ndarray] = []

    def check(self, frame: pd.DataFrame, report: Report) -> None:
        """Record every constraint violation of ``frame`` (index = source row number) in ``report``."""
        for field in self.fields:
            name, constraints = field["name"], field.get("constraints", {})
            if name not in frame:
                report.error("missing-field", f"Normalised table lacks field {name!r}.", field=name)
                continue
            column = frame[name]
            empty = column.isna() if field["type"] == "number" else (column.isna() | (column == ""))
            if constraints.get("required"):
                self._report(report, empty, column, name, "required", f"{name} is required")
            present = column[~empty]
            if field["type"] == "number":
                self._check_number(present, name, constraints, report)
                continue
            if "enum" in constraints:
                bad = ~self._distinct(present, lambda v: v in constraints["enum"])
                self._report(report, bad, present, name, "enum", f"{name} must be one of {constraints['enum']}")
            if "pattern" in constraints:
                regex = re.compile(constraints["pattern"])
                bad = ~self._distinct(present, lambda v: regex.fullmatch(v) is not None)
                self._report(report, bad, present, name, "pattern", f"{name} must match {constraints['pattern']}")
        self._remember_keys(frame)

    @staticmethod
    def _distinct(column: pd.Series, ok) -> pd.Series:
        """Apply a per-value test once per distinct value (a Categorical's categories are those values)."""
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes, uniques = column.cat.codes.to_numpy(), column.cat.categories.astype(str)
        else:
            codes, uniques = pd.factorize(column.astype(str))
        verdicts = np.array([ok(u) for u in uniques], dtype=bool)
        return pd.Series(verdicts[codes] if len(codes) else np.array([], dtype=bool), index=column.index)

    def _check_number(self, column: pd.Series, name: str, constraints: dict, report: Report) -> None:
        values = pd.to_numeric(column, errors="coerce")
        self._report(report, values.isna(), column, name, "type", f"{name} must be a number")
        if "minimum" in constraints:
            self._report(report, values < constraints["minimum"], column, name, "minimum", f"{name} < {constraints['minimum']}")
        if "maximum" in constraints:
            self._report(report, values > constraints["maximum"], column, name, "maximum", f"{name} > {constraints['maximum']}")

    @staticmethod
    def _report(report: Report, bad: pd.Series, column: pd.Series, name: str, rule: str, message: str) -> None:
        count = int(bad.sum())
        if count:
            cells = [(int(row), None if pd.isna(column.get(row)) else str(column.get(row))) for row in bad[bad].index[:20]]
            report.error_cells("schema-constraint", message, cells, count, field=name, rule=rule)

    def _remember_keys(self, frame: pd.DataFrame) -> None:
        if not self.primary_key:
            return
        # Categoricals hash by value (their categories), so equal keys hash equally across chunks
        keys = pd.util.hash_pandas_object(frame[self.primary_key], index=False, categorize=False).to_numpy()
        self._key_hashes.append(keys)
        self._key_rows.append(frame.index.to_numpy())

    def finish(self, report: Report) -> None:
        """Primary-key uniqueness over all chunks (8 bytes per row, not the rows themselves)."""
        if not self._key_hashes:
            return
        keys = np.concatenate(self._key_hashes)
        rows = np.concatenate(self._key_rows)
        order = np.argsort(keys, kind="stable")
        duplicate = np.zeros(len(keys), dtype=bool)
        duplicate[order[1:]] = keys[order[1:]] == keys[order[:-1]]
        count = int(duplicate.sum())
        if count:
            report.error_cells("primary-key-duplicate",
                               f"Two observations share the key ({', '.join(self.primary_key)}): the mapping "
                               "maps two source columns or rows onto the same observation.",
                               [(int(row), None) for row in rows[duplicate][:20]], count, rule="primaryKey")
        self._key_hashes.clear()
        self._key_rows.clear()


def frictionless_errors(csv_path: str, descriptor: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors that frictionless (the reference validator) finds in a normalised CSV."""
    from frictionless import Resource, Schema

    path = Path(csv_path).resolve()
    resource = Resource(path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(descriptor))
    report = resource.validate(limit_errors=10_000)
    return [
        {"type": e.type, "row": getattr(e, "row_number", None), "field": getattr(e, "field_name", None)}
        for task in report.tasks for e in task.errors
    ]
