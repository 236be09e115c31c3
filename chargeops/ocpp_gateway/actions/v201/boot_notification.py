"""BootNotification (OCPP 2.0.1 B01): record who the station is and accept it with our heartbeat, or answer
Pending (B02) while the store is unavailable (``actions.registration``)."""

from collections.abc import Mapping
from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import RegistrationStatusEnumType

from chargeops.ocpp_gateway import timestamps
from chargeops.ocpp_gateway.actions import payloads, registration
from chargeops.ocpp_gateway.context import ChargerContext


class ChargingStation(payloads.Payload):
    model: str
    vendor_name: str
    serial_number: str | None = None
    firmware_version: str | None = None


class BootNotification(payloads.Payload):
    charging_station: ChargingStation
    reason: str


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.BootNotification:
    boot = payloads.parse(BootNotification, payload)
    station = boot.charging_station
    now = ctx.now()
    answer = await registration.register(
        ctx,
        {
            "vendor": station.vendor_name,
            "model": station.model,
            "serial_number": station.serial_number,
            "firmware_version": station.firmware_version,
            "last_seen": now,
        },
        now=now,
    )
    if answer.status is registration.Status.ACCEPTED:
        ctx.logger.info(
            "Booted (%s): %s %s, firmware %s.",
            boot.reason,
            station.vendor_name,
            station.model,
            station.firmware_version or "unknown",
        )
    return call_result.BootNotification(
        current_time=timestamps.render(now),
        interval=answer.interval_s,
        status=RegistrationStatusEnumType(answer.status),
    )
