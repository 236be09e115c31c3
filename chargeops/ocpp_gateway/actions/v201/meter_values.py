"""MeterValues (OCPP 2.0.1 J01): readings outside a transaction; kept only as the station's last word.

Energy of a transaction arrives in TransactionEvent; a MeterValues request names no transaction, so its
readings cannot be billed and are not stored as session readings.
"""

from collections.abc import Mapping
from typing import Any

from ocpp.v201 import call_result

from chargeops.ocpp_gateway.context import ChargerContext


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.MeterValues:
    return call_result.MeterValues()
