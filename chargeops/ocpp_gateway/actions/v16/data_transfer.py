"""DataTransfer (OCPP 1.6 §4.3): chargeops implements no vendor extensions, and says so."""

from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import DataTransferStatus

from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.context import ChargerContext


class DataTransfer(payloads.Payload):
    vendor_id: str
    message_id: str | None = None


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.DataTransfer:
    request = payloads.parse(DataTransfer, payload)
    ctx.logger.info("DataTransfer from vendor %s (%s) not handled.", request.vendor_id, request.message_id)
    return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)
