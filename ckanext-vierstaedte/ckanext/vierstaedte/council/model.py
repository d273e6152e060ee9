"""Tables of the council information: objects, extracted file texts, each list's sync state.

One table holds every OParl object, whatever its type, as received (``data``, JSONB): the
portal reads few fields of each type, and OParl's vendors add their own. What the show actions
and the index query by is a column: ``key`` (``vierstaedte_contract.council.object_key``, our
URLs and Solr ids), the OParl id, city, type, body, ``modified``, ``deleted``, and ``links``:
every OParl id the object refers to, so "the consultations of this paper" or "the agenda items
of this meeting" is one indexed lookup (GIN) whichever side of the link the vendor filled in.
``content_hash`` makes a re-harvest of an unchanged object write nothing; ``needs_index`` says
the Solr core has not yet seen the stored version (set in the same transaction as the write,
cleared by ``council.index``), so a Solr outage never loses a write.

The tables are created by the alembic migration in ``migration/vierstaedte/``. The city is
``organization_id`` (no foreign key, like the harvest runs: the data survives recreating an
organisation).
"""

from __future__ import annotations

import datetime
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vierstaedte_contract.council import FILE_TEXT_STATUSES, OBJECT_TYPES


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class CouncilObject(tk.BaseModel):
    """One OParl object of one city, as last received (deleted objects are kept, flagged)."""

    __tablename__ = "vierstaedte_council_object"
    __table_args__ = (
        sa.CheckConstraint(_in("type", OBJECT_TYPES), name="vierstaedte_council_object_type_check"),
        sa.Index("vierstaedte_council_object_oparl_id_idx", "oparl_id", unique=True),
        sa.Index("vierstaedte_council_object_org_type_idx", "organization_id", "type"),
        sa.Index("vierstaedte_council_object_links_idx", "links", postgresql_using="gin"),
        sa.Index(
            "vierstaedte_council_object_needs_index_idx",
            "key",
            postgresql_where=sa.text("needs_index"),
        ),
    )

    key: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True)
    oparl_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    organization_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    type: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    body: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    modified: Mapped[datetime.datetime | None] = mapped_column(
        sa.DateTime(timezone=True), nullable=True
    )
    deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    content_hash: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    links: Mapped[list[str]] = mapped_column(ARRAY(sa.UnicodeText), nullable=False, default=list)
    needs_index: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=_utcnow
    )
    updated: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=_utcnow
    )


class CouncilFileText(tk.BaseModel):
    """The text extracted from an OParl File's document, and what the harvester needs to tell
    whether the document changed (ETag, Last-Modified, sha256) without downloading it again."""

    __tablename__ = "vierstaedte_council_file_text"
    __table_args__ = (
        sa.CheckConstraint(
            _in("status", FILE_TEXT_STATUSES), name="vierstaedte_council_file_text_status_check"
        ),
        sa.Index("vierstaedte_council_file_text_file_id_idx", "file_id", unique=True),
    )

    key: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True)
    file_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    organization_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    status: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    text: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    sha256: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    size: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    etag: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    last_modified: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    mime_type: Mapped[str | None] = mapped_column(sa.UnicodeText, nullable=True)
    source_url: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    updated: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=_utcnow
    )


class CouncilSync(tk.BaseModel):
    """How far the harvester has read one list (``paper``, ``meeting``…) of one body of a city."""

    __tablename__ = "vierstaedte_council_sync"

    organization_id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True)
    body: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True)
    list: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True)
    watermark: Mapped[datetime.datetime | None] = mapped_column(
        sa.DateTime(timezone=True), nullable=True
    )
    full_sync: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    updated: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=_utcnow
    )
