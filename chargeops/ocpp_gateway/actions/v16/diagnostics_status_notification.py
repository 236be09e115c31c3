"""DiagnosticsStatusNotification (OCPP 1.6 §4.4): keep the charger's last diagnostics upload status."""

from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call_result

from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.context import ChargerContext


class DiagnosticsStatusNotification(payloads.Payload):
    status: str


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.DiagnosticsStatusNotification:
    request = payloads.parse(DiagnosticsStatusNotification, payload)
    await ctx.store.update_observed(ctx.charge_point_id, {"diagnostics_status": request.status}, now=ctx.now())
    return call_result.DiagnosticsStatusNotification()
