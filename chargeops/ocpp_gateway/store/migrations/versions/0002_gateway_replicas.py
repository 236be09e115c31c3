"""Gateway replicas: one lease per gateway process sharing the database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Written out in full rather than importing ``tables`` (see 0001).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_replicas",
        sa.Column("replica_id", sa.String(length=128), nullable=False),
        sa.Column("ocpp_address", sa.String(length=255), nullable=False),
        sa.Column("control_address", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("replica_id", name="pk_gateway_replicas"),
    )


def downgrade() -> None:
    op.drop_table("gateway_replicas")
