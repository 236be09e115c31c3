"""Relayed commands: the holder's answer or error comes back to the caller; silence ends in a timeout.

Two relays on one in-process bus stand for two replicas on one PostgreSQL channel (every listener hears
every notification, as with NOTIFY); ``tests/e2e/test_gateway_replicas.py`` runs the real thing.
"""

import asyncio
from typing import Any

import pytest

from chargeops.ocpp_gateway.control import commands
from chargeops.ocpp_gateway.errors import (
    ChargerNotConnectedError,
    ChargerRefusedError,
    ChargerTimeoutError,
    RelayFailedError,
)
from chargeops.ocpp_gateway.relay import CommandRelay
from chargeops.ocpp_gateway.store.replicas import COMMANDS_CHANNEL


class Bus:
    """Every relay hears every notification, its own included."""

    def __init__(self) -> None:
        self.relays: list[CommandRelay] = []
        self.sent: list[str] = []

    async def notify(self, channel: str, payload: str) -> None:
        assert channel == COMMANDS_CHANNEL
        self.sent.append(payload)
        for relay in self.relays:
            relay.heard(payload)


def replica(bus: Bus, replica_id: str, run_here: Any, timeout_s: float = 5.0) -> CommandRelay:
    relay = CommandRelay(replica_id=replica_id, notify=bus.notify, run_here=run_here, timeout_s=timeout_s)
    bus.relays.append(relay)
    return relay


async def nothing_here(cp_id: str, name: str, command: commands.Command) -> dict[str, Any]:
    raise AssertionError(f"{name} for {cp_id} ran on the replica that relayed it")


STOP = commands.RemoteStopTransaction(transaction_id=42)


async def test_the_holder_runs_the_command_and_its_answer_comes_back() -> None:
    bus = Bus()
    ran: list[tuple[str, str, commands.Command]] = []

    async def holder_runs(cp_id: str, name: str, command: commands.Command) -> dict[str, Any]:
        ran.append((cp_id, name, command))
        return {"status": "Accepted"}

    asking = replica(bus, "a", nothing_here)
    replica(bus, "b", holder_runs)
    replica(bus, "c", nothing_here)

    answer = await asking.send("b", "CP-1", "remote-stop-transaction", STOP)

    assert answer == {"status": "Accepted"}
    assert ran == [("CP-1", "remote-stop-transaction", STOP)]


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (ChargerRefusedError("refused", charge_point_id="CP-1"), ChargerRefusedError),
        (ChargerTimeoutError("no answer", charge_point_id="CP-1"), ChargerTimeoutError),
        (ChargerNotConnectedError("gone", charge_point_id="CP-1"), ChargerNotConnectedError),
        (RuntimeError("bug"), RelayFailedError),
    ],
)
async def test_the_holders_error_comes_back_as_the_same_error(raised: Exception, expected: type[Exception]) -> None:
    bus = Bus()

    async def holder_fails(cp_id: str, name: str, command: commands.Command) -> dict[str, Any]:
        raise raised

    asking = replica(bus, "a", nothing_here)
    replica(bus, "b", holder_fails)

    with pytest.raises(expected) as error:
        await asking.send("b", "CP-1", "remote-stop-transaction", STOP)
    assert type(error.value) is expected
    assert "CP-1" in str(error.value) or str(raised) in str(error.value)


async def test_a_holder_that_never_answers_ends_in_a_timeout_naming_it() -> None:
    bus = Bus()
    asking = replica(bus, "a", nothing_here, timeout_s=0.05)  # no replica "b" listens: it died

    with pytest.raises(ChargerTimeoutError, match="replica b, which holds it, did not answer"):
        await asking.send("b", "CP-1", "remote-stop-transaction", STOP)


async def test_notifications_for_others_and_foreign_payloads_are_ignored() -> None:
    bus = Bus()
    ran: list[str] = []

    async def runs(cp_id: str, name: str, command: commands.Command) -> dict[str, Any]:
        ran.append(cp_id)
        return {}

    listening = replica(bus, "b", runs)
    for payload in ('{"kind": "request", "to": "c"}', "not json", '{"to": "b"}', "[1, 2]", '{"to": "b", "kind": "x"}'):
        listening.heard(payload)
    await asyncio.sleep(0)

    assert ran == []
