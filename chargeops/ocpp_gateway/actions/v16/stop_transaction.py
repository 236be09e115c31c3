"""StopTransaction (OCPP 1.6 §4.10): close the session once; a retried stop changes nothing."""

from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call_result

from chargeops.ocpp_gateway import meter, timestamps
from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.actions.v16 import authorize
from chargeops.ocpp_gateway.context import ChargerContext


class StopTransaction(payloads.Payload):
    transaction_id: int
    meter_stop: int
    timestamp: str
    id_tag: str | None = None
    reason: str | None = None
    transaction_data: list[dict[str, Any]] | None = None


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.StopTransaction:
    stop = payloads.parse(StopTransaction, payload)
    stopped_at = timestamps.parse(stop.timestamp, field="timestamp")
    data = stop.transaction_data or []
    readings = meter_readings(data)
    outcome = await ctx.store.stop_transaction(
        ctx.charge_point_id,
        stop.transaction_id,
        meter_stop_wh=stop.meter_stop,
        timestamp=stopped_at,
        reason=stop.reason,
        id_tag=stop.id_tag,
        transaction_data=data,
        readings=readings,
        now=ctx.now(),
    )
    if outcome.unknown:
        ctx.logger.warning("Stop for unknown transaction %s kept for review.", stop.transaction_id)
    elif outcome.duplicate:
        ctx.logger.info("Transaction %s stop redelivered; already recorded.", stop.transaction_id)
    else:
        ctx.logger.info("Transaction %s stopped (%s).", stop.transaction_id, stop.reason or "Local")
    if stop.id_tag is None:
        return call_result.StopTransaction()
    return call_result.StopTransaction(id_tag_info=authorize.id_tag_info(ctx, stop.id_tag))


def meter_readings(meter_values: list[dict[str, Any]]) -> list[tuple[Any, int]]:
    """(timestamp, Wh) of each MeterValue that carries the energy register; shared with MeterValues."""
    readings = []
    for value in meter_values:
        energy = meter.register_wh(value.get("sampled_value", []))
        if energy is not None:
            readings.append((timestamps.parse(value.get("timestamp"), field="meterValue.timestamp"), energy))
    return readings
