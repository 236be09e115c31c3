"""Who may charge, online and offline, and what a session queues: ``sessions`` over a fake connection."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.v16 import call_result

from chargeops.simulator import errors, station_config, v16_dialect
from chargeops.simulator.clock import ManualClock
from chargeops.simulator.local_list import IdTagInfo, ListEntry, UpdateType
from chargeops.simulator.outbox import Outbox
from chargeops.simulator.sessions import Sessions
from chargeops.simulator.state import ChargerState
from chargeops.simulator.stats import StationStats

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class FakeChannel:
    """A connection whose central system accepts the tags in ``accepted``."""

    online: bool = True
    accepted: set[str] = field(default_factory=set)
    sent: list[str] = field(default_factory=list)

    async def request(self, payload: Any) -> Any:
        action = type(payload).__name__
        if not self.online:
            raise errors.NotConnectedError("offline", charge_point_id="UNIT")
        self.sent.append(action)
        if action == "Authorize":
            status = "Accepted" if payload.id_tag in self.accepted else "Invalid"
            return call_result.Authorize(id_tag_info={"status": status})
        return call_result.StatusNotification()


def charger(channel: FakeChannel, **configuration: str) -> tuple[Sessions, ChargerState, ManualClock]:
    config = station_config.StationConfig("UNIT", "ws://unused", configuration=configuration)
    state = station_config.charger_state(config)
    clock = ManualClock(START)
    stats = StationStats()
    logger = __import__("logging").getLogger("test")
    outbox = Outbox(state, channel=channel, dialect=v16_dialect.DIALECT, clock=clock, stats=stats, logger=logger)
    sessions = Sessions(
        state, channel=channel, outbox=outbox, dialect=v16_dialect.DIALECT, clock=clock, stats=stats, logger=logger
    )
    return sessions, state, clock


def listed(state: ChargerState, **tags: str) -> None:
    entries = [ListEntry(tag, IdTagInfo(status)) for tag, status in tags.items()]
    state.local_list.apply(1, UpdateType.FULL, entries)


async def test_online_the_central_system_decides() -> None:
    channel = FakeChannel(accepted={"GOOD"})
    sessions, state, _ = charger(channel)
    assert await sessions.start("BAD") is None
    assert await sessions.start("GOOD") is not None
    assert channel.sent.count("Authorize") == 2
    assert [m.action for m in state.queue] == ["StartTransaction"]


async def test_local_pre_authorize_skips_the_round_trip_for_listed_tags() -> None:
    channel = FakeChannel()
    sessions, state, _ = charger(channel, LocalPreAuthorize="true")
    listed(state, LISTED="Accepted")
    assert await sessions.start("LISTED") is not None
    assert "Authorize" not in channel.sent


@pytest.mark.parametrize(
    ("configuration", "tag", "starts"),
    [
        ({}, "LISTED", True),  # LocalAuthorizeOffline defaults to true
        ({"LocalAuthorizeOffline": "false"}, "LISTED", False),
        ({"LocalAuthListEnabled": "false"}, "LISTED", False),  # the list is not consulted
        ({}, "STRANGER", False),
        ({"AllowOfflineTxForUnknownId": "true"}, "STRANGER", True),
        ({"AllowOfflineTxForUnknownId": "true"}, "BLOCKED", False),  # known and refused beats unknown
    ],
)
async def test_offline_authorization_follows_the_configuration(
    configuration: dict[str, str], tag: str, starts: bool
) -> None:
    channel = FakeChannel(online=False)
    sessions, state, _ = charger(channel, **configuration)
    listed(state, LISTED="Accepted", BLOCKED="Blocked")
    session = await sessions.start(tag)
    assert (session is not None) is starts
    assert channel.sent == []
    if starts:
        (start,) = state.queue
        assert start.queued_offline
        assert start.starts_transaction


async def test_a_running_session_samples_the_register_and_stops_with_its_reading() -> None:
    channel = FakeChannel(online=False)
    sessions, state, clock = charger(channel, AllowOfflineTxForUnknownId="true", MeterValueSampleInterval="60")
    session = await sessions.start("ANY")
    assert session is not None
    for _ in range(3):
        await clock.advance(60)
    stopped = await sessions.stop(1)
    assert stopped is session
    actions = [m.action for m in state.queue]
    assert actions == ["StartTransaction", "MeterValues", "MeterValues", "MeterValues", "StopTransaction"]
    readings = [
        int(m.payload["meter_value"][0]["sampled_value"][0]["value"]) for m in state.queue if m.action == "MeterValues"
    ]
    stop = list(state.queue)[-1].payload
    assert readings == sorted(readings)
    assert readings[0] > 0
    assert stop["meter_stop"] == state.connectors[1].register.energy_wh >= readings[-1]
    assert stop["timestamp"] == "2025-03-01T08:03:00.000Z"
