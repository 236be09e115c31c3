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
"""

import typing
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import pydantic
from sqlalchemy import Connection, Insert, RowMapping, Select, Update, bindparam, select, update

from chargeops.api import gateway
from chargeops.ocpp_gateway.store import database, errors, tables

_O = tables.observed_states.c

# Fields of ObservedState merged key by key: every dict-typed field, found from the model itself.
MERGED_FIELDS = frozenset(
    name for name, field in gateway.ObservedState.model_fields.items() if typing.get_origin(field.annotation) is dict
)
_SETTABLE_FIELDS = frozenset(gateway.ObservedState.model_fields) - {"charge_point_id"}


def get(_db: database.Database, conn: Connection, cp_id: str) -> gateway.ObservedState:
    """The observed state of ``cp_id``; an empty one (nothing seen yet) for an unknown id."""
    query = select(_O.document).where(_O.charge_point_id == cp_id)
    document = conn.execute(query).scalar_one_or_none()
    return gateway.ObservedState(charge_point_id=cp_id) if document is None else _to_observed(cp_id, document)


def list_all(_db: database.Database, conn: Connection) -> list[gateway.ObservedState]:
    """Every charger the gateway has observed, by charge point id."""
    rows = conn.execute(select(_O.charge_point_id, _O.document).order_by(_O.charge_point_id)).all()
    return [_to_observed(cp_id, document) for cp_id, document in rows]


def merge(
    current: gateway.ObservedState, changes: Mapping[str, object], *, replace: Collection[str] = ()
) -> gateway.ObservedState:
    """``current`` with ``changes`` applied by the rules in the module docstring; validated."""
    unknown = sorted(set(changes) - _SETTABLE_FIELDS)
    if unknown:
        raise errors.InvalidObservedStateError(
            f"ObservedState has no settable field {', '.join(unknown)}; fields: {', '.join(sorted(_SETTABLE_FIELDS))}."
        )
    document = current.model_dump(mode="json", by_alias=False)
    for name, value in changes.items():
        if name in MERGED_FIELDS and name not in replace and isinstance(value, Mapping):
            merged = {**document[name], **value}
            document[name] = {key: item for key, item in merged.items() if item is not None}
        else:
            document[name] = value
    try:
        return gateway.ObservedState.model_validate(document)
    except pydantic.ValidationError as error:
        raise errors.InvalidObservedStateError(f"Observed state of {current.charge_point_id}: {error}") from error


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


def _lock_document(db: database.Database) -> Select[Any]:
    return db.lock_rows(select(_O.document).where(_O.charge_point_id == bindparam("b_cp")))


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
