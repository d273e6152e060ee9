"""council objects, file texts, sync state; the kind of a harvest run

Revision ID: 165ac29077f0
Revises: 3ac618676a68
Create Date: 2026-11-30 23:00:00.000000

Adds the council information's tables (``ckanext.vierstaedte.council.model``) and the run
kind (``catalogue`` or ``council``) to ``vierstaedte_harvest_run``; runs recorded before it
are catalogue runs (the column's default fills them).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

# revision identifiers, used by Alembic.
revision = "165ac29077f0"
down_revision = "3ac618676a68"
branch_labels = None
depends_on = None

# frozen copies of the contract's tuples as they were when this revision was written
OBJECT_TYPES = (
    "system",
    "body",
    "organization",
    "person",
    "membership",
    "meeting",
    "agendaItem",
    "paper",
    "consultation",
    "file",
    "location",
    "legislativeTerm",
)
FILE_TEXT_STATUSES = ("ok", "empty", "too_large", "timeout", "failed", "unsupported", "refused")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _timestamp(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "vierstaedte_council_object",
        sa.Column("key", sa.UnicodeText, primary_key=True),
        sa.Column("oparl_id", sa.UnicodeText, nullable=False),
        sa.Column("organization_id", sa.UnicodeText, nullable=False),
        sa.Column("type", sa.UnicodeText, nullable=False),
        sa.Column("body", sa.UnicodeText, nullable=True),
        _timestamp("modified", nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("content_hash", sa.UnicodeText, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("links", ARRAY(sa.UnicodeText), nullable=False),
        sa.Column("needs_index", sa.Boolean, nullable=False),
        _timestamp("created"),
        _timestamp("updated"),
        sa.CheckConstraint(_in("type", OBJECT_TYPES), name="vierstaedte_council_object_type_check"),
    )
    op.create_index(
        "vierstaedte_council_object_oparl_id_idx",
        "vierstaedte_council_object",
        ["oparl_id"],
        unique=True,
    )
    op.create_index(
        "vierstaedte_council_object_org_type_idx",
        "vierstaedte_council_object",
        ["organization_id", "type"],
    )
    op.create_index(
        "vierstaedte_council_object_links_idx",
        "vierstaedte_council_object",
        ["links"],
        postgresql_using="gin",
    )
    op.create_index(
        "vierstaedte_council_object_needs_index_idx",
        "vierstaedte_council_object",
        ["key"],
        postgresql_where=sa.text("needs_index"),
    )
    op.create_table(
        "vierstaedte_council_file_text",
        sa.Column("key", sa.UnicodeText, primary_key=True),
        sa.Column("file_id", sa.UnicodeText, nullable=False),
        sa.Column("organization_id", sa.UnicodeText, nullable=False),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("text", sa.UnicodeText, nullable=True),
        sa.Column("sha256", sa.UnicodeText, nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("etag", sa.UnicodeText, nullable=True),
        sa.Column("last_modified", sa.UnicodeText, nullable=True),
        sa.Column("mime_type", sa.UnicodeText, nullable=True),
        sa.Column("source_url", sa.UnicodeText, nullable=False),
        _timestamp("updated"),
        sa.CheckConstraint(
            _in("status", FILE_TEXT_STATUSES), name="vierstaedte_council_file_text_status_check"
        ),
    )
    op.create_index(
        "vierstaedte_council_file_text_file_id_idx",
        "vierstaedte_council_file_text",
        ["file_id"],
        unique=True,
    )
    op.create_table(
        "vierstaedte_council_sync",
        sa.Column("organization_id", sa.UnicodeText, primary_key=True),
        sa.Column("body", sa.UnicodeText, primary_key=True),
        sa.Column("list", sa.UnicodeText, primary_key=True),
        _timestamp("watermark", nullable=True),
        sa.Column("full_sync", sa.Boolean, nullable=False),
        _timestamp("updated"),
    )
    op.add_column(
        "vierstaedte_harvest_run",
        sa.Column("kind", sa.UnicodeText, nullable=False, server_default="catalogue"),
    )
    op.create_check_constraint(
        "vierstaedte_harvest_run_kind_check",
        "vierstaedte_harvest_run",
        "kind IN ('catalogue', 'council')",
    )


def downgrade():
    op.drop_constraint("vierstaedte_harvest_run_kind_check", "vierstaedte_harvest_run")
    op.drop_column("vierstaedte_harvest_run", "kind")
    op.drop_table("vierstaedte_council_sync")
    op.drop_table("vierstaedte_council_file_text")
    op.drop_table("vierstaedte_council_object")
