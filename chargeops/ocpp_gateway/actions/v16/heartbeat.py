"""Heartbeat (OCPP 1.6 §4.6): tell the charger the time; being heard from is recorded by the session."""

from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call_result

from chargeops.ocpp_gateway import timestamps
from chargeops.ocpp_gateway.context import ChargerContext


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.Heartbeat:
    return call_result.Heartbeat(current_time=timestamps.render(ctx.now()))
