"""The messages a simulated OCPP 2.0.1 station makes, and the ``dialect.Dialect`` that ties them to ``v201``.

A transaction is one TransactionEvent stream Started, Updated…, Ended whose seqNo counts from 0 (E01) and whose
events made while offline carry ``offline: true`` (E04); the station names the transaction itself, so nothing
is rewritten on delivery. The 1.6 words the rest of the simulator speaks (connector statuses, stop reasons)
are mapped onto 2.0.1's here.
"""

import logging
import uuid
from datetime import datetime
from typing import Any

from ocpp.v201 import call

from chargeops.api.v1alpha1.charger import OcppVersion
from chargeops.simulator import v201
from chargeops.simulator.clock import timestamp
from chargeops.simulator.dialect import BootResult, Draft, TxAck
from chargeops.simulator.local_list import IdTagInfo
from chargeops.simulator.state import ChargerState, ConnectorStatus, Controls, Session

# 2.0.1 has five connector states; the 1.6 states of an occupied connector all become Occupied (G01).
_CONNECTOR_STATUS = {
    ConnectorStatus.AVAILABLE: "Available",
    ConnectorStatus.UNAVAILABLE: "Unavailable",
    ConnectorStatus.FAULTED: "Faulted",
}
# 1.6 Reason (what ``sessions`` speaks) → 2.0.1 ReasonEnumType and the TriggerReason of the Ended event.
_STOPPED = {
    "Local": ("Local", "StopAuthorized"),
    "Remote": ("Remote", "RemoteStop"),
    "EVDisconnected": ("EVDisconnected", "EVDeparted"),
    "DeAuthorized": ("DeAuthorized", "Deauthorized"),
    "SoftReset": ("Reboot", "ResetCommand"),
    "HardReset": ("ImmediateReset", "ResetCommand"),
    "PowerLoss": ("PowerLoss", "AbnormalCondition"),
}
# Every id token here is an RFID card (IdTokenEnumType), as the pay-per-month subscribers' are.
_TOKEN_TYPE = "ISO14443"  # noqa: S105  # an IdTokenEnumType, not a secret


def _sample(register_wh: int, *, power_w: int | None, at: datetime, context: str) -> dict[str, Any]:
    values: list[dict[str, Any]] = [
        {
            "value": register_wh,
            "context": context,
            "measurand": "Energy.Active.Import.Register",
            "unit_of_measure": {"unit": "Wh"},
        }
    ]
    if power_w is not None:
        values.append(
            {"value": power_w, "context": context, "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "W"}}
        )
    return {"timestamp": timestamp(at), "sampled_value": values}


def _transaction_event(
    session: Session, event_type: str, *, trigger: str, at: datetime, offline: bool, **fields: Any
) -> dict[str, Any]:
    info: dict[str, Any] = {"transaction_id": session.transaction_id, **fields.pop("transaction_info", {})}
    payload = {
        "event_type": event_type,
        "timestamp": timestamp(at),
        "trigger_reason": trigger,
        "seq_no": session.next_seq_no(),
        "transaction_info": info,
        **fields,
    }
    if offline:
        payload["offline"] = True  # E04: the event happened while the station had no connection
    return payload


class Dialect201:
    """``dialect.Dialect`` for OCPP 2.0.1."""

    version = OcppVersion.V201
    subprotocol = "ocpp2.0.1"

    def charge_point(
        self,
        charge_point_id: str,
        connection: Any,
        *,
        state: ChargerState,
        controls: Controls,
        response_timeout_s: float,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    ) -> v201.ChargePoint201:
        return v201.ChargePoint201(
            charge_point_id,
            connection,
            state=state,
            controls=controls,
            response_timeout_s=response_timeout_s,
            logger=logger,
        )

    def boot(self, *, vendor: str, model: str, firmware_version: str, serial_number: str, reason: str) -> Any:
        station = {
            "model": model,
            "vendor_name": vendor,
            "firmware_version": firmware_version,
            "serial_number": serial_number,
        }
        return call.BootNotification(charging_station=station, reason=reason)

    def parse_boot(self, result: Any) -> BootResult:
        return BootResult(status=str(result.status), interval_s=int(result.interval))

    def heartbeat(self) -> Any:
        return call.Heartbeat()

    def status(self, connector_id: int, status: ConnectorStatus, *, at: datetime) -> Any:
        return call.StatusNotification(
            timestamp=timestamp(at),
            connector_status=_CONNECTOR_STATUS.get(status, "Occupied"),
            evse_id=connector_id,
            connector_id=1,
        )

    def authorize(self, id_tag: str) -> Any:
        return call.Authorize(id_token={"id_token": id_tag, "type": _TOKEN_TYPE})

    def parse_authorize(self, result: Any) -> IdTagInfo:
        return v201.token_info(result.id_token_info)

    def started(self, session: Session, *, at: datetime, offline: bool) -> Draft:
        # The station names its transactions (E01); a uuid never collides across restarts and stations.
        session.transaction_id = session.transaction_id or str(uuid.uuid4())
        info: dict[str, Any] = {"charging_state": "Charging"}
        if session.remote_start_id is not None:
            info["remote_start_id"] = session.remote_start_id
        payload = _transaction_event(
            session,
            "Started",
            trigger="RemoteStart" if session.remote_start_id is not None else "Authorized",
            at=at,
            offline=offline,
            transaction_info=info,
            id_token={"id_token": session.id_tag, "type": _TOKEN_TYPE},
            evse={"id": session.connector_id, "connector_id": 1},
            meter_value=[_sample(session.meter_start_wh, power_w=None, at=at, context="Transaction.Begin")],
        )
        return Draft("TransactionEvent", payload, starts_transaction=True)

    def sampled(self, session: Session, *, register_wh: int, power_w: int, at: datetime, offline: bool) -> Draft:
        state = "Charging" if power_w > 0 else "SuspendedEV"
        payload = _transaction_event(
            session,
            "Updated",
            trigger="MeterValuePeriodic",
            at=at,
            offline=offline,
            transaction_info={"charging_state": state},
            meter_value=[_sample(register_wh, power_w=power_w, at=at, context="Sample.Periodic")],
        )
        return Draft("TransactionEvent", payload)

    def stopped(self, session: Session, *, register_wh: int, reason: str, at: datetime, offline: bool) -> Draft:
        stopped_reason, trigger = _STOPPED.get(reason, ("Other", "AbnormalCondition"))
        info: dict[str, Any] = {"charging_state": "Idle"}
        if stopped_reason != "Local":  # E06: stoppedReason Local is the default and may be left out
            info["stopped_reason"] = stopped_reason
        payload = _transaction_event(
            session,
            "Ended",
            trigger=trigger,
            at=at,
            offline=offline,
            transaction_info=info,
            id_token={"id_token": session.id_tag, "type": _TOKEN_TYPE},
            meter_value=[_sample(register_wh, power_w=None, at=at, context="Transaction.End")],
        )
        return Draft("TransactionEvent", payload, ends_transaction=True)

    def transaction_call(self, action: str, payload: dict[str, Any]) -> Any:
        return getattr(call, action)(**payload)

    def parse_ack(self, action: str, result: Any) -> TxAck:
        info = getattr(result, "id_token_info", None)
        return TxAck(id_tag_info=v201.token_info(info) if info else None)

    def meter_values(self, connector_id: int, *, register_wh: int, at: datetime) -> Any:
        return call.MeterValues(
            evse_id=connector_id, meter_value=[_sample(register_wh, power_w=None, at=at, context="Trigger")]
        )

    def idle_notification(self, message: str) -> Any:
        return call.FirmwareStatusNotification(status="Idle")


DIALECT = Dialect201()
