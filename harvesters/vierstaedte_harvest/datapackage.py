"""Frictionless Data Package descriptors for published tables (data + schema + provenance).

Deterministic: the same table and metadata give byte-identical JSON, so an
unchanged dataset never looks changed to the harvester.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import vierstaedte_contract
from vierstaedte_contract import table


def descriptor(
    dataset: dict[str, Any],
    table_url: str,
    table_name: str,
    source: dict[str, Any],
    report: dict[str, Any],
) -> dict[str, Any]:
    """A tabular Data Package for one normalised table of ``dataset`` (a CKAN dataset dict)."""
    template = json.loads(
        vierstaedte_contract.path("datapackage.template.json").read_text(encoding="utf-8")
    )
    package = copy.deepcopy(template)
    package.update(
        name=dataset["name"],
        title=dataset["title"],
        description=dataset.get("notes", ""),
        version=vierstaedte_contract.SCHEMA_VERSION,
        licenses=[
            {
                "name": dataset.get("license_id"),
                "path": dataset.get("license_id"),
                "title": dataset.get("license_title") or dataset.get("license_id"),
            }
        ],
        sources=[{"title": source.get("title") or dataset["title"], "path": source.get("url")}],
        contributors=[
            {
                "title": (dataset.get("organization") or {}).get("title")
                or dataset.get("owner_org"),
                "role": "publisher",
            }
        ],
        keywords=[t["name"] for t in dataset.get("tags", [])],
        created=source.get("modified") or "",
    )
    resource = package["resources"][0]
    resource.update(name=table_name, path=table_url, schema=table.descriptor())
    package["vierstaedte"] = {
        "schema_version": vierstaedte_contract.SCHEMA_VERSION,
        "city": dataset.get("owner_org"),
        "source_dataset": dataset.get("source_identifier"),
        "source_file": source.get("url"),
        "verdict": report.get("verdict"),
        "rows": report.get("rows_out"),
        "columns": report.get("columns"),
    }
    return package


def dumps(package: dict[str, Any]) -> bytes:
    return (json.dumps(package, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(
        "utf-8"
    )
