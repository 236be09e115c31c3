"""Calls to a charger that the control API may ask for (OCPP 1.6 §5: the Central System's operations).

Each command is a request model for the HTTP body and a function making the OCPP call; the charger's
answer is returned as it gave it. A CallError or timeout becomes a ChargerRefusedError/TimeoutError.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from ocpp.v16 import call as call16
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chargeops.api.v1alpha1 import OcppVersion
from chargeops.ocpp_gateway.convergence import dialects
from chargeops.ocpp_gateway.errors import ChargerRefusedError


class Command(BaseModel):
    """Base of command bodies: camelCase JSON like the rest of the API."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="forbid")


class Reset(Command):
    type: Literal["Hard", "Soft"] = "Soft"


class ChangeAvailability(Command):
    connector_id: int = Field(default=0, ge=0)
    type: Literal["Inoperative", "Operative"]


class ClearCache(Command):
    pass


class TriggerMessage(Command):
    requested_message: Literal[
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    ]
    connector_id: int | None = Field(default=None, ge=0)


class RemoteStartTransaction(Command):
    id_tag: str = Field(min_length=1, max_length=20)
    connector_id: int | None = Field(default=None, ge=1)


class RemoteStopTransaction(Command):
    transaction_id: int


def _payload(command: Command, ocpp_class: Any) -> Any:
    return ocpp_class(**command.model_dump(exclude_none=True))


COMMANDS: dict[str, tuple[type[Command], Any]] = {
    "reset": (Reset, call16.Reset),
    "change-availability": (ChangeAvailability, call16.ChangeAvailability),
    "clear-cache": (ClearCache, call16.ClearCache),
    "trigger-message": (TriggerMessage, call16.TriggerMessage),
    "remote-start-transaction": (RemoteStartTransaction, call16.RemoteStartTransaction),
    "remote-stop-transaction": (RemoteStopTransaction, call16.RemoteStopTransaction),
}


async def run(session: Any, version: OcppVersion, name: str, command: Command) -> dict[str, Any]:
    """Send command ``name`` to a connected charger and return its answer as a dict."""
    if version is not OcppVersion.V16:
        raise ChargerRefusedError(
            f"command {name} is implemented for OCPP 1.6 chargers only", charge_point_id=session.id
        )
    _, ocpp_class = COMMANDS[name]
    result = await dialects.call(session, _payload(command, ocpp_class))
    return {key: value for key, value in vars(result).items() if value is not None}


CommandRunner = Callable[[Any, OcppVersion, str, Command], Awaitable[dict[str, Any]]]
