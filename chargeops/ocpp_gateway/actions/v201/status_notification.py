"""StatusNotification (OCPP 2.0.1 G01): keep the last status of each connector, keyed `evse/connector`."""

from collections.abc import Mapping
from typing import Any

from ocpp.v201 import call_result

from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.context import ChargerContext


class StatusNotification(payloads.Payload):
    timestamp: str
    connector_status: str
    evse_id: int
    connector_id: int


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.StatusNotification:
    notification = payloads.parse(StatusNotification, payload)
    connector = f"{notification.evse_id}/{notification.connector_id}"
    await ctx.store.update_observed(
        ctx.charge_point_id, {"connector_status": {connector: notification.connector_status}}, now=ctx.now()
    )
    return call_result.StatusNotification()
