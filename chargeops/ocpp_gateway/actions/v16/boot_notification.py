"""BootNotification (OCPP 1.6 §4.2): record who the charger is and accept it with our heartbeat, or answer
Pending while the store is unavailable (``actions.registration``)."""

from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import RegistrationStatus

from chargeops.ocpp_gateway import timestamps
from chargeops.ocpp_gateway.actions import payloads, registration
from chargeops.ocpp_gateway.context import ChargerContext


class BootNotification(payloads.Payload):
    charge_point_vendor: str
    charge_point_model: str
    charge_point_serial_number: str | None = None
    firmware_version: str | None = None


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.BootNotification:
    boot = payloads.parse(BootNotification, payload)
    now = ctx.now()
    answer = await registration.register(
        ctx,
        {
            "vendor": boot.charge_point_vendor,
            "model": boot.charge_point_model,
            "serial_number": boot.charge_point_serial_number,
            "firmware_version": boot.firmware_version,
            "last_seen": now,
        },
        now=now,
    )
    if answer.status is registration.Status.ACCEPTED:
        ctx.logger.info(
            "Booted: %s %s, firmware %s.",
            boot.charge_point_vendor,
            boot.charge_point_model,
            boot.firmware_version or "unknown",
        )
    return call_result.BootNotification(
        current_time=timestamps.render(now),
        interval=answer.interval_s,
        status=RegistrationStatus(answer.status),
    )
