"""StartTransaction (OCPP 1.6 §4.8): store the session durably, then answer with its transaction id.

The session is stored even when the id tag is refused: a charger that delivers a StartTransaction
queued while offline has already charged, and the energy must not vanish (it is flagged for review). A
retried StartTransaction whose reply was lost gets the same transaction id again.
"""

from collections.abc import Mapping
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.v16 import call_result
from ocpp.v16.enums import AuthorizationStatus

from chargeops.api.gateway import SessionFlag
from chargeops.ocpp_gateway import timestamps
from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.actions.v16 import authorize
from chargeops.ocpp_gateway.context import ChargerContext


class StartTransaction(payloads.Payload):
    connector_id: int
    id_tag: str
    meter_start: int
    timestamp: str
    reservation_id: int | None = None


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.StartTransaction:
    start = payloads.parse(StartTransaction, payload)
    if start.connector_id < 0:
        # The schema sets no minimum, but connectors are numbered from 1 (0 is the charge point itself), and
        # a stored session names one that can exist (Session.connector_id >= 0): refused before storing.
        raise PropertyConstraintViolationError(details={"cause": f"connectorId {start.connector_id} is negative"})
    started_at = timestamps.parse(start.timestamp, field="timestamp")
    info = authorize.id_tag_info(ctx, start.id_tag)
    flags = []
    if ctx.is_late(started_at):
        flags.append(SessionFlag.DELIVERED_LATE)
    if info["status"] != AuthorizationStatus.accepted:
        flags.append(SessionFlag.UNKNOWN_ID_TAG)
    outcome = await ctx.store.start_transaction(
        ctx.charge_point_id,
        connector_id=start.connector_id,
        id_tag=start.id_tag,
        meter_start_wh=start.meter_start,
        timestamp=started_at,
        flags=flags,
        now=ctx.now(),
    )
    ctx.logger.info(
        "Transaction %s %s on connector %s.",
        outcome.transaction_id,
        "redelivered" if outcome.duplicate else "started",
        start.connector_id,
    )
    return call_result.StartTransaction(transaction_id=outcome.transaction_id, id_tag_info=info)
