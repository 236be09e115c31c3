"""MeterValues (OCPP 1.6 §4.7): keep energy register readings of a transaction, for month splits."""

from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call_result

from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.actions.v16 import stop_transaction
from chargeops.ocpp_gateway.context import ChargerContext


class MeterValues(payloads.Payload):
    connector_id: int
    transaction_id: int | None = None
    meter_value: list[dict[str, Any]]


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.MeterValues:
    values = payloads.parse(MeterValues, payload)
    readings = stop_transaction.meter_readings(values.meter_value)
    if readings:
        await ctx.store.add_meter_values(
            ctx.charge_point_id,
            connector_id=values.connector_id,
            transaction_id=None if values.transaction_id is None else str(values.transaction_id),
            readings=readings,
            raw=values.meter_value,
            now=ctx.now(),
        )
    return call_result.MeterValues()
