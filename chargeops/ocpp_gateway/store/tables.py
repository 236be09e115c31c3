"""The store's schema as SQLAlchemy Core tables: the truth that the Alembic migrations must match.

The store's modules build their statements from these tables (Core, not the ORM: the hot path inserts
and updates rows without loading objects). A test runs the migrations on an empty database and asks
Alembic's autogenerate for the difference to ``metadata``; it must be empty, so a column added here
needs a migration under ``migrations/versions/`` too.

Idempotency lives in unique keys, so a redelivered OCPP message hits a key instead of a second row:

- ``sessions``: ``uq_sessions_ocpp16_start`` for a retried 1.6 StartTransaction and
  ``uq_sessions_charger_transaction`` for 2.0.1 (the charger's own transaction id).
- ``stop_transactions``: one row per distinct StopTransaction (a retry repeats charger, transactionId,
  timestamp and meterStop); the session itself closes only once.
- ``transaction_events``: one row per (charger, transactionId, seqNo).
- ``meter_readings``: one reading per (session, timestamp).
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
)

from chargeops.ocpp_gateway.store.columns import UtcDateTime, big_key

# Constraint names are fixed so that migrations can refer to them on both databases. Multi-column unique
# keys are named by hand: PostgreSQL cuts names at 63 characters.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Lengths from the wire types (chargeops.api.gateway): a charge point id is at most 48 characters, an id
# tag 36 (OCPP 2.0.1 idToken), a 2.0.1 transactionId 36, a stop reason 64.
CHARGE_POINT_ID_LENGTH = 48
ID_TAG_LENGTH = 36
TRANSACTION_ID_LENGTH = 36
REASON_LENGTH = 64
SESSION_ID_LENGTH = 36  # a UUID in its 36-character text form

desired_states = Table(
    "desired_states",
    metadata,
    Column("charge_point_id", String(CHARGE_POINT_ID_LENGTH), primary_key=True),
    # DesiredState as JSON (snake_case), password always removed.
    Column("document", JSON, nullable=False),
    Column("password_hash", String(255), nullable=True),
    # HMAC-SHA256 (hex) of the hash and password under the replicas' shared key (``credentials``).
    Column("password_verifier", String(64), nullable=True),
    Column("local_list_version", Integer, nullable=False),
    # SHA-256 of the sorted, de-duplicated id tags: a changed set is a changed digest.
    Column("id_tags_digest", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

observed_states = Table(
    "observed_states",
    metadata,
    Column("charge_point_id", String(CHARGE_POINT_ID_LENGTH), primary_key=True),
    # ObservedState as JSON (snake_case).
    Column("document", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Gateway replicas sharing this database, one row per process: a lease renewed every few seconds. A
# charger's observed state names the replica holding its websocket; a reader counts it connected only while
# that replica's lease runs (``replicas``), so the chargers of a killed replica do not read connected forever.
REPLICA_ID_LENGTH = 128
gateway_replicas = Table(
    "gateway_replicas",
    metadata,
    Column("replica_id", String(REPLICA_ID_LENGTH), primary_key=True),
    # Where the replica listens, for the operator and for a 409 that names it (host:port).
    Column("ocpp_address", String(255), nullable=False),
    Column("control_address", String(255), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("renewed_at", UtcDateTime, nullable=False),
    # The database's clock, not the replica's: replicas on different hosts never compare their own clocks.
    Column("expires_at", UtcDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    # Also the OCPP 1.6 transactionId: one sequence (BIGSERIAL) for the whole database, so replicas sharing a
    # PostgreSQL never hand out the same id; AUTOINCREMENT on SQLite so an id is never reused.
    Column("pk", big_key(), primary_key=True, autoincrement=True),
    Column("id", String(SESSION_ID_LENGTH), nullable=False, unique=True),
    Column("charge_point_id", String(CHARGE_POINT_ID_LENGTH), nullable=False),
    # OCPP 2.0.1 transactionId (the charger's); NULL for 1.6, whose transactionId is ``pk``.
    Column("charger_transaction_id", String(TRANSACTION_ID_LENGTH), nullable=True),
    Column("connector_id", Integer, nullable=False),
    Column("id_tag", String(ID_TAG_LENGTH), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("stopped_at", UtcDateTime, nullable=True),
    Column("meter_start_wh", BigInteger, nullable=False),
    Column("meter_stop_wh", BigInteger, nullable=True),
    Column("energy_wh", BigInteger, nullable=True),
    Column("stop_reason", String(REASON_LENGTH), nullable=True),
    # 2.0.1: whether the Started event has arrived (events may come out of order); always true for 1.6.
    Column("start_seen", Boolean, nullable=False),
    # One column per SessionFlag, so a statement can set a flag by comparing values.
    Column("flag_estimated_start", Boolean, nullable=False, server_default=false()),
    Column("flag_estimated_stop", Boolean, nullable=False, server_default=false()),
    Column("flag_negative_energy", Boolean, nullable=False, server_default=false()),
    Column("flag_delivered_late", Boolean, nullable=False, server_default=false()),
    Column("flag_unknown_id_tag", Boolean, nullable=False, server_default=false()),
    Column("updated_at", UtcDateTime, nullable=False),
    # NULLs are distinct in a unique constraint, so every 1.6 row (NULL charger id) passes this one.
    UniqueConstraint("charge_point_id", "charger_transaction_id", name="uq_sessions_charger_transaction"),
    # Keyset pagination: (started_at, id) globally, per charger and per id tag.
    Index(None, "started_at", "id"),
    Index(None, "charge_point_id", "started_at", "id"),
    Index(None, "id_tag", "started_at", "id"),
    sqlite_autoincrement=True,
)

# A charger that retries a 1.6 StartTransaction whose answer was lost sends the same five values; only
# 1.6 rows take part (2.0.1 sessions are keyed by the charger's transaction id).
OCPP16_START_KEY = ("charge_point_id", "connector_id", "id_tag", "started_at", "meter_start_wh")
OCPP16_ONLY = sessions.c.charger_transaction_id.is_(None)
Index(
    "uq_sessions_ocpp16_start",
    *(sessions.c[name] for name in OCPP16_START_KEY),
    unique=True,
    sqlite_where=OCPP16_ONLY,
    postgresql_where=OCPP16_ONLY,
)

meter_readings = Table(
    "meter_readings",
    metadata,
    Column("session_pk", big_key(), ForeignKey(sessions.c.pk), primary_key=True),
    Column("timestamp", UtcDateTime, primary_key=True),
    # Energy.Active.Import.Register, in Wh.
    Column("energy_wh", BigInteger, nullable=False),
    # Covers the billing pass's readings query (by session and time, with the energy): the index alone
    # answers it, without a look-up of each reading's row.
    Index(None, "session_pk", "timestamp", "energy_wh"),
)

# A retried StopTransaction repeats these; a different stop for the same transaction is kept beside it.
STOP_KEY = ("charge_point_id", "transaction_id", "timestamp", "meter_stop_wh")
stop_transactions = Table(
    "stop_transactions",
    metadata,
    Column("pk", big_key(), primary_key=True, autoincrement=True),
    Column("charge_point_id", String(CHARGE_POINT_ID_LENGTH), nullable=False),
    Column("transaction_id", BigInteger, nullable=False),
    # NULL for an orphan: a stop whose transaction this store never started; kept, never dropped.
    Column("session_pk", big_key(), ForeignKey(sessions.c.pk), nullable=True),
    Column("id_tag", String(ID_TAG_LENGTH), nullable=True),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("meter_stop_wh", BigInteger, nullable=False),
    Column("reason", String(REASON_LENGTH), nullable=True),
    # StopTransaction.req transactionData exactly as received.
    Column("transaction_data", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint(*STOP_KEY, name="uq_stop_transactions_retry"),
)

transaction_events = Table(
    "transaction_events",
    metadata,
    Column("pk", big_key(), primary_key=True, autoincrement=True),
    Column("charge_point_id", String(CHARGE_POINT_ID_LENGTH), nullable=False),
    Column("transaction_id", String(TRANSACTION_ID_LENGTH), nullable=False),
    Column("seq_no", BigInteger, nullable=False),
    Column("event_type", String(16), nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("session_pk", big_key(), ForeignKey(sessions.c.pk), nullable=False),
    Column("offline", Boolean, nullable=False),
    Column("meter_wh", BigInteger, nullable=True),
    # TransactionEventRequest exactly as received.
    Column("raw", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("charge_point_id", "transaction_id", "seq_no", name="uq_transaction_events_seq_no"),
)

meter_value_batches = Table(
    "meter_value_batches",
    metadata,
    Column("pk", big_key(), primary_key=True, autoincrement=True),
    Column("charge_point_id", String(CHARGE_POINT_ID_LENGTH), nullable=False),
    Column("connector_id", Integer, nullable=False),
    # As the charger sent it; NULL when the meter values belong to no transaction.
    Column("transaction_id", String(TRANSACTION_ID_LENGTH), nullable=True),
    Column("session_pk", big_key(), ForeignKey(sessions.c.pk), nullable=True),
    # MeterValues.req meterValue exactly as received (all measurands, not only the energy register).
    Column("meter_values", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)
