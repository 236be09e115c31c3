"""Meter readings: an index that covers the billing pass's readings query.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

The billing pass lists a page of sessions and then all of their readings in one query (``sessions
.page_with_readings``): by session key and time, with the energy. The primary key's index has the first
two only, so each reading also cost a look-up of its row (SQLite: the rowid table; PostgreSQL: the heap).
With the energy in an index of its own the query reads that index alone. It costs one more index entry per
reading written.

Written out in full rather than importing ``tables`` (see 0001).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_meter_readings_session_pk_timestamp_energy_wh"


def upgrade() -> None:
    op.create_index(INDEX, "meter_readings", ["session_pk", "timestamp", "energy_wh"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="meter_readings")
