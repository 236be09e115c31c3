"""TransactionEvent (OCPP 2.0.1 E01-E15): store every event once, keyed by (transaction, seqNo).

Events may arrive late (``offline: true``), out of order, or twice; the store makes each harmless and
lets whichever event comes first open the session. An ``Ended`` event without an energy reading is
closed with the last reading and flagged, never guessed silently.
"""

from collections.abc import Mapping
from typing import Any, Literal

from ocpp.v201 import call_result

from chargeops.ocpp_gateway import meter, timestamps
from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.actions.v201 import authorize
from chargeops.ocpp_gateway.context import ChargerContext


class Transaction(payloads.Payload):
    transaction_id: str
    stopped_reason: str | None = None


class Evse(payloads.Payload):
    id: int
    connector_id: int | None = None


class TransactionEvent(payloads.Payload):
    event_type: Literal["Started", "Updated", "Ended"]
    timestamp: str
    trigger_reason: str
    seq_no: int
    transaction_info: Transaction
    offline: bool = False
    evse: Evse | None = None
    id_token: authorize.IdToken | None = None
    meter_value: list[dict[str, Any]] | None = None


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.TransactionEvent:
    event = payloads.parse(TransactionEvent, payload)
    moment = timestamps.parse(event.timestamp, field="timestamp")
    readings = [
        (timestamps.parse(value.get("timestamp"), field="meterValue.timestamp"), energy)
        for value in event.meter_value or []
        if (energy := meter.register_wh(value.get("sampled_value", []))) is not None
    ]
    transaction_id = event.transaction_info.transaction_id
    stopped_reason = event.transaction_info.stopped_reason
    if event.event_type == "Ended" and stopped_reason is None:
        stopped_reason = "Local"  # 2.0.1 TransactionType: stoppedReason "MAY only be omitted when … Local"
    outcome = await ctx.store.record_transaction_event(
        ctx.charge_point_id,
        event_type=event.event_type,
        transaction_id=transaction_id,
        seq_no=event.seq_no,
        timestamp=moment,
        connector_id=event.evse.id if event.evse else None,
        id_tag=event.id_token.id_token if event.id_token else None,
        meter_wh=readings[-1][1] if readings else None,
        offline=event.offline or ctx.is_late(moment),
        stopped_reason=stopped_reason,
        raw=dict(payload),
        now=ctx.now(),
    )
    if readings and not outcome.duplicate:
        await ctx.store.add_meter_values(
            ctx.charge_point_id,
            connector_id=event.evse.id if event.evse else 0,
            transaction_id=transaction_id,
            readings=readings,
            now=ctx.now(),
        )
    ctx.logger.info(
        "Transaction %s %s (seqNo %s)%s.",
        transaction_id,
        event.event_type,
        event.seq_no,
        ", redelivered" if outcome.duplicate else "",
    )
    if event.id_token is None:
        return call_result.TransactionEvent()
    return call_result.TransactionEvent(id_token_info=authorize.id_token_info(ctx, event.id_token.id_token))
