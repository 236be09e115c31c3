"""Heartbeat (OCPP 2.0.1 G02): tell the station the time."""

from collections.abc import Mapping
from typing import Any

from ocpp.v201 import call_result

from chargeops.ocpp_gateway import timestamps
from chargeops.ocpp_gateway.context import ChargerContext


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.Heartbeat:
    return call_result.Heartbeat(current_time=timestamps.render(ctx.now()))
