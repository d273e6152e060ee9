"""harvest runs

Revision ID: 3ac618676a68
Revises:
Create Date: 2026-11-22 00:07:47.966177

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

# revision identifiers, used by Alembic.
revision = "3ac618676a68"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "vierstaedte_harvest_run",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("organization_id", sa.UnicodeText, nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("counts", JSONB, nullable=False),
        sa.Column("report", JSONB, nullable=False),
        sa.Column("harvester_version", sa.UnicodeText, nullable=True),
        sa.Column("created_by", sa.UnicodeText, nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('ok', 'partial', 'failed')", name="vierstaedte_harvest_run_status_check"
        ),
    )
    op.create_index(
        "vierstaedte_harvest_run_organization_id_started_idx",
        "vierstaedte_harvest_run",
        ["organization_id", "started"],
    )


def downgrade():
    op.drop_index(
        "vierstaedte_harvest_run_organization_id_started_idx", table_name="vierstaedte_harvest_run"
    )
    op.drop_table("vierstaedte_harvest_run")
