"""Notifications a 2.0.1 station sends that the gateway acknowledges and logs: NotifyEvent (N07),
SecurityEventNotification (A04), NotifyReport (B07), FirmwareStatusNotification (L01)."""

from collections.abc import Mapping
from typing import Any

from ocpp.v201 import call_result

from chargeops.ocpp_gateway.context import ChargerContext


async def notify_event(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.NotifyEvent:
    return call_result.NotifyEvent()


async def security_event_notification(
    ctx: ChargerContext, payload: Mapping[str, Any]
) -> call_result.SecurityEventNotification:
    ctx.logger.warning("Security event %s.", payload.get("type"))
    return call_result.SecurityEventNotification()


async def notify_report(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.NotifyReport:
    return call_result.NotifyReport()


async def firmware_status_notification(
    ctx: ChargerContext, payload: Mapping[str, Any]
) -> call_result.FirmwareStatusNotification:
    await ctx.store.update_observed(ctx.charge_point_id, {"firmware_status": payload.get("status")}, now=ctx.now())
    return call_result.FirmwareStatusNotification()
