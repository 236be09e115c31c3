"""Authorize (OCPP 1.6 §4.1): accept an id tag only if the charger's desired list holds it, or if free."""

from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import AuthorizationStatus

from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.context import ChargerContext


class Authorize(payloads.Payload):
    id_tag: str


def id_tag_info(ctx: ChargerContext, id_tag: str) -> dict[str, str]:
    """The IdTagInfo for ``id_tag`` here and now; shared with Start/StopTransaction."""
    accepted = ctx.is_authorized(id_tag)
    return {"status": AuthorizationStatus.accepted if accepted else AuthorizationStatus.invalid}


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.Authorize:
    request = payloads.parse(Authorize, payload)
    info = id_tag_info(ctx, request.id_tag)
    if info["status"] != AuthorizationStatus.accepted:
        ctx.logger.info("Id tag refused: not on the authorized list.")
    return call_result.Authorize(id_tag_info=info)
