"""The OCPP 1.6J simulated charger's answers to the calls the gateway makes of it.

``ChargePoint16`` is the ``ocpp`` library's charge point with one handler per call the gateway may make
(OCPP 1.6 chapter 5): configuration, local list, trigger, remote start/stop, availability, reset, cache.
Handlers answer from ``ChargerState`` and leave anything that needs more messages to ``Controls`` in an
``@after`` hook, because the library reads no frame while a handler runs. ``v16_dialect`` builds the
charger's own calls (chapter 4).
"""

import logging
from datetime import datetime
from typing import Any

from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from chargeops.simulator import dialect
from chargeops.simulator.configuration import ConfigurationStore
from chargeops.simulator.dialect import after, on
from chargeops.simulator.local_list import IdTagInfo, ListEntry, UpdateStatus, UpdateType
from chargeops.simulator.state import ChargerState, ConnectorStatus, Controls, ReceivedChange

# TriggerMessage requestedMessage values this charger honours (1.6 §5.17; all of MessageTrigger).
_TRIGGERABLE = frozenset(
    {
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    }
)


class ChargePoint16(ChargePoint):  # type: ignore[misc]  # the ocpp library ships no type information
    """One connection of a simulated 1.6 charger."""

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
        if not isinstance(state.settings, ConfigurationStore):
            raise TypeError("a 1.6 charger keeps its settings in a ConfigurationStore")
        self._state = state
        self._controls = controls
        self._store = state.settings
        self._remote_start: tuple[str, int] | None = None

    async def route_message(self, raw_msg: str) -> None:
        """Drop the frames ``Faults`` says go unanswered; hand the rest to the library."""
        if dialect.is_unanswered(raw_msg, self._state.faults, keys_of=_changed_keys):
            self.logger.info("Leaving a call unanswered on purpose: %s", raw_msg[:200])
            return
        await super().route_message(raw_msg)

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> call_result.GetConfiguration:
        known, unknown = self._store.get(key)
        hidden = self._state.faults.not_supported
        known = [entry for entry in known if entry["key"] not in hidden]
        unknown += [name for name in (key or []) if name in hidden]
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> call_result.ChangeConfiguration:
        faults = self._state.faults
        if key in faults.not_supported:
            status = "NotSupported"
        elif key in faults.rejected:
            status = "Rejected"
        else:
            status = str(self._store.change(key, value))
        self._state.changes.append(ReceivedChange("ChangeConfiguration", key, value, status))
        return call_result.ChangeConfiguration(status=status)

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        entries = [_list_entry(item) for item in local_authorization_list or []]
        status: UpdateStatus = self._state.local_list.apply(
            list_version, UpdateType(update_type), entries, supported=self._state.local_list_supported
        )
        self._state.changes.append(ReceivedChange("SendLocalList", update_type, str(list_version), str(status)))
        return call_result.SendLocalList(status=str(status))

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        # §5.10: -1 when the charger has no local list feature, 0 when its list is empty.
        version = self._state.local_list.version if self._state.local_list_supported else -1
        return call_result.GetLocalListVersion(list_version=version)

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        if requested_message not in _TRIGGERABLE:
            return call_result.TriggerMessage(status="NotImplemented")
        if connector_id is not None and connector_id not in self._state.connectors and connector_id != 0:
            return call_result.TriggerMessage(status="Rejected")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    def after_trigger_message(self, requested_message: str, connector_id: int | None = None, **_: Any) -> None:
        if requested_message in _TRIGGERABLE:
            self._controls.trigger(requested_message, connector_id)

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self, id_tag: str, connector_id: int | None = None, **_: Any
    ) -> call_result.RemoteStartTransaction:
        # §5.11: the charger accepts when it can start; authorization (AuthorizeRemoteTxRequests) comes after.
        connector = self._state.free_connector(connector_id)
        if connector is None:
            return call_result.RemoteStartTransaction(status="Rejected")
        connector.status = ConnectorStatus.PREPARING
        self._remote_start = (id_tag, connector.connector_id)
        return call_result.RemoteStartTransaction(status="Accepted")

    @after(Action.remote_start_transaction)
    def after_remote_start_transaction(self, **_: Any) -> None:
        if self._remote_start is not None:
            id_tag, connector_id = self._remote_start
            self._remote_start = None
            self._controls.remote_start(id_tag, connector_id)

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id: int, **_: Any) -> call_result.RemoteStopTransaction:
        connector = self._state.connector_of_transaction(str(transaction_id))
        return call_result.RemoteStopTransaction(status="Accepted" if connector else "Rejected")

    @after(Action.remote_stop_transaction)
    def after_remote_stop_transaction(self, transaction_id: int, **_: Any) -> None:
        connector = self._state.connector_of_transaction(str(transaction_id))
        if connector is not None:
            self._controls.remote_stop(connector.connector_id)

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str, **_: Any) -> call_result.ChangeAvailability:
        targets = list(self._state.connectors.values())
        if connector_id != 0:
            targets = [c for c in targets if c.connector_id == connector_id]
            if not targets:
                return call_result.ChangeAvailability(status="Rejected")
        operative = type == "Operative"
        busy = False
        for connector in targets:
            connector.operative = operative
            if connector.session is not None:
                busy = True  # §5.2: a running transaction finishes first; the change is Scheduled
            elif connector.status in (ConnectorStatus.AVAILABLE, ConnectorStatus.UNAVAILABLE):
                connector.status = ConnectorStatus.AVAILABLE if operative else ConnectorStatus.UNAVAILABLE
        return call_result.ChangeAvailability(status="Scheduled" if busy and not operative else "Accepted")

    @after(Action.change_availability)
    def after_change_availability(self, connector_id: int, **_: Any) -> None:
        self._controls.availability_changed(connector_id)

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type: str, **_: Any) -> None:
        self._controls.reset(hard=type == "Hard")

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        self._state.cache.clear()
        return call_result.ClearCache(status="Accepted")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="UnknownVendorId")


def _changed_keys(action: str, payload: dict[str, Any]) -> list[str]:
    return [str(payload.get("key"))] if action == "ChangeConfiguration" else []


def _list_entry(item: dict[str, Any]) -> ListEntry:
    info = item.get("id_tag_info")
    if info is None:
        return ListEntry(item["id_tag"], None)
    return ListEntry(item["id_tag"], id_tag_info(info))


def id_tag_info(info: dict[str, Any]) -> IdTagInfo:
    """An IdTagInfo as ocpp hands it over (snake_case keys)."""
    expiry = info.get("expiry_date")
    return IdTagInfo(
        status=info["status"],
        expiry_date=datetime.fromisoformat(expiry) if expiry else None,
        parent_id_tag=info.get("parent_id_tag"),
    )
