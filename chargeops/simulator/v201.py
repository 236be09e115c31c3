"""The OCPP 2.0.1 simulated charging station's answers to the calls the gateway makes of it.

``ChargePoint201`` answers the calls the gateway makes of a 2.0.1 station — GetVariables (B06), SetVariables
(B05), SendLocalList (D01), GetLocalListVersion (D02) — plus RequestStart/StopTransaction (F01, F03), Reset
(B11/B12) and ClearCache (C11), from ``ChargerState``; ``v201_dialect`` builds the station's own messages.
Each EVSE has one connector (id 1).
"""

import logging
from datetime import datetime
from typing import Any

from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action

from chargeops.simulator import dialect
from chargeops.simulator.device_model import DeviceModel
from chargeops.simulator.dialect import after, on
from chargeops.simulator.local_list import IdTagInfo, ListEntry, UpdateStatus, UpdateType
from chargeops.simulator.state import ChargerState, ConnectorStatus, Controls, ReceivedChange


class ChargePoint201(ChargePoint):  # type: ignore[misc]  # the ocpp library ships no type information
    """One connection of a simulated 2.0.1 station."""

    def __init__(
        self,
        charge_point_id: str,
        connection: Any,
        *,
        state: ChargerState,
        controls: Controls,
        response_timeout_s: float,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    ) -> None:
        super().__init__(charge_point_id, connection, response_timeout=response_timeout_s, logger=logger)
        if not isinstance(state.settings, DeviceModel):
            raise TypeError("a 2.0.1 station keeps its settings in a DeviceModel")
        self._state = state
        self._controls = controls
        self._model = state.settings
        self._remote_start: tuple[str, int, int] | None = None

    async def route_message(self, raw_msg: str) -> None:
        """Drop the frames ``Faults`` says go unanswered; hand the rest to the library."""
        if dialect.is_unanswered(raw_msg, self._state.faults, keys_of=_changed_variables):
            self.logger.info("Leaving a call unanswered on purpose: %s", raw_msg[:200])
            return
        await super().route_message(raw_msg)

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> call_result.GetVariables:
        results = []
        for item in get_variable_data:
            component, variable = item["component"], item["variable"]
            status, value = self._model.get(
                component["name"], variable["name"], attribute_type=item.get("attribute_type")
            )
            if f"{component['name']}.{variable['name']}" in self._state.faults.not_supported:
                status, value = status.UNKNOWN_VARIABLE, None
            result = {"attribute_status": str(status), "component": component, "variable": variable}
            if value is not None:
                result |= {"attribute_type": "Actual", "attribute_value": value}
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> call_result.SetVariables:
        results = []
        for item in set_variable_data:
            component, variable = item["component"], item["variable"]
            name = f"{component['name']}.{variable['name']}"
            if name in self._state.faults.not_supported:
                status = "UnknownVariable"
            elif name in self._state.faults.rejected:
                status = "Rejected"
            else:
                status = str(
                    self._model.set(
                        component["name"],
                        variable["name"],
                        item["attribute_value"],
                        attribute_type=item.get("attribute_type"),
                    )
                )
            self._state.changes.append(ReceivedChange("SetVariables", name, item["attribute_value"], status))
            results.append({"attribute_status": status, "component": component, "variable": variable})
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        entries = [_list_entry(item) for item in local_authorization_list or []]
        status = self._state.local_list.apply(
            version_number, UpdateType(update_type), entries, supported=self._state.local_list_supported
        )
        # SendLocalListStatusEnumType has no NotSupported: a station without the feature answers Failed.
        if status is UpdateStatus.NOT_SUPPORTED:
            status = UpdateStatus.FAILED
        self._state.changes.append(ReceivedChange("SendLocalList", update_type, str(version_number), str(status)))
        return call_result.SendLocalList(status=str(status))

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(version_number=self._state.local_list.version)

    @on(Action.request_start_transaction)
    def on_request_start_transaction(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> call_result.RequestStartTransaction:
        connector = self._state.free_connector(evse_id)
        if connector is None:
            return call_result.RequestStartTransaction(status="Rejected")
        connector.status = ConnectorStatus.PREPARING
        self._remote_start = (id_token["id_token"], connector.connector_id, remote_start_id)
        return call_result.RequestStartTransaction(status="Accepted")

    @after(Action.request_start_transaction)
    def after_request_start_transaction(self, **_: Any) -> None:
        if self._remote_start is not None:
            id_tag, connector_id, remote_start_id = self._remote_start
            self._remote_start = None
            self._controls.remote_start(id_tag, connector_id, remote_start_id=remote_start_id)

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> call_result.RequestStopTransaction:
        connector = self._state.connector_of_transaction(transaction_id)
        return call_result.RequestStopTransaction(status="Accepted" if connector else "Rejected")

    @after(Action.request_stop_transaction)
    def after_request_stop_transaction(self, transaction_id: str, **_: Any) -> None:
        connector = self._state.connector_of_transaction(transaction_id)
        if connector is not None:
            self._controls.remote_stop(connector.connector_id)

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type: str, **_: Any) -> None:
        self._controls.reset(hard=type == "Immediate")

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        self._state.cache.clear()
        return call_result.ClearCache(status="Accepted")


def _changed_variables(action: str, payload: dict[str, Any]) -> list[str]:
    if action != "SetVariables":
        return []
    return [f"{item['component']['name']}.{item['variable']['name']}" for item in payload.get("setVariableData", [])]


def _list_entry(item: dict[str, Any]) -> ListEntry:
    info = item.get("id_token_info")
    return ListEntry(item["id_token"]["id_token"], None if info is None else token_info(info))


def token_info(info: dict[str, Any]) -> IdTagInfo:
    """An IdTokenInfoType as ocpp hands it over (snake_case keys), in the simulator's terms."""
    expiry = info.get("cache_expiry_date_time")
    group = info.get("group_id_token")
    return IdTagInfo(
        status=info["status"],
        expiry_date=datetime.fromisoformat(expiry) if expiry else None,
        parent_id_tag=group["id_token"] if group else None,
    )
