"""The shared poll of the gateway's observed states: what it answers, and when a failing gateway is an outage."""

import logging
from collections.abc import Callable

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
