"""Initial schema: desired and observed state per charger, sessions, readings and the raw messages.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Written out in full rather than importing ``tables``, so this revision stays what it was when the
tables change later; the test that compares migrations with ``tables`` keeps the two in step.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key() -> sa.types.TypeEngine[int]:
    # BIGINT, but INTEGER on SQLite, where only INTEGER PRIMARY KEY is the autoincrementing rowid.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "desired_states",
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("local_list_version", sa.Integer(), nullable=False),
        sa.Column("id_tags_digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id", name="pk_desired_states"),
    )
    op.create_table(
        "observed_states",
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id", name="pk_observed_states"),
    )
    op.create_table(
        "sessions",
        sa.Column("pk", _key(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("charger_transaction_id", sa.String(length=36), nullable=True),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("id_tag", sa.String(length=36), nullable=True),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("stopped_at", _utc(), nullable=True),
        sa.Column("meter_start_wh", sa.BigInteger(), nullable=False),
        sa.Column("meter_stop_wh", sa.BigInteger(), nullable=True),
        sa.Column("energy_wh", sa.BigInteger(), nullable=True),
        sa.Column("stop_reason", sa.String(length=64), nullable=True),
        sa.Column("start_seen", sa.Boolean(), nullable=False),
        sa.Column("flag_estimated_start", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("flag_estimated_stop", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("flag_negative_energy", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("flag_delivered_late", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("flag_unknown_id_tag", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_sessions"),
        sa.UniqueConstraint("charge_point_id", "charger_transaction_id", name="uq_sessions_charger_transaction"),
        sa.UniqueConstraint("id", name="uq_sessions_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sessions_started_at_id", "sessions", ["started_at", "id"])
    op.create_index("ix_sessions_charge_point_id_started_at_id", "sessions", ["charge_point_id", "started_at", "id"])
    op.create_index("ix_sessions_id_tag_started_at_id", "sessions", ["id_tag", "started_at", "id"])
    ocpp16_only = sa.text("charger_transaction_id IS NULL")
    op.create_index(
        "uq_sessions_ocpp16_start",
        "sessions",
        ["charge_point_id", "connector_id", "id_tag", "started_at", "meter_start_wh"],
        unique=True,
        sqlite_where=ocpp16_only,
        postgresql_where=ocpp16_only,
    )
    op.create_table(
        "meter_readings",
        sa.Column("session_pk", _key(), nullable=False),
        sa.Column("timestamp", _utc(), nullable=False),
        sa.Column("energy_wh", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["session_pk"], ["sessions.pk"], name="fk_meter_readings_session_pk_sessions"),
        sa.PrimaryKeyConstraint("session_pk", "timestamp", name="pk_meter_readings"),
    )
    op.create_table(
        "stop_transactions",
        sa.Column("pk", _key(), autoincrement=True, nullable=False),
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=False),
        sa.Column("session_pk", _key(), nullable=True),
        sa.Column("id_tag", sa.String(length=36), nullable=True),
        sa.Column("timestamp", _utc(), nullable=False),
        sa.Column("meter_stop_wh", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("transaction_data", sa.JSON(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["session_pk"], ["sessions.pk"], name="fk_stop_transactions_session_pk_sessions"),
        sa.PrimaryKeyConstraint("pk", name="pk_stop_transactions"),
        sa.UniqueConstraint(
            "charge_point_id", "transaction_id", "timestamp", "meter_stop_wh", name="uq_stop_transactions_retry"
        ),
    )
    op.create_table(
        "transaction_events",
        sa.Column("pk", _key(), autoincrement=True, nullable=False),
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("transaction_id", sa.String(length=36), nullable=False),
        sa.Column("seq_no", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("timestamp", _utc(), nullable=False),
        sa.Column("session_pk", _key(), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("meter_wh", sa.BigInteger(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["session_pk"], ["sessions.pk"], name="fk_transaction_events_session_pk_sessions"),
        sa.PrimaryKeyConstraint("pk", name="pk_transaction_events"),
        sa.UniqueConstraint("charge_point_id", "transaction_id", "seq_no", name="uq_transaction_events_seq_no"),
    )
    op.create_table(
        "meter_value_batches",
        sa.Column("pk", _key(), autoincrement=True, nullable=False),
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=36), nullable=True),
        sa.Column("session_pk", _key(), nullable=True),
        sa.Column("meter_values", sa.JSON(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["session_pk"], ["sessions.pk"], name="fk_meter_value_batches_session_pk_sessions"),
        sa.PrimaryKeyConstraint("pk", name="pk_meter_value_batches"),
    )


def downgrade() -> None:
    for table in (
        "meter_value_batches",
        "transaction_events",
        "stop_transactions",
        "meter_readings",
        "sessions",
        "observed_states",
        "desired_states",
    ):
        op.drop_table(table)
