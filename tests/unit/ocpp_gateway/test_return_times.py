"""Refused chargers are told to come back one after another, at the pace passwords are checked."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargeops.ocpp_gateway.return_times import ReturnTimes


def test_refused_chargers_come_back_one_spacing_apart_after_the_queue_drains() -> None:
    returns = ReturnTimes()

    times = [returns.time_for(f"CP-{i}", now=100.0, earliest=110.0, spacing_s=0.025) for i in range(4)]

    assert times == pytest.approx([110.0, 110.025, 110.05, 110.075])


def test_a_charger_asking_again_before_its_time_keeps_its_place() -> None:
    returns = ReturnTimes()
    first = returns.time_for("CP-1", now=100.0, earliest=110.0, spacing_s=1.0)
    returns.time_for("CP-2", now=100.0, earliest=110.0, spacing_s=1.0)

    again = returns.time_for("CP-1", now=105.0, earliest=106.0, spacing_s=1.0)
    third = returns.time_for("CP-3", now=105.0, earliest=106.0, spacing_s=1.0)

    assert again == first == 110.0
    assert third == 112.0  # behind CP-2, and CP-1's repeat took no place


def test_a_charger_refused_again_after_its_time_gets_a_new_place_at_the_end() -> None:
    returns = ReturnTimes()
    returns.time_for("CP-1", now=100.0, earliest=110.0, spacing_s=1.0)
    returns.time_for("CP-2", now=100.0, earliest=110.0, spacing_s=1.0)

    assert returns.time_for("CP-1", now=110.5, earliest=110.5, spacing_s=1.0) == 112.0


def test_after_a_quiet_spell_the_first_refused_comes_back_when_the_queue_drains() -> None:
    returns = ReturnTimes()
    returns.time_for("CP-1", now=100.0, earliest=110.0, spacing_s=1.0)

    assert returns.time_for("CP-2", now=500.0, earliest=503.0, spacing_s=1.0) == 503.0


@given(
    refusals=st.lists(
        st.tuples(st.integers(min_value=0, max_value=3_000), st.floats(min_value=0, max_value=5)), max_size=3_000
    ),
    spacing_s=st.floats(min_value=0.001, max_value=1),
)
def test_no_two_chargers_waiting_share_a_place_and_none_comes_back_before_earliest(
    refusals: list[tuple[int, float]], spacing_s: float
) -> None:
    returns = ReturnTimes()
    now = 0.0
    waiting: dict[str, float] = {}
    for charger, step in refusals:
        now += step
        cp_id = f"CP-{charger}"
        back_at = returns.time_for(cp_id, now=now, earliest=now + 1.0, spacing_s=spacing_s)
        if waiting.get(cp_id, -1.0) > now:
            assert back_at == waiting[cp_id]
        else:
            assert back_at >= now + 1.0
        waiting[cp_id] = back_at
        pending = sorted(at for at in waiting.values() if at > now)
        assert all(later - earlier >= spacing_s * 0.999 for earlier, later in itertools.pairwise(pending))
