"""The simulated chargers and the independent Node charger, checked against a reference central system.

Until the gateway can stand in, ``reference_csms`` (a minimal central system on the ``ocpp`` library) is the
other end of a real websocket on 127.0.0.1. It validates every frame against the OCPP schemas, numbers
transactions from 1001 and records what arrives in order; from its side the tests call ChangeConfiguration,
SendLocalList and the rest on the chargers. Simulated time runs 600 times faster, so a 60 s sample interval
is 0.1 s here.
"""

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ocpp.exceptions import OCPPError
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargeops.api.v1alpha1.charger import OcppVersion
from chargeops.simulator.clock import ScaledClock
from chargeops.simulator.state import Faults
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e import harness, reference_csms
from tests.e2e.reference_csms import PASSWORD, ReferenceCsms

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

SPEED = 600
TRANSACTION_ACTIONS = ("StartTransaction", "MeterValues", "StopTransaction")


@pytest.fixture
async def csms() -> AsyncIterator[ReferenceCsms]:
    central = ReferenceCsms()
    server = await reference_csms.start(central)
    yield central
    server.close()
    await server.wait_closed()


@asynccontextmanager
async def running(csms: ReferenceCsms, charge_point_id: str, **config: Any) -> AsyncIterator[Station]:
    """A station connected to ``csms``, closed afterwards."""
    station = Station(
        StationConfig(charge_point_id, csms.url, password=PASSWORD, reconnect_initial_s=0.05, **config),
        clock=ScaledClock(SPEED),
    )
    task = asyncio.create_task(station.run())
    try:
        await station.wait_online()
        yield station
    finally:
        await station.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def simulated_seconds(seconds: float) -> None:
    await asyncio.sleep(seconds / SPEED)


def register_readings(received: reference_csms.Received) -> list[int]:
    return [
        int(value["value"])
        for meter_value in received.payload.get("meter_value", [])
        for value in meter_value["sampled_value"]
        if value.get("measurand") == "Energy.Active.Import.Register"
    ]


async def test_v16_session_reaches_the_central_system_in_order(csms: ReferenceCsms) -> None:
    async with running(csms, "SIM-ORDER") as station:
        assert await station.start_session("TAG-1") is not None
        await csms.wait_for(lambda: len(csms.of("SIM-ORDER", "MeterValues")) >= 3)
        await station.stop_session(1)
        await station.wait_drained()

    actions = csms.actions("SIM-ORDER")
    assert actions[0] == "BootNotification"
    assert actions.index("Authorize") < actions.index("StartTransaction") < actions.index("StopTransaction")
    start, *samples, stop = csms.of("SIM-ORDER", *TRANSACTION_ACTIONS)
    assert start.action == "StartTransaction"
    assert stop.action == "StopTransaction"
    assert {sample.payload["transaction_id"] for sample in samples} == {start.payload["assigned"]}
    assert stop.payload["transaction_id"] == start.payload["assigned"]
    readings = [
        start.payload["meter_start"],
        *(r for s in samples for r in register_readings(s)),
        stop.payload["meter_stop"],
    ]
    assert readings == sorted(readings)
    assert readings[-1] > readings[0]


async def test_offline_messages_are_delivered_in_order_with_the_real_transaction_id(csms: ReferenceCsms) -> None:
    async with running(csms, "SIM-OFFLINE") as station:
        central = csms.connected["SIM-OFFLINE"]
        offline_tag = [{"idTag": "TAG-OFFLINE", "idTagInfo": {"status": "Accepted"}}]
        await central.call(
            call16.SendLocalList(list_version=1, update_type="Full", local_authorization_list=offline_tag)
        )
        await station.start_session("TAG-ONLINE")
        await csms.wait_for(lambda: len(csms.of("SIM-OFFLINE", "MeterValues")) >= 1)

        await station.go_offline()
        await simulated_seconds(150)
        await station.stop_session(1)
        assert await station.start_session("TAG-OFFLINE") is not None  # from the local list
        await simulated_seconds(150)
        await station.stop_session(1)
        assert await station.start_session("TAG-STRANGER") is None  # unknown offline: refused
        undelivered = len(station.outbox)
        assert undelivered >= 6

        station.go_online()
        await station.wait_online()
        await station.wait_drained()

    messages = csms.of("SIM-OFFLINE", *TRANSACTION_ACTIONS)
    timestamps = [datetime.fromisoformat(m.payload["timestamp"]) for m in messages if "timestamp" in m.payload]
    assert timestamps == sorted(timestamps)
    transactions: list[tuple[int, list[str]]] = []
    for message in messages:
        if message.action == "StartTransaction":
            transactions.append((message.payload["assigned"], []))
        else:
            assert message.payload["transaction_id"] == transactions[-1][0]
        transactions[-1][1].append(message.action)
    assert [transaction_id for transaction_id, _ in transactions] == [1001, 1002]
    for _, actions in transactions:
        assert actions[0] == "StartTransaction"
        assert actions[-1] == "StopTransaction"
        assert set(actions[1:-1]) == {"MeterValues"}
    assert [a.payload["id_tag"] for a in csms.of("SIM-OFFLINE", "Authorize")] == ["TAG-ONLINE"]
    assert station.stats.authorizations_rejected == 1
    assert station.stats.messages_dropped == 0


async def test_local_list_versions_follow_the_spec(csms: ReferenceCsms) -> None:
    def entries(*tags: str) -> list[dict[str, Any]]:
        return [{"idTag": tag, "idTagInfo": {"status": "Accepted"}} for tag in tags]

    async with running(csms, "SIM-LIST") as station:
        central = csms.connected["SIM-LIST"]

        async def send(version: int, update_type: str, items: list[dict[str, Any]]) -> str:
            answer = await central.call(
                call16.SendLocalList(list_version=version, update_type=update_type, local_authorization_list=items)
            )
            return str(answer.status)

        async def version() -> int:
            return int((await central.call(call16.GetLocalListVersion())).list_version)

        assert await version() == 0
        assert await send(1, "Full", entries("A", "B")) == "Accepted"
        assert await version() == 1
        assert await send(1, "Differential", entries("C")) == "VersionMismatch"
        assert await send(3, "Differential", [{"idTag": "A"}, *entries("C")]) == "Accepted"
        assert await version() == 3
        assert sorted(station.state.local_list.entries) == ["B", "C"]
        too_many = entries(*(f"T{n}" for n in range(101)))  # SendLocalListMaxLength is 100
        assert await send(4, "Full", too_many) == "Failed"
        assert await version() == 3
        assert await send(7, "Full", []) == "Accepted"
        assert await version() == 0


async def test_configuration_changes_are_answered_like_a_charger_does(csms: ReferenceCsms) -> None:
    faults = Faults(rejected=frozenset({"MeterValueSampleInterval"}), unanswered=frozenset({"HeartbeatInterval"}))
    async with running(csms, "SIM-CONFIG", faults=faults) as station:
        central = csms.connected["SIM-CONFIG"]

        async def change(key: str, value: str) -> str:
            return str((await central.call(call16.ChangeConfiguration(key=key, value=value))).status)

        assert await change("LocalAuthorizeOffline", "false") == "Accepted"
        assert station.state.settings.local_authorize_offline is False
        assert await change("NumberOfConnectors", "2") == "Rejected"  # read-only
        assert await change("AllowOfflineTxForUnknownId", "maybe") == "Rejected"  # not a boolean
        assert await change("NoSuchKey", "1") == "NotSupported"
        assert await change("WebSocketPingInterval", "30") == "RebootRequired"
        assert await change("MeterValueSampleInterval", "30") == "Rejected"  # fault
        with pytest.raises(asyncio.TimeoutError):
            await change("HeartbeatInterval", "120")  # fault: never answered
        answer = await central.call(call16.GetConfiguration(key=["WebSocketPingInterval", "NoSuchKey"]))
        assert answer.configuration_key == [{"key": "WebSocketPingInterval", "readonly": False, "value": "0"}]
        assert answer.unknown_key == ["NoSuchKey"]


async def test_remote_start_and_stop_run_a_session(csms: ReferenceCsms) -> None:
    async with running(csms, "SIM-REMOTE") as station:
        central = csms.connected["SIM-REMOTE"]
        answer = await central.call(call16.RemoteStartTransaction(id_tag="TAG-R", connector_id=1))
        assert answer.status == "Accepted"
        await csms.wait_for(lambda: bool(csms.of("SIM-REMOTE", "StartTransaction")))
        transaction_id = csms.of("SIM-REMOTE", "StartTransaction")[0].payload["assigned"]
        # The central system records the start before answering it; wait until the charger has the answer.
        await csms.wait_for(lambda: station.state.connector_of_transaction(str(transaction_id)) is not None)
        assert (await central.call(call16.RemoteStopTransaction(transaction_id=transaction_id))).status == "Accepted"
        await csms.wait_for(lambda: bool(csms.of("SIM-REMOTE", "StopTransaction")))
        stop = csms.of("SIM-REMOTE", "StopTransaction")[0].payload
        assert stop["transaction_id"] == transaction_id
        assert stop["reason"] == "Remote"
        assert (await central.call(call16.RemoteStopTransaction(transaction_id=999))).status == "Rejected"


async def test_reset_stops_the_session_reboots_and_applies_pending_keys(csms: ReferenceCsms) -> None:
    async with running(csms, "SIM-RESET") as station:
        central = csms.connected["SIM-RESET"]
        assert (await central.call(call16.ChangeConfiguration(key="WebSocketPingInterval", value="30"))).status == (
            "RebootRequired"
        )
        triggered = await central.call(call16.TriggerMessage(requested_message="BootNotification"))
        assert triggered.status == "Accepted"
        await csms.wait_for(lambda: csms.actions("SIM-RESET").count("BootNotification") == 2)
        await station.start_session("TAG-1")
        assert (await central.call(call16.Reset(type="Soft"))).status == "Accepted"
        await csms.wait_for(lambda: csms.actions("SIM-RESET").count("BootNotification") == 3)
        await station.wait_online()
        await station.wait_drained()
        assert station.state.settings.value("WebSocketPingInterval") == "30"
    stop = csms.of("SIM-RESET", "StopTransaction")[0].payload
    assert stop["reason"] == "SoftReset"


async def test_an_id_tag_the_central_system_refuses_does_not_charge(csms: ReferenceCsms) -> None:
    csms.accepted_tags = {"GOOD"}
    async with running(csms, "SIM-REFUSED") as station:
        assert await station.start_session("BAD") is None
        assert await station.start_session("GOOD") is not None
    assert [a.payload["id_tag"] for a in csms.of("SIM-REFUSED", "Authorize")] == ["BAD", "GOOD"]
    assert [s.payload["id_tag"] for s in csms.of("SIM-REFUSED", "StartTransaction")] == ["GOOD"]


async def test_v201_transaction_events_count_seq_no_and_flag_offline(csms: ReferenceCsms) -> None:
    async with running(csms, "SIM-201", ocpp_version=OcppVersion.V201) as station:
        central = csms.connected["SIM-201"]
        await station.start_session("TAG-201")
        await csms.wait_for(lambda: len(csms.of("SIM-201", "TransactionEvent")) >= 2)
        await station.go_offline()
        await simulated_seconds(150)
        await station.stop_session(1)
        station.go_online()
        await station.wait_online()
        await station.wait_drained()
        central = await csms.wait_connected("SIM-201")
        removal = [{"id_token": {"id_token": "TAG-201", "type": "ISO14443"}}]
        answer = await central.call(
            call201.SendLocalList(version_number=0, update_type="Differential", local_authorization_list=removal)
        )
        assert answer.status == "VersionMismatch"  # D01: a Differential must carry a newer version

    events = [e.payload for e in csms.of("SIM-201", "TransactionEvent")]
    assert [e["seq_no"] for e in events] == list(range(len(events)))
    assert [e["event_type"] for e in events][0 :: len(events) - 1] == ["Started", "Ended"]
    assert {e["transaction_info"]["transaction_id"] for e in events} == {
        events[0]["transaction_info"]["transaction_id"]
    }
    flags = [e.get("offline", False) for e in events]
    assert flags[0] is False
    assert flags[-1] is True
    assert flags == sorted(flags)  # online first, offline from the cut on


async def test_v201_variables_and_free_charging(csms: ReferenceCsms) -> None:
    def variable(component: str, name: str, value: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"component": {"name": component}, "variable": {"name": name}}
        return item if value is None else {**item, "attribute_value": value}

    async with running(csms, "SIM-201-VARS", ocpp_version=OcppVersion.V201) as station:
        central = csms.connected["SIM-201-VARS"]
        answer = await central.call(
            call201.SetVariables(
                set_variable_data=[
                    variable("AuthCtrlr", "Enabled", "false"),
                    variable("LocalAuthListCtrlr", "ItemsPerMessage", "5"),
                    variable("NoSuchCtrlr", "Enabled", "true"),
                    variable("OCPPCommCtrlr", "WebSocketPingInterval", "30"),
                ]
            )
        )
        statuses = [result["attribute_status"] for result in answer.set_variable_result]
        assert statuses == ["Accepted", "Rejected", "UnknownComponent", "RebootRequired"]
        answer = await central.call(
            call201.GetVariables(get_variable_data=[variable("OCPPCommCtrlr", "HeartbeatInterval")])
        )
        assert answer.get_variable_result[0]["attribute_value"] == "300"
        assert await station.start_session("ANYONE") is not None  # AuthCtrlr.Enabled false: no Authorize
        await station.stop_session(1)
        await station.wait_drained()
    assert csms.of("SIM-201-VARS", "Authorize") == []


async def run_node_charger(csms: ReferenceCsms, *args: str) -> tuple[int, list[dict[str, Any]]]:
    return await harness.run_node_charger(csms.url, PASSWORD, *args)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_independent_charger_runs_a_session_and_answers_convergence_calls(
    csms: ReferenceCsms, version: str
) -> None:
    charge_point_id = f"NODE-{version}"
    node = asyncio.create_task(run_node_charger(csms, "--id", charge_point_id, "--version", version, "--id-tag", "T1"))
    central = await csms.wait_connected(charge_point_id)
    await csms.wait_for(lambda: "BootNotification" in csms.actions(charge_point_id))
    if version == "1.6":
        assert (
            await central.call(call16.ChangeConfiguration(key="LocalAuthListEnabled", value="true"))
        ).status == "Accepted"
        assert (await central.call(call16.ChangeConfiguration(key="NoSuchKey", value="1"))).status == "NotSupported"
        items = [{"idTag": "T1", "idTagInfo": {"status": "Accepted"}}]
        listed = await central.call(
            call16.SendLocalList(list_version=2, update_type="Full", local_authorization_list=items)
        )
        assert listed.status == "Accepted"
        assert (await central.call(call16.GetLocalListVersion())).list_version == 2
    else:
        enabled = {
            "component": {"name": "LocalAuthListCtrlr"},
            "variable": {"name": "Enabled"},
            "attribute_value": "true",
        }
        assert (await central.call(call201.SetVariables(set_variable_data=[enabled]))).set_variable_result[0][
            "attribute_status"
        ] == "Accepted"
        items = [{"id_token": {"id_token": "T1", "type": "ISO14443"}, "id_token_info": {"status": "Accepted"}}]
        listed = await central.call(
            call201.SendLocalList(version_number=2, update_type="Full", local_authorization_list=items)
        )
        assert listed.status == "Accepted"
        assert (await central.call(call201.GetLocalListVersion())).version_number == 2
    returncode, lines = await node
    summary = lines[-1]["summary"]
    assert returncode == 0, summary
    assert summary["failures"] == []
    assert summary["localListVersion"] == 2
    assert summary["authorizeStatus"] == "Accepted"
    assert summary["startStatus"] == "Accepted"
    if version == "1.6":
        assert summary["transactionId"] == csms.of(charge_point_id, "StartTransaction")[0].payload["assigned"]
    else:
        assert summary["seqNos"] == len(csms.of(charge_point_id, "TransactionEvent"))


async def test_independent_charger_fails_on_a_call_that_breaks_the_schema(csms: ReferenceCsms) -> None:
    node = asyncio.create_task(run_node_charger(csms, "--id", "NODE-STRICT", "--version", "1.6"))
    central = await csms.wait_connected("NODE-STRICT")
    await csms.wait_for(lambda: "BootNotification" in csms.actions("NODE-STRICT"))
    # ChangeConfiguration.req key is CiString50: strict mode refuses the call with a CALLERROR.
    with pytest.raises(OCPPError):
        await central.call(
            call16.ChangeConfiguration(key="K" * 51, value="1"), suppress=False, skip_schema_validation=True
        )
    returncode, lines = await node
    assert returncode == 1
    assert {failure["kind"] for failure in lines[-1]["summary"]["failures"]} >= {"callError"}


async def test_simulate_command_runs_a_fleet_and_prints_a_summary(csms: ReferenceCsms) -> None:
    chargeops = Path(sys.executable).parent / "chargeops"
    process = await asyncio.create_subprocess_exec(
        str(chargeops), "simulate", "--gateway", csms.url, "--chargers", "5", "--password", PASSWORD,
        "--clock-speed", "7200", "--sessions-per-day", "6", "--duration", "3", "--progress-interval", "1",
        "--seed", "1",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await asyncio.wait_for(process.communicate(), 30)
    output = stdout.decode()
    assert process.returncode == 0, output
    assert "online 5/5" in output
    assert "chargers online at the end  5/5" in output
    assert len({r.charge_point_id for r in csms.of_action("BootNotification")}) == 5
    assert csms.of_action("StartTransaction"), output
