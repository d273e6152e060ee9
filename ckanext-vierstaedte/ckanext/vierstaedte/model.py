"""Database tables of the extension.

``vierstaedte_harvest_run`` records every harvest run of a city (of either kind:
the statistics catalogue or the council information), so the
portal can show each city's last harvest and its problems without
ckanext-harvest's job and object tables. The table is created by the alembic
migration in ``migration/vierstaedte/`` (``ckan db upgrade -p vierstaedte``,
also run by ``ckan db init``); this module only maps it.
"""

from __future__ import annotations

import datetime
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.model.types import make_uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vierstaedte_contract.runs import CATALOGUE, COUNT_KEYS


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _iso(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat()


class HarvestRun(tk.BaseModel):
    """One harvest run of one organisation, as its harvester reported it.

    ``organization_id`` is deliberately no foreign key: the history of a city
    must survive purging and recreating its organisation.
    """

    __tablename__ = "vierstaedte_harvest_run"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('ok', 'partial', 'failed')", name="vierstaedte_harvest_run_status_check"
        ),
        sa.CheckConstraint(
            "kind IN ('catalogue', 'council')", name="vierstaedte_harvest_run_kind_check"
        ),
        # serves "runs of one city, newest first" and the retention clean-up
        sa.Index(
            "vierstaedte_harvest_run_organization_id_started_idx", "organization_id", "started"
        ),
    )

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=make_uuid)
    organization_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    started: Mapped[datetime.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    finished: Mapped[datetime.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    # catalogue (statistics datasets) or council (OParl); runs before the column are catalogue runs
    kind: Mapped[str] = mapped_column(
        sa.UnicodeText, nullable=False, default=CATALOGUE, server_default=CATALOGUE
    )
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    harvester_version: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    created_by: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    # when CKAN recorded the run (``started`` is the harvester's clock)
    created: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=_utcnow
    )

    def _counts(self) -> dict[str, int]:
        """A catalogue run's six counts (every key present), a council run's as recorded."""
        counts = self.counts or {}
        if self.kind not in (None, CATALOGUE):
            return {key: int(number) for key, number in counts.items()}
        return {key: int(counts.get(key, 0)) for key in COUNT_KEYS}

    def as_dict(self, include_report: bool = True) -> dict[str, Any]:
        data = {
            "id": self.id,
            "organization_id": self.organization_id,
            "started": _iso(self.started),
            "finished": _iso(self.finished),
            "status": self.status,
            "kind": self.kind,
            "counts": self._counts(),
            "harvester_version": self.harvester_version,
            "created_by": self.created_by,
            "created": _iso(self.created),
        }
        if include_report:
            data["report"] = self.report
        return data
