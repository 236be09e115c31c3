"""Authorize (OCPP 2.0.1 C01): accept an idToken only if the desired list holds it, or if free."""

from collections.abc import Mapping
from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import AuthorizationStatusEnumType

from chargeops.ocpp_gateway.actions import payloads
from chargeops.ocpp_gateway.context import ChargerContext


class IdToken(payloads.Payload):
    id_token: str
    type: str


class Authorize(payloads.Payload):
    id_token: IdToken


def id_token_info(ctx: ChargerContext, id_token: str) -> dict[str, str]:
    """The IdTokenInfo for ``id_token`` here and now; shared with TransactionEvent."""
    accepted = ctx.is_authorized(id_token)
    return {"status": AuthorizationStatusEnumType.accepted if accepted else AuthorizationStatusEnumType.invalid}


async def handle(ctx: ChargerContext, payload: Mapping[str, Any]) -> call_result.Authorize:
    request = payloads.parse(Authorize, payload)
    info = id_token_info(ctx, request.id_token.id_token)
    if info["status"] != AuthorizationStatusEnumType.accepted:
        ctx.logger.info("Id token refused: not on the authorized list.")
    return call_result.Authorize(id_token_info=info)
