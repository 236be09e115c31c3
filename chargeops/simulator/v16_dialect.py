"""The messages a simulated OCPP 1.6J charger makes, and the ``dialect.Dialect`` that ties them to ``v16``.

``station`` and ``sessions`` ask for a boot, a status, an authorization or a transaction message; this module
turns each into the ``ocpp`` library's 1.6 call (chapter 4 of the spec) and reads the answers back. Transaction
messages leave ``transaction_id`` at 0: ``offline.TransactionQueue`` writes the real id in when it sends them.
"""

import logging
from datetime import datetime
from typing import Any

from ocpp.v16 import call

from chargeops.api.v1alpha1.charger import OcppVersion
from chargeops.simulator import v16
from chargeops.simulator.clock import timestamp
from chargeops.simulator.dialect import BootResult, Draft, TxAck
from chargeops.simulator.local_list import IdTagInfo
from chargeops.simulator.state import ChargerState, ConnectorStatus, Controls, Session


def _sample(register_wh: int, *, power_w: int | None, at: datetime, context: str) -> dict[str, Any]:
    values = [
        {"value": str(register_wh), "context": context, "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    ]
    if power_w is not None:
        values.append({"value": str(power_w), "context": context, "measurand": "Power.Active.Import", "unit": "W"})
    return {"timestamp": timestamp(at), "sampled_value": values}


class Dialect16:
    """``dialect.Dialect`` for OCPP 1.6J."""

    version = OcppVersion.V16
    subprotocol = "ocpp1.6"

    def charge_point(
        self,
        charge_point_id: str,
        connection: Any,
        *,
        state: ChargerState,
        controls: Controls,
        response_timeout_s: float,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    ) -> v16.ChargePoint16:
        return v16.ChargePoint16(
            charge_point_id,
            connection,
            state=state,
            controls=controls,
            response_timeout_s=response_timeout_s,
            logger=logger,
        )

    def boot(self, *, vendor: str, model: str, firmware_version: str, serial_number: str, reason: str) -> Any:
        return call.BootNotification(
            charge_point_model=model,
            charge_point_vendor=vendor,
            firmware_version=firmware_version,
            charge_point_serial_number=serial_number,
        )

    def parse_boot(self, result: Any) -> BootResult:
        return BootResult(status=str(result.status), interval_s=int(result.interval))

    def heartbeat(self) -> Any:
        return call.Heartbeat()

    def status(self, connector_id: int, status: ConnectorStatus, *, at: datetime) -> Any:
        return call.StatusNotification(
            connector_id=connector_id, error_code="NoError", status=str(status), timestamp=timestamp(at)
        )

    def authorize(self, id_tag: str) -> Any:
        return call.Authorize(id_tag=id_tag)

    def parse_authorize(self, result: Any) -> IdTagInfo:
        return v16.id_tag_info(result.id_tag_info)

    def started(self, session: Session, *, at: datetime, offline: bool) -> Draft:
        payload = {
            "connector_id": session.connector_id,
            "id_tag": session.id_tag,
            "meter_start": session.meter_start_wh,
            "timestamp": timestamp(at),
        }
        return Draft("StartTransaction", payload, local_ref=session.local_ref, starts_transaction=True)

    def sampled(self, session: Session, *, register_wh: int, power_w: int, at: datetime, offline: bool) -> Draft:
        payload = {
            "connector_id": session.connector_id,
            "transaction_id": 0,  # §3.7: replaced with the real id when the message is sent (offline.wire_payload)
            "meter_value": [_sample(register_wh, power_w=power_w, at=at, context="Sample.Periodic")],
        }
        return Draft("MeterValues", payload, local_ref=session.local_ref)

    def stopped(self, session: Session, *, register_wh: int, reason: str, at: datetime, offline: bool) -> Draft:
        payload = {
            "meter_stop": register_wh,
            "timestamp": timestamp(at),
            "transaction_id": 0,  # as in ``sampled``
            "reason": reason,
            "id_tag": session.id_tag,
            "transaction_data": [
                _sample(session.meter_start_wh, power_w=None, at=session.started_at, context="Transaction.Begin"),
                _sample(register_wh, power_w=None, at=at, context="Transaction.End"),
            ],
        }
        return Draft("StopTransaction", payload, local_ref=session.local_ref, ends_transaction=True)

    def transaction_call(self, action: str, payload: dict[str, Any]) -> Any:
        return getattr(call, action)(**payload)

    def parse_ack(self, action: str, result: Any) -> TxAck:
        if action == "StartTransaction":
            return TxAck(transaction_id=int(result.transaction_id), id_tag_info=v16.id_tag_info(result.id_tag_info))
        if action == "StopTransaction" and result.id_tag_info:
            return TxAck(id_tag_info=v16.id_tag_info(result.id_tag_info))
        return TxAck()

    def meter_values(self, connector_id: int, *, register_wh: int, at: datetime) -> Any:
        return call.MeterValues(
            connector_id=connector_id, meter_value=[_sample(register_wh, power_w=None, at=at, context="Trigger")]
        )

    def idle_notification(self, message: str) -> Any:
        if message == "DiagnosticsStatusNotification":
            return call.DiagnosticsStatusNotification(status="Idle")
        return call.FirmwareStatusNotification(status="Idle")


DIALECT = Dialect16()
