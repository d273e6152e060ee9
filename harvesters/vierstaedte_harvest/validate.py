"""Validation of normalised tables against the common Table Schema.

Two validators read the same descriptor (``vierstaedte_contract.table.descriptor()``):

* :class:`SchemaValidator` checks a pandas chunk column-wise (types, required,
  enum, pattern, minimum/maximum, primary key across chunks). It is what the
  harvest runs, fast enough for tables of millions of rows (docs/performance.md).
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
        """Record every constraint violation of ``frame`` (index = source row number) in ``report``.

        Text fields are tested once per distinct value (a Categorical's categories,
        or the factorized values) and mapped back to rows as arrays: a chunk costs
        a few array operations per field, whatever its length.
        """
        rows = frame.index.to_numpy()
        for field in self.fields:
            name, constraints = field["name"], field.get("constraints", {})
            if name not in frame:
                report.error("missing-field", f"Normalised table lacks field {name!r}.", field=name)
                continue
            if field["type"] == "number":
                self._check_number(frame[name], rows, name, constraints, report)
                continue
            codes, values = _distinct_values(frame[name])
            tests = (
                [("required", f"{name} is required", lambda v: v != "")]
                if constraints.get("required")
                else []
            )
            if "enum" in constraints:
                allowed = set(constraints["enum"])
                tests.append(
                    (
                        "enum",
                        f"{name} must be one of {constraints['enum']}",
                        lambda v, allowed=allowed: v == "" or v in allowed,
                    )
                )
            if "pattern" in constraints:
                regex = re.compile(constraints["pattern"])
                tests.append(
                    (
                        "pattern",
                        f"{name} must match {constraints['pattern']}",
                        lambda v, regex=regex: v == "" or regex.fullmatch(v) is not None,
                    )
                )
            for rule, message, ok in tests:
                # one verdict per distinct value, the last for a missing one (code -1)
                verdicts = np.array([ok(v) for v in values] + [rule != "required"], dtype=bool)
                if not verdicts.all():  # the rows are only looked at when a distinct value failed
                    self._report(
                        report,
                        ~verdicts[codes],
                        rows,
                        np.append(values, None)[codes],
                        name,
                        rule,
                        message,
                    )
        self._remember_keys(frame)

    def _check_number(
        self, column: pd.Series, rows: np.ndarray, name: str, constraints: dict, report: Report
    ) -> None:
        raw = column.to_numpy()
        empty = column.isna().to_numpy()
        values = (
            raw
            if raw.dtype.kind == "f"
            else pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64")
        )
        if constraints.get("required"):
            self._report(report, empty, rows, raw, name, "required", f"{name} is required")
        self._report(
            report, np.isnan(values) & ~empty, rows, raw, name, "type", f"{name} must be a number"
        )
        if "minimum" in constraints:
            self._report(
                report,
                values < constraints["minimum"],
                rows,
                raw,
                name,
                "minimum",
                f"{name} < {constraints['minimum']}",
            )
        if "maximum" in constraints:
            self._report(
                report,
                values > constraints["maximum"],
                rows,
                raw,
                name,
                "maximum",
                f"{name} > {constraints['maximum']}",
            )

    @staticmethod
    def _report(
        report: Report,
        bad: np.ndarray,
        rows: np.ndarray,
        values: np.ndarray,
        name: str,
        rule: str,
        message: str,
    ) -> None:
        count = int(bad.sum())
        if count:
            where = np.flatnonzero(bad)[:20]
            cells = [
                (int(rows[i]), None if values[i] is None or pd.isna(values[i]) else str(values[i]))
                for i in where
            ]
            report.error_cells("schema-constraint", message, cells, count, field=name, rule=rule)

    def _remember_keys(self, frame: pd.DataFrame) -> None:
        if not self.primary_key:
            return
        # Categoricals hash by value (their categories), so equal keys hash equally across chunks
        keys = pd.util.hash_pandas_object(
            frame[self.primary_key], index=False, categorize=False
        ).to_numpy()
        self._key_hashes.append(keys)
        self._key_rows.append(frame.index.to_numpy())

    def finish(self, report: Report) -> None:
        """Primary-key uniqueness over all chunks (8 bytes per row, not the rows themselves)."""
        if not self._key_hashes:
            return
        keys = np.concatenate(self._key_hashes)
        self._key_hashes.clear()
        ordered = np.sort(keys)  # a vectorised sort finds out whether any key repeats fastest
        if (ordered[1:] == ordered[:-1]).any():
            rows = np.concatenate(self._key_rows)
            duplicate = pd.Index(keys).duplicated(keep="first")
            count = int(duplicate.sum())
            report.error_cells(
                "primary-key-duplicate",
                f"Two observations share the key ({', '.join(self.primary_key)}): the mapping "
                "maps two source columns or rows onto the same observation.",
                [(int(row), None) for row in rows[duplicate][:20]],
                count,
                rule="primaryKey",
            )
        self._key_rows.clear()


def _distinct_values(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (``-1`` = missing) and the distinct values as text."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), np.asarray(
            [str(c) for c in column.cat.categories], dtype=object
        )
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return codes, np.asarray([str(u) for u in uniques], dtype=object)


def frictionless_errors(csv_path: str, descriptor: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors that frictionless (the reference validator) finds in a normalised CSV."""
    from frictionless import Resource, Schema

    path = Path(csv_path).resolve()
    resource = Resource(
        path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(descriptor)
    )
    report = resource.validate(limit_errors=10_000)
    return [
        {
            "type": e.type,
            "row": getattr(e, "row_number", None),
            "field": getattr(e, "field_name", None),
        }
        for task in report.tasks
        for e in task.errors
    ]
