"""The shared poll of the gateway's observed states: what it answers, and when a failing gateway is an outage."""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from chargeops.api.gateway import ObservedState
from chargeops.operator import observations
from chargeops.operator.errors import GatewayUnreachableError, OperatorError
from chargeops.operator.observations import Observations

LOG = logging.getLogger("test")
DOWN = GatewayUnreachableError("Gateway http://gw is unreachable: connection refused")


class Gateway:
    """Answers ``GET /v1/chargers`` with ``answer``, or raises it."""

    def __init__(self) -> None:
        self.answer: list[ObservedState] | OperatorError = []
        self.meanwhile: Callable[[], None] = lambda: None
        """What happens while the request is on its way."""

    async def all_observed(self) -> list[ObservedState]:
        self.meanwhile()
        if isinstance(self.answer, OperatorError):
            raise self.answer
        return self.answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def polling() -> tuple[Gateway, Clock, Observations]:
    gateway, clock = Gateway(), Clock()
    return gateway, clock, Observations(gateway, clock=clock)


async def test_nothing_is_known_before_the_first_answer() -> None:
    gateway, _, seen = polling()
    gateway.answer = DOWN
    await seen.poll(LOG)

    assert seen.get("CP-1") is None


async def test_a_charger_the_gateway_never_saw_has_an_empty_state() -> None:
    gateway, _, seen = polling()
    gateway.answer = [ObservedState(charge_point_id="CP-1", connected=True)]
    await seen.poll(LOG)

    assert seen.get("CP-1") == ObservedState(charge_point_id="CP-1", connected=True)
    assert seen.get("CP-2") == ObservedState(charge_point_id="CP-2")


async def test_failed_polls_keep_the_last_answer_and_are_no_outage_at_first() -> None:
    gateway, clock, seen = polling()
    gateway.answer = [ObservedState(charge_point_id="CP-1", connected=True)]
    await seen.poll(LOG)
    gateway.answer = DOWN
    for _ in range(observations.OUTAGE_POLLS - 1):
        clock.now += 1
        await seen.poll(LOG)

    assert seen.outage() is None
    assert seen.failures == observations.OUTAGE_POLLS - 1
    assert seen.get("CP-1") == ObservedState(charge_point_id="CP-1", connected=True)


async def test_enough_failed_polls_in_a_row_are_an_outage_with_the_last_error() -> None:
    gateway, clock, seen = polling()
    gateway.answer = DOWN
    for _ in range(observations.OUTAGE_POLLS):
        clock.now += 1
        await seen.poll(LOG)

    assert seen.outage() is DOWN


async def test_a_long_failure_is_an_outage_even_after_fewer_polls() -> None:
    gateway, clock, seen = polling()
    gateway.answer = DOWN
    await seen.poll(LOG)
    clock.now += observations.OUTAGE_S

    assert seen.outage() is DOWN


async def test_an_answer_ends_the_outage() -> None:
    gateway, clock, seen = polling()
    gateway.answer = DOWN
    for _ in range(observations.OUTAGE_POLLS):
        await seen.poll(LOG)
    gateway.answer = [ObservedState(charge_point_id="CP-1")]
    clock.now += 1
    await seen.poll(LOG)

    assert seen.outage() is None
    assert seen.failures == 0
    assert seen.polled_at == clock.now


async def test_a_state_read_while_a_poll_was_on_its_way_outlives_that_polls_answer() -> None:
    gateway, clock, seen = polling()
    await seen.poll(LOG)
    converged = ObservedState(charge_point_id="CP-1", connected=True, applied_revision=2)

    def handler_reads_on_its_own() -> None:
        clock.now += 1
        seen.remember(converged)

    gateway.answer = [ObservedState(charge_point_id="CP-1", connected=True, applied_revision=1)]
    gateway.meanwhile = handler_reads_on_its_own
    await seen.poll(LOG)
    assert seen.get("CP-1") == converged

    gateway.meanwhile = lambda: None
    gateway.answer = [ObservedState(charge_point_id="CP-1", connected=True, applied_revision=3)]
    clock.now += 1
    await seen.poll(LOG)
    assert seen.get("CP-1") == ObservedState(charge_point_id="CP-1", connected=True, applied_revision=3)


async def changed_within(seen: Observations, cp_id: str, timeout_s: float = 0.05) -> bool:
    """Whether ``next_change`` returned before its timeout."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    await seen.next_change(cp_id, timeout_s)
    return loop.time() - started < timeout_s


async def test_a_timer_looks_at_once_the_first_time_then_waits_for_a_change() -> None:
    gateway, _, seen = polling()
    gateway.answer = [ObservedState(charge_point_id="CP-1")]
    await seen.poll(LOG)

    assert await changed_within(seen, "CP-1")
    assert not await changed_within(seen, "CP-1")


async def test_a_poll_that_finds_the_charger_changed_wakes_its_timer() -> None:
    gateway, _, seen = polling()
    gateway.answer = [ObservedState(charge_point_id="CP-1"), ObservedState(charge_point_id="CP-2")]
    await seen.poll(LOG)
    for cp_id in ("CP-1", "CP-2"):
        await seen.next_change(cp_id, 0.01)

    gateway.answer = [ObservedState(charge_point_id="CP-1", connected=True), ObservedState(charge_point_id="CP-2")]
    await seen.poll(LOG)

    assert await changed_within(seen, "CP-1")
    assert not await changed_within(seen, "CP-2")


async def test_a_charger_that_only_talked_again_is_no_change() -> None:
    gateway, _, seen = polling()
    first = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    gateway.answer = [ObservedState(charge_point_id="CP-1", connected=True, last_seen=first)]
    await seen.poll(LOG)
    await seen.next_change("CP-1", 0.01)

    gateway.answer = [ObservedState(charge_point_id="CP-1", connected=True, last_seen=first + timedelta(seconds=40))]
    await seen.poll(LOG)

    assert not await changed_within(seen, "CP-1")


async def test_an_outage_wakes_every_timer() -> None:
    gateway, clock, seen = polling()
    gateway.answer = [ObservedState(charge_point_id="CP-1")]
    await seen.poll(LOG)
    await seen.next_change("CP-1", 0.01)
    gateway.answer = DOWN
    for _ in range(observations.OUTAGE_POLLS):
        clock.now += 1
        await seen.poll(LOG)

    assert await changed_within(seen, "CP-1")


async def test_polls_come_faster_for_a_while_after_a_hand_over() -> None:
    _, clock, seen = polling()
    assert seen.pause_s(30.0, took_s=0.5) == 29.5

    seen.expect_changes()
    assert seen.pause_s(30.0, took_s=0.5) == observations.BUSY_POLL_S - 0.5
    assert seen.pause_s(1.0, took_s=0.5) == 0.5

    clock.now += observations.BUSY_WINDOW_S
    assert seen.pause_s(30.0, took_s=0.5) == 29.5
