"""FirmwareStatusNotification (OCPP 1.6 §4.5): keep the charger's last firmware update status."""

from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call_result

from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.context import ChargerContext


class FirmwareStatusNotification(payloads.Payload):
    status: str


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.FirmwareStatusNotification:
    request = payloads.parse(FirmwareStatusNotification, payload)
    await ctx.store.update_observed(ctx.charge_point_id, {"firmware_status": request.status}, now=ctx.now())
    return call_result.FirmwareStatusNotification()
