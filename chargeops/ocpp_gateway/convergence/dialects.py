"""The calls convergence makes, in each OCPP version's words.

``converge`` speaks of reading and changing keys and of local-list updates; a dialect turns those into
OCPP 1.6 GetConfiguration / ChangeConfiguration / SendLocalList or OCPP 2.0.1 GetVariables /
SetVariables / SendLocalList calls. Every call raises on a CallError (``suppress=False``) and on a
timeout, translated into ``ChargerRefusedError`` / ``ChargerTimeoutError``.
"""

import re
from collections.abc import Iterable
from typing import Any, Protocol

from ocpp.exceptions import OCPPError
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargeops.api.gateway import ConfigurationResult
from chargeops.ocpp_gateway.convergence.local_list import ListUpdate
from chargeops.ocpp_gateway.errors import ChargerRefusedError, ChargerTimeoutError

# RFID UIDs are 4, 7 or 10 bytes written in hex; anything else is an app or account id, which OCPP 2.0.1
# calls a Central token (IdTokenEnumType).
_RFID_UID = re.compile(r"^(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$")


class Dialect(Protocol):
    """Reading and changing a charger's configuration and local list."""

    async def read(self, keys: Iterable[str]) -> tuple[dict[str, str], set[str]]:
        """Reported values of ``keys``, and the keys the charger does not know."""
        ...

    async def change(self, settings: dict[str, str]) -> dict[str, ConfigurationResult]:
        """Set each key; the charger's answer per key."""
        ...

    async def list_version(self) -> int:
        """The charger's local list version (-1: no local list support)."""
        ...

    async def send_list(self, update: ListUpdate) -> str:
        """Send one SendLocalList; the charger's status (Accepted, Failed, VersionMismatch, NotSupported)."""
        ...


async def call(session: Any, payload: Any) -> Any:
    """Make one OCPP call; a CallError or no answer raises the gateway's error for it."""
    try:
        return await session.call(payload, suppress=False)
    except OCPPError as error:
        raise ChargerRefusedError(
            f"{type(payload).__name__} answered with CallError {error.code}: {error.description}",
            charge_point_id=session.id,
        ) from error
    except TimeoutError as error:  # asyncio.TimeoutError too, which the library raises, from Python 3.11
        raise ChargerTimeoutError(f"{type(payload).__name__} got no answer", charge_point_id=session.id) from error


class V16:
    """OCPP 1.6J: configuration keys (§5.8, §5.3) and the local list (§5.15, §5.10)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def read(self, keys: Iterable[str]) -> tuple[dict[str, str], set[str]]:
        result = await call(self.session, call16.GetConfiguration(key=sorted(set(keys))))
        reported = {item["key"]: item.get("value", "") for item in result.configuration_key or []}
        return reported, set(result.unknown_key or [])

    async def change(self, settings: dict[str, str]) -> dict[str, ConfigurationResult]:
        answers = {}
        for key, value in settings.items():
            # One key the charger never answers must not keep the keys after it from being set.
            try:
                result = await call(self.session, call16.ChangeConfiguration(key=key, value=value))
            except ChargerTimeoutError:
                answers[key] = ConfigurationResult.TIMEOUT
                continue
            answers[key] = ConfigurationResult(result.status)
        return answers

    async def list_version(self) -> int:
        return int((await call(self.session, call16.GetLocalListVersion())).list_version)

    async def send_list(self, update: ListUpdate) -> str:
        entries: list[dict[str, Any]] = [
            {"id_tag": tag, "id_tag_info": {"status": "Accepted"}} for tag in update.accept
        ]
        entries += [{"id_tag": tag} for tag in update.remove]  # §5.15: no idTagInfo removes the entry
        request = call16.SendLocalList(
            list_version=update.version, update_type=update.update_type.value, local_authorization_list=entries
        )
        return str((await call(self.session, request)).status)


class V201:
    """OCPP 2.0.1: device-model variables (B05, B06) and the local list (D01, D02)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def read(self, keys: Iterable[str]) -> tuple[dict[str, str], set[str]]:
        wanted = sorted(set(keys))
        request = call201.GetVariables(get_variable_data=[_variable(key) for key in wanted])
        result = await call(self.session, request)
        reported: dict[str, str] = {}
        unknown: set[str] = set()
        for item in result.get_variable_result:
            key = _key(item)
            if item["attribute_status"] == "Accepted":
                reported[key] = str(item.get("attribute_value", ""))
            elif item["attribute_status"] in ("UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"):
                unknown.add(key)
        return reported, unknown

    async def change(self, settings: dict[str, str]) -> dict[str, ConfigurationResult]:
        if not settings:
            return {}
        data = [{**_variable(key), "attribute_value": value} for key, value in settings.items()]
        try:
            result = await call(self.session, call201.SetVariables(set_variable_data=data))
        except ChargerTimeoutError:
            # One call sets them all: unanswered, none is known to be set; the rest of the run goes on.
            return dict.fromkeys(settings, ConfigurationResult.TIMEOUT)
        return {_key(item): _result(item["attribute_status"]) for item in result.set_variable_result}

    async def list_version(self) -> int:
        return int((await call(self.session, call201.GetLocalListVersion())).version_number)

    async def send_list(self, update: ListUpdate) -> str:
        entries: list[dict[str, Any]] = [
            {"id_token": _token(tag), "id_token_info": {"status": "Accepted"}} for tag in update.accept
        ]
        entries += [{"id_token": _token(tag)} for tag in update.remove]  # D02.FR.03: no info removes it
        request = call201.SendLocalList(
            version_number=update.version,
            update_type=update.update_type.value,
            local_authorization_list=entries or None,
        )
        return str((await call(self.session, request)).status)


def _variable(key: str) -> dict[str, Any]:
    component, _, variable = key.partition("/")
    name, _, instance = component.partition("[")
    component_doc: dict[str, Any] = {"name": name}
    if instance:
        component_doc["instance"] = instance.rstrip("]")
    return {"component": component_doc, "variable": {"name": variable}}


def _key(item: dict[str, Any]) -> str:
    component = item["component"]
    instance = f"[{component['instance']}]" if component.get("instance") else ""
    return f"{component['name']}{instance}/{item['variable']['name']}"


def _token(tag: str) -> dict[str, str]:
    return {"id_token": tag, "type": "ISO14443" if _RFID_UID.match(tag) else "Central"}


def _result(status: str) -> ConfigurationResult:
    if status in ("UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"):
        return ConfigurationResult.NOT_SUPPORTED
    return ConfigurationResult(status)
