"""Replica leases: which gateway processes share this database, and which of them are alive.

Every gateway process renews its row every lease interval (``ocpp_gateway.leases``). A row whose
``expires_at`` has passed belongs to a process that stopped renewing (killed, hung, or cut off from the
database), and the chargers its observed states name as held by it read as disconnected. Lease times
are the database's clock (``now()`` on PostgreSQL), so replicas on hosts with different clocks agree on
which leases run; SQLite has a single replica and uses the process clock.
"""

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, RowMapping, delete, func, select

from chargeops.ocpp_gateway.store import database, tables

_R = tables.gateway_replicas.c

# A lease expired this long ago is a replica gone for good: its row is removed at the next renewal of any
# replica. Long enough that an operator can still see which replica vanished, and when.
FORGET_AFTER = timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Lease:
    """One replica's lease."""

    replica_id: str
    ocpp_address: str
    control_address: str
    started_at: datetime
    renewed_at: datetime
    expires_at: datetime


def database_now(db: database.Database, conn: Connection) -> datetime:
    """The database's current time (its transaction's start on PostgreSQL), aware and UTC."""
    if db.dialect == "postgresql":
        now: datetime = conn.execute(select(func.now())).scalar_one()
        return now.astimezone(UTC)
    return datetime.now(UTC)


def renew(
    db: database.Database,
    conn: Connection,
    replica_id: str,
    *,
    ocpp_address: str,
    control_address: str,
    ttl: timedelta,
) -> Lease:
    """Create or extend the lease of ``replica_id`` to ``ttl`` from now; forget long-expired leases."""
    now = database_now(db, conn)
    insert = db.insert(tables.gateway_replicas).values(
        replica_id=replica_id,
        ocpp_address=ocpp_address,
        control_address=control_address,
        started_at=now,
        renewed_at=now,
        expires_at=now + ttl,
    )
    upsert = insert.on_conflict_do_update(
        index_elements=["replica_id"],
        set_={
            "ocpp_address": insert.excluded.ocpp_address,
            "control_address": insert.excluded.control_address,
            "renewed_at": insert.excluded.renewed_at,
            "expires_at": insert.excluded.expires_at,
        },
    ).returning(*tables.gateway_replicas.c)
    row = conn.execute(upsert).mappings().one()
    conn.execute(delete(tables.gateway_replicas).where(_R.expires_at < now - FORGET_AFTER))
    return _to_lease(row)


def live(db: database.Database, conn: Connection) -> dict[str, Lease]:
    """The leases that run now, by replica id."""
    now = database_now(db, conn)
    rows = conn.execute(select(tables.gateway_replicas).where(_R.expires_at > now)).mappings().all()
    return {row["replica_id"]: _to_lease(row) for row in rows}


def release(_db: database.Database, conn: Connection, replica_id: str) -> bool:
    """End the lease of ``replica_id`` (a replica stopping cleanly); True if it had one."""
    result = conn.execute(delete(tables.gateway_replicas).where(_R.replica_id == replica_id))
    return result.rowcount > 0


def _to_lease(row: RowMapping) -> Lease:
    return Lease(
        replica_id=row["replica_id"],
        ocpp_address=row["ocpp_address"],
        control_address=row["control_address"],
        started_at=row["started_at"],
        renewed_at=row["renewed_at"],
        expires_at=row["expires_at"],
    )


# Commands relayed between replicas, and their answers (``ocpp_gateway.relay``).
COMMANDS_CHANNEL = "chargeops_commands"


def notify(_db: database.Database, conn: Connection, channel: str, payload: str) -> None:
    """Send ``payload`` to every replica listening on ``channel`` (at commit); PostgreSQL only."""
    conn.execute(select(func.pg_notify(channel, payload)))
