"""What a harvested dataset looks like in CKAN: the names both wings read and write.

The harvester publishes each source table as one CKAN dataset with resources
in fixed *roles* (the ``role`` resource field of the scheming schema); the
portal finds the normalised table, the original and the Data Package by role.
The DataStore copy of the normalised table is vouched for by a *marker*: the
resource field ``datastore_hash`` holds the SHA-256 of the CSV the table was
loaded from, written only after the load completed, cleared before a table is
replaced. A reader trusts a DataStore table only while the marker equals the
resource's ``hash``.
"""

from __future__ import annotations

from typing import Any

ROLE_FIELD = "role"
RAW = "raw"  # the file as the city published it
NORMALISED = "normalised"  # the table in the common schema, loaded into the DataStore
DATAPACKAGE = "datapackage"  # a Frictionless Data Package describing the normalised table
LINK = "link"  # a further file of the source, linked, not copied
ROLES = (RAW, NORMALISED, DATAPACKAGE, LINK)
ROLE_LABELS = {
    RAW: {"de": "Originaldatei der Stadt", "en": "Original file of the city"},
    NORMALISED: {"de": "Normalisierte Daten", "en": "Normalised data"},
    DATAPACKAGE: {"de": "Data Package", "en": "Data Package"},
    LINK: {"de": "Verweis auf die Quelle", "en": "Link to the source"},
}

DATASTORE_MARKER = "datastore_hash"

# dataset fields the harvester sets and the portal reads
VALIDATION_STATUS = "validation_status"
TABLE_SCHEMA_VERSION = "table_schema_version"
PASSING_VALIDATION = ("valid", "valid_with_warnings")


def resource_with_role(dataset: dict[str, Any], role: str) -> dict[str, Any] | None:
    """The dataset's (first) resource in ``role``, or None."""
    return next((r for r in dataset.get("resources") or [] if r.get(ROLE_FIELD) == role), None)
