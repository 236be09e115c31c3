"""How one OCPP 2.0.1 TransactionEvent changes its session, whatever order the events arrive in.

Pure: ``events`` and ``transactions`` read the session row, ask these functions for the changed columns
and write them. A charger queues events while offline and may deliver them late, retried or, across a
reconnect, out of seqNo order (OCPP 2.0.1 E04, E12); the rules below make the session a function of the
*set* of events received, so any delivery order ends in the same row:

- ``Started`` fixes the start time, and the start meter value if it carries one. Before it arrives, the
  earliest event's time stands in.
- ``Ended`` fixes the stop time and reason, and the stop meter value if it carries one.
- A missing start or stop meter value is taken from the session's readings (the earliest, the latest)
  and the session is flagged ``EstimatedStart`` / ``EstimatedStop``: never estimated silently. Every
  event's meter value is also a reading, so a later reading refines the estimate.
- ``offline`` on any event flags ``DeliveredLate``.
"""

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chargeops.ocpp_gateway.store import outcomes


@dataclasses.dataclass(frozen=True)
class Event:
    """The parts of a TransactionEvent that shape its session."""

    event_type: outcomes.TransactionEventType
    timestamp: datetime
    connector_id: int | None
    id_tag: str | None
    meter_wh: int | None
    offline: bool
    stopped_reason: str | None


def new_session(event: Event) -> dict[str, Any]:
    """The columns of a session before any event is folded in: nothing known but its first sight."""
    return {
        "connector_id": 0,  # 0 means "not reported yet"; an event with an evse id fills it in
        "id_tag": None,
        "started_at": event.timestamp,
        "meter_start_wh": 0,
        "start_seen": False,
        "flag_estimated_start": True,
        "flag_estimated_stop": False,
        "flag_negative_energy": False,
        "flag_delivered_late": False,
        "flag_unknown_id_tag": False,
    }


def fold(session: Mapping[str, Any], event: Event) -> dict[str, Any]:
    """The columns ``event`` changes in ``session`` (a row's mapping); empty if it adds nothing."""
    changes: dict[str, Any] = {}
    if event.event_type == "Started":
        changes["start_seen"] = True
        changes["started_at"] = event.timestamp
        if event.meter_wh is not None:
            changes["meter_start_wh"] = event.meter_wh
            changes["flag_estimated_start"] = False
        if event.id_tag is not None:
            # The id tag that started the transaction is the one that pays for it.
            changes["id_tag"] = event.id_tag
    elif not session["start_seen"] and event.timestamp < session["started_at"]:
        changes["started_at"] = event.timestamp
    if session["id_tag"] is None and event.id_tag is not None:
        # OCPP 2.0.1 E02: a transaction may start on cable plug-in and be authorized by a later event.
        changes["id_tag"] = event.id_tag
    if not session["connector_id"] and event.connector_id:
        # OCPP 2.0.1 E01: the evse is required only in the first TransactionEvent.
        changes["connector_id"] = event.connector_id
    if event.event_type == "Ended":
        changes["stopped_at"] = event.timestamp
        changes["stop_reason"] = event.stopped_reason
        if event.meter_wh is not None:
            changes["meter_stop_wh"] = event.meter_wh
            changes["flag_estimated_stop"] = False
        elif session["meter_stop_wh"] is None or session["flag_estimated_stop"]:
            changes["flag_estimated_stop"] = True
    if event.offline and not session["flag_delivered_late"]:
        changes["flag_delivered_late"] = True
    return {column: value for column, value in changes.items() if session.get(column) != value}


def needs_readings(session: Mapping[str, Any]) -> bool:
    """Whether ``settle`` needs the earliest and latest readings of ``session`` (after ``fold``)."""
    return bool(
        session["flag_estimated_start"] or (session["stopped_at"] is not None and session["flag_estimated_stop"])
    )


def settle(session: Mapping[str, Any], *, first_wh: int | None, last_wh: int | None) -> dict[str, Any]:
    """The estimated meter values and the energy of ``session``, from its earliest and latest readings.

    With no reading at all, an estimated start is 0 and an estimated stop equals the start: zero energy,
    flagged, rather than a number made up from nothing.
    """
    changes: dict[str, Any] = {}
    meter_start = session["meter_start_wh"]
    if session["flag_estimated_start"]:
        meter_start = first_wh if first_wh is not None else 0
        changes["meter_start_wh"] = meter_start
    if session["stopped_at"] is not None:
        meter_stop = session["meter_stop_wh"]
        if session["flag_estimated_stop"]:
            meter_stop = last_wh if last_wh is not None else meter_start
            changes["meter_stop_wh"] = meter_stop
        changes["energy_wh"] = meter_stop - meter_start
        changes["flag_negative_energy"] = meter_stop < meter_start
    return {column: value for column, value in changes.items() if session.get(column) != value}
