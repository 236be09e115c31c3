"""Observed state per charger: what the gateway last saw, merged field by field as it learns more.

The protocol code and convergence call ``Store.update_observed`` with only the fields they know now
(``{"connected": True, "connected_since": now}``, ``{"connector_status": {"1": "Charging"}}``). The row is
locked while the change is merged, so two tasks of one charger (its message loop and a convergence run)
never undo each other's fields.

Merge rules, for ``update``:

- A plain field is replaced by the given value (``None`` clears it).
- A dict field (``configuration``, ``configuration_results``, ``connector_status``) is merged key by key;
  a key given as ``None`` is removed. Naming the field in ``replace`` sets the whole dict instead.
- A list field (``drift``) is replaced.
- U+0000 in a string (a key or a value a charger reported) becomes U+FFFD: PostgreSQL's ``jsonb`` and
  ``text`` cannot hold it, and the rest of what the charger said is worth keeping.

On PostgreSQL an update without ``if_held_by`` is one statement: an upsert that merges in the database
(``_upsert_merged``), where a read under lock and a write would be two round trips and two rounds of
validating and serializing the whole document. A charger's connect stores about five of these.
"""

import functools
import typing
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, TypeGuard

import pydantic
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Connection,
    Insert,
    RowMapping,
    Select,
    Text,
    Update,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from chargeops.api import gateway
from chargeops.ocpp_gateway.store import database, errors, tables

_O = tables.observed_states.c

# Fields of ObservedState merged key by key: every dict-typed field, found from the model itself.
MERGED_FIELDS = frozenset(
    name for name, field in gateway.ObservedState.model_fields.items() if typing.get_origin(field.annotation) is dict
)
_SETTABLE_FIELDS = frozenset(gateway.ObservedState.model_fields) - {"charge_point_id"}


def get(db: database.Database, conn: Connection, cp_id: str) -> gateway.ObservedState:
    """The observed state of ``cp_id``; an empty one (nothing seen yet) for an unknown id."""
    document = conn.execute(db.statement(_document_of), {"b_cp": cp_id}).scalar_one_or_none()
    return gateway.ObservedState(charge_point_id=cp_id) if document is None else _to_observed(cp_id, document)


def list_all(_db: database.Database, conn: Connection) -> list[gateway.ObservedState]:
    """Every charger the gateway has observed, by charge point id."""
    rows = conn.execute(select(_O.charge_point_id, _O.document).order_by(_O.charge_point_id)).all()
    return [_to_observed(cp_id, document) for cp_id, document in rows]


def merge(
    current: gateway.ObservedState, changes: Mapping[str, object], *, replace: Collection[str] = ()
) -> gateway.ObservedState:
    """``current`` with ``changes`` applied by the rules in the module docstring; validated."""
    return _merge_without_nul(current, _without_nul(changes), replace=replace)


def _merge_without_nul(
    current: gateway.ObservedState, changes: Mapping[str, object], *, replace: Collection[str]
) -> gateway.ObservedState:
    """``merge`` for ``changes`` already through ``_without_nul``."""
    unknown = sorted(set(changes) - _SETTABLE_FIELDS)
    if unknown:
        raise errors.InvalidObservedStateError(
            f"ObservedState has no settable field {', '.join(unknown)}; fields: {', '.join(sorted(_SETTABLE_FIELDS))}."
        )
    document = current.model_dump(mode="json", by_alias=False)
    for name, value in changes.items():
        if _merges_key_by_key(value, name, replace):
            merged = {**document[name], **value}
            document[name] = {key: item for key, item in merged.items() if item is not None}
        else:
            document[name] = value
    try:
        return gateway.ObservedState.model_validate(document)
    except pydantic.ValidationError as error:
        raise errors.InvalidObservedStateError(f"Observed state of {current.charge_point_id}: {error}") from error


def _merges_key_by_key(value: object, name: str, replace: Collection[str]) -> TypeGuard[Mapping[str, object]]:
    """Whether the change ``name: value`` merges into a dict field key by key (rather than replacing it)."""
    return name in MERGED_FIELDS and name not in replace and isinstance(value, Mapping)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, Mapping):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(item) for item in value]
    return value


def update_state(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    changes: Mapping[str, object],
    *,
    replace: Collection[str],
    now: datetime,
    if_held_by: str | None = None,
) -> gateway.ObservedState:
    """Merge ``changes`` into the stored observed state of ``cp_id`` under a row lock, and store it.

    With ``if_held_by``, only while the stored state names that replica as the holder of the charger's
    connection (else nothing is written): a replica closing a connection the charger has meanwhile opened
    to another replica must not mark it disconnected there.

    The statements are built once per database (``Database.statement``): StatusNotification lands here
    for every connector change, and building them per call cost more than running them.
    """
    if db.dialect == "postgresql" and if_held_by is None:
        return _upsert_merged(db, conn, cp_id, changes, replace=replace, now=now)
    key = {"b_cp": cp_id}
    document = conn.execute(db.statement(_lock_document), key).scalar_one_or_none()
    if if_held_by is not None and (document is None or document.get("replica") != if_held_by):
        return gateway.ObservedState(charge_point_id=cp_id) if document is None else _to_observed(cp_id, document)
    if document is None:
        observed = merge(gateway.ObservedState(charge_point_id=cp_id), changes, replace=replace)
        row = {
            "charge_point_id": cp_id,
            "document": observed.model_dump(mode="json", by_alias=False),
            "updated_at": now,
        }
        if conn.execute(db.statement(_insert_document), row).first() is not None:
            return observed
        # Another writer created it just now: merge into theirs, under the lock.
        document = conn.execute(db.statement(_lock_document), key).scalar_one()
    current = _to_observed(cp_id, document)
    observed = merge(current, changes, replace=replace)
    if observed == current:
        return observed  # nothing new (a StatusNotification repeating the status): no UPDATE to write
    conn.execute(
        db.statement(_update_document),
        {**key, "b_document": observed.model_dump(mode="json", by_alias=False), "b_now": now},
    )
    return observed


def depart(
    db: database.Database,
    conn: Connection,
    last_seen: Mapping[str, datetime | None],
    *,
    held_by: str,
    now: datetime,
) -> None:
    """Record that each charger of ``last_seen`` (charge point id -> when it was last heard from) left
    replica ``held_by``: not connected, no replica, that last_seen — for each only while its stored state
    still names ``held_by``, as ``update_state(if_held_by=...)`` does, since it may have reconnected to
    another replica already.

    For a replica that stops: on PostgreSQL one statement for all. Written one connection at a time (a
    locking SELECT and an UPDATE each), three replicas holding 16,667 chargers each took 93 s to stop, most
    of it sending those statements (py-spy: 39% of a replica's samples), three times Kubernetes' default
    grace period of 30 s.
    """
    if db.dialect != "postgresql":
        for cp_id, seen in last_seen.items():
            update_state(db, conn, cp_id, _departure(seen), replace=(), now=now, if_held_by=held_by)
        return
    changes = {cp_id: _departure_as_stored(cp_id, seen) for cp_id, seen in last_seen.items()}
    params = {"b_ids": list(changes), "b_changes": changes, "b_held_by": held_by, "b_now": now}
    conn.execute(db.statement(_depart_held), params)


def _departure(last_seen: datetime | None) -> dict[str, object]:
    return {"connected": False, "replica": None, "last_seen": last_seen}


def _departure_as_stored(cp_id: str, last_seen: datetime | None) -> dict[str, Any]:
    """The fields of a departure as the document holds them: validated and serialized as ``merge`` does."""
    change = _departure(last_seen)
    state = _merge_without_nul(gateway.ObservedState(charge_point_id=cp_id), change, replace=())
    return state.model_dump(mode="json", by_alias=False, include=set(change))


def _depart_held(_db: database.Database) -> Update:
    stored = cast(_O.document, postgresql.JSONB)
    own = bindparam("b_changes", type_=postgresql.JSONB).op("->")(_O.charge_point_id)
    return (
        update(tables.observed_states)
        .where(
            _O.charge_point_id == any_(bindparam("b_ids", type_=ARRAY(Text))),
            stored.op("->>", return_type=Text)(literal_column("'replica'")) == bindparam("b_held_by", type_=Text),
        )
        .values(document=cast(stored.op("||")(own), JSON), updated_at=bindparam("b_now"))
    )


def _upsert_merged(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    changes: Mapping[str, object],
    *,
    replace: Collection[str],
    now: datetime,
) -> gateway.ObservedState:
    """``update_state`` in one PostgreSQL statement: insert the changes as a new document, or merge them
    into the stored one by the same rules, and return what is stored now.

    The changes are validated by merging them into an empty state: every field validates on its own, so
    a stored (valid) document with valid changes merged in is valid. Unlike the two-statement path, a
    change that alters nothing is written all the same: finding that out would take the read this saves.
    """
    changes = _without_nul(changes)  # the keys to remove, too, as ``merge`` sees them
    fresh = _merge_without_nul(gateway.ObservedState(charge_point_id=cp_id), changes, replace=replace).model_dump(
        mode="json", by_alias=False
    )
    merged = tuple(sorted(name for name, value in changes.items() if _merges_key_by_key(value, name, replace)))
    params: dict[str, Any] = {
        "b_cp": cp_id,
        "b_fresh": fresh,
        "b_now": now,
        "b_plain": {name: fresh[name] for name in changes if name not in merged},
    }
    for index, name in enumerate(merged):
        given = typing.cast(Mapping[str, object], changes[name])
        params[f"b_add_{index}"] = fresh[name]  # the keys given a value, validated and serialized
        params[f"b_drop_{index}"] = [key for key, value in given.items() if value is None]
    document = conn.execute(db.statement(_upsert_for(merged)), params).scalar_one()
    return _to_observed(cp_id, document)


@functools.cache
def _upsert_for(merged: tuple[str, ...]) -> Callable[[database.Database], Insert]:
    """The statement builder of ``_upsert_merged`` for changes merging into the dict fields ``merged``:
    one function per set of fields, so ``Database.statement`` builds each statement once."""

    def build(_db: database.Database) -> Insert:
        stored = cast(_O.document, postgresql.JSONB)
        document = stored.op("||")(bindparam("b_plain", type_=postgresql.JSONB))
        for index, name in enumerate(merged):
            # ``->`` rather than subscripting, which PostgreSQL has only since 14.
            field = func.coalesce(stored.op("->")(literal_column(f"'{name}'")), literal_column("'{}'::jsonb"))
            added = field.op("||")(bindparam(f"b_add_{index}", type_=postgresql.JSONB))
            kept = added.op("-")(bindparam(f"b_drop_{index}", type_=ARRAY(Text)))
            document = document.op("||")(func.jsonb_build_object(literal_column(f"'{name}'"), kept))
        merged_document: ColumnElement[Any] = cast(document, JSON)
        return (
            postgresql.insert(tables.observed_states)
            .values(
                charge_point_id=bindparam("b_cp"),
                document=bindparam("b_fresh", type_=_O.document.type),
                updated_at=bindparam("b_now"),
            )
            .on_conflict_do_update(
                index_elements=["charge_point_id"],
                set_={"document": merged_document, "updated_at": bindparam("b_now")},
            )
            .returning(_O.document)
        )

    return build


def _document_of(_db: database.Database) -> Select[Any]:
    return select(_O.document).where(_O.charge_point_id == bindparam("b_cp"))


def _lock_document(db: database.Database) -> Select[Any]:
    return db.lock_rows(_document_of(db))


def _insert_document(db: database.Database) -> Insert:
    return (
        db.insert(tables.observed_states)
        .on_conflict_do_nothing(index_elements=["charge_point_id"])
        .returning(_O.charge_point_id)
    )


def _update_document(_db: database.Database) -> Update:
    return (
        update(tables.observed_states)
        .where(_O.charge_point_id == bindparam("b_cp"))
        .values(document=bindparam("b_document", type_=_O.document.type), updated_at=bindparam("b_now"))
    )


def _to_observed(cp_id: str, document: Mapping[str, Any] | RowMapping) -> gateway.ObservedState:
    return gateway.ObservedState.model_validate({**document, "charge_point_id": cp_id})
