"""StatusNotification (OCPP 1.6 §4.9): keep the last status of each connector."""

from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call_result

from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.context import ChargerContext


class StatusNotification(payloads.Payload):
    connector_id: int
    status: str
    error_code: str
    info: str | None = None


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.StatusNotification:
    notification = payloads.parse(StatusNotification, payload)
    await ctx.store.update_observed(
        ctx.charge_point_id,
        {"connector_status": {str(notification.connector_id): notification.status}},
        now=ctx.now(),
    )
    if notification.error_code != "NoError":
        ctx.logger.warning(
            "Connector %s reports %s: %s.",
            notification.connector_id,
            notification.error_code,
            notification.info or "no details",
        )
    return call_result.StatusNotification()
