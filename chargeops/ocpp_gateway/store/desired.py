"""Desired state per charger: the document the operator PUTs, its password hash and its local-list version.

``Store`` calls these; the slow part of a PUT (scrypt) runs before the write transaction, so no lock is
held while a password is hashed. Two rules live here:

- The stored document never holds the password; ``password_hash`` does, and a PUT without a password
  keeps it. ``password_verifier`` (``credentials``) is written with the hash, or later for the hash it
  was made for; it is no change of desired state, so writing it alone notifies nobody.
- A write that changes the desired state of a charger on PostgreSQL notifies ``CHANGES_CHANNEL`` with
  the charge point id as payload, in its own transaction (PostgreSQL delivers it at commit). Every
  gateway replica listens there, and the one holding the charger's websocket converges it.
- ``local_list_version`` starts at 1 for the first non-empty id-tag list and grows by one each time the
  *set* of tags changes (order and duplicates do not count). The row is locked while the version is
  computed, so two concurrent PUTs never give two different sets the same version.
"""

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, RowMapping, Select, bindparam, delete, func, select, update

from chargeops.api import gateway
from chargeops.ocpp_gateway.store import database, tables

_D = tables.desired_states.c

# The LISTEN/NOTIFY channel of desired-state changes (PostgreSQL), payload the charge point id.
CHANGES_CHANNEL = "chargeops_desired_state"


def id_tags_digest(id_tags: Iterable[str]) -> str:
    """SHA-256 of the sorted set of ``id_tags``: equal exactly when the sets are equal."""
    canonical = json.dumps(sorted(set(id_tags)), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# The empty list: a charger with no desired state yet has version 0 and this digest.
EMPTY_DIGEST = id_tags_digest(())


def get(db: database.Database, conn: Connection, cp_id: str) -> gateway.StoredDesiredState | None:
    """The stored desired state of ``cp_id``, or None."""
    return get_for_login(db, conn, cp_id).desired


def list_all(_db: database.Database, conn: Connection) -> list[gateway.StoredDesiredState]:
    """Every stored desired state, by charge point id."""
    rows = conn.execute(select(tables.desired_states).order_by(_D.charge_point_id)).mappings().all()
    return [_to_stored(row) for row in rows]


class LoginRow(NamedTuple):
    """What a handshake reads of a charger: its desired state, password hash and verifier (all None for an
    unknown charger)."""

    desired: gateway.StoredDesiredState | None
    password_hash: str | None
    password_verifier: str | None


def get_for_login(db: database.Database, conn: Connection, cp_id: str) -> LoginRow:
    """The stored desired state of ``cp_id`` with its password hash and verifier, from one row.

    Every handshake and every convergence reads this: the statement is built once (``Database.statement``);
    building it per call was 5% of a gateway's CPU in a reconnect storm.
    """
    row = conn.execute(db.statement(_row_of), {"b_cp": cp_id}).mappings().first()
    if row is None:
        return LoginRow(None, None, None)
    return LoginRow(_to_stored(row), row["password_hash"], row["password_verifier"])


class StoredPassword(NamedTuple):
    """A charger's password as stored: its hash and verifier (None: no such charger, or no password)."""

    hash: str | None
    verifier: str | None


def stored_password(db: database.Database, conn: Connection, cp_id: str) -> StoredPassword:
    """The stored password hash of ``cp_id`` and the verifier beside it."""
    row = conn.execute(db.statement(_password_of), {"b_cp": cp_id}).first()
    return StoredPassword(None, None) if row is None else StoredPassword(row.password_hash, row.password_verifier)


def _row_of(_db: database.Database) -> Select[Any]:
    return select(tables.desired_states).where(_D.charge_point_id == bindparam("b_cp"))


def _lock_row_of(db: database.Database) -> Select[Any]:
    return db.lock_rows(_row_of(db))


def _password_of(_db: database.Database) -> Select[Any]:
    return select(_D.password_hash, _D.password_verifier).where(_D.charge_point_id == bindparam("b_cp"))


def put_verifier(_db: database.Database, conn: Connection, cp_id: str, stored: str, verifier: str) -> None:
    """Keep ``verifier`` beside ``cp_id``'s password hash, if that is still ``stored`` (a PUT of a new
    password meanwhile made the verifier stale before it was written)."""
    conn.execute(
        update(tables.desired_states)
        .where(_D.charge_point_id == cp_id, _D.password_hash == stored)
        .values(password_verifier=verifier)
    )


def put(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    desired: gateway.DesiredState,
    *,
    new_password_hash: str | None,
    new_password_verifier: str | None = None,
    now: datetime,
) -> gateway.StoredDesiredState:
    """Upsert ``desired`` (its password already turned into ``new_password_hash`` and
    ``new_password_verifier``; None to keep both)."""
    document = desired.model_dump(mode="json", by_alias=False, exclude={"password"})
    digest = id_tags_digest(desired.authorized_id_tags)
    key = {"b_cp": cp_id}
    current = conn.execute(db.statement(_lock_row_of), key).mappings().first()
    if current is None:
        created = (
            (
                conn.execute(
                    db.insert(tables.desired_states)
                    .values(
                        charge_point_id=cp_id,
                        document=document,
                        password_hash=new_password_hash,
                        password_verifier=new_password_verifier,
                        local_list_version=0 if digest == EMPTY_DIGEST else 1,
                        id_tags_digest=digest,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["charge_point_id"])
                    .returning(*tables.desired_states.c)
                )
            )
            .mappings()
            .first()
        )
        if created is not None:
            _notify(db, conn, cp_id)
            return _to_stored(created)
        # Another writer created it just now: update theirs, under the lock.
        current = conn.execute(db.statement(_lock_row_of), key).mappings().one()
    changes: dict[str, Any] = {}
    if document != current["document"]:
        changes["document"] = document
    if new_password_hash is not None and new_password_hash != current["password_hash"]:
        changes["password_hash"] = new_password_hash
    if digest != current["id_tags_digest"]:
        changes["id_tags_digest"] = digest
        changes["local_list_version"] = current["local_list_version"] + 1
    written = dict(changes)
    if new_password_hash is not None and new_password_verifier != current["password_verifier"]:
        written["password_verifier"] = new_password_verifier
    if not written:
        return _to_stored(current)
    if changes:
        written["updated_at"] = now
    conn.execute(update(tables.desired_states).where(_D.charge_point_id == cp_id).values(**written))
    if changes:
        _notify(db, conn, cp_id)
    return _to_stored({**current, **written})


def delete_charger(db: database.Database, conn: Connection, cp_id: str) -> bool:
    """Remove the desired and observed state of ``cp_id``; True if either existed. Sessions stay."""
    removed = 0
    for table in (tables.desired_states, tables.observed_states):
        result = conn.execute(delete(table).where(table.c.charge_point_id == cp_id))
        removed += result.rowcount
    if removed:
        _notify(db, conn, cp_id)
    return removed > 0


def _notify(db: database.Database, conn: Connection, cp_id: str) -> None:
    """Tell every replica (at commit) that the desired state of ``cp_id`` changed; PostgreSQL only."""
    if db.dialect == "postgresql":
        conn.execute(select(func.pg_notify(CHANGES_CHANNEL, cp_id)))


def _to_stored(row: RowMapping | dict[str, Any]) -> gateway.StoredDesiredState:
    return gateway.StoredDesiredState(
        charge_point_id=row["charge_point_id"],
        desired=gateway.DesiredState.model_validate(row["document"]),
        has_password=row["password_hash"] is not None,
        local_list_version=row["local_list_version"],
        updated_at=row["updated_at"],
    )
