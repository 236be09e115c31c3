"""The meter register only grows and loses no energy to rounding; the power profile stays in bounds."""

from hypothesis import given
from hypothesis import strategies as st

from chargeops.simulator.meter import MeterRegister, PowerProfile

steps = st.lists(st.tuples(st.integers(0, 350_000), st.integers(0, 3_600_000)), max_size=60)


@given(start_wh=st.integers(0, 10**9), steps=steps)
def test_register_never_decreases_and_energy_is_the_sum_of_increments(
    start_wh: int, steps: list[tuple[int, int]]
) -> None:
    register = MeterRegister(energy_wh=start_wh)
    readings = [start_wh]
    increments = []
    for power_w, elapsed_ms in steps:
        increments.append(register.advance(power_w=power_w, elapsed_ms=elapsed_ms))
        readings.append(register.energy_wh)
    assert readings == sorted(readings)
    assert register.energy_wh - start_wh == sum(increments)
    # Nothing is rounded away: the register shows the whole Wh of all the energy delivered so far.
    assert register.energy_wh - start_wh == sum(p * ms for p, ms in steps) // 3_600_000


@given(steps=steps)
def test_many_small_steps_add_up_like_one_big_one(steps: list[tuple[int, int]]) -> None:
    power_w = 7_400
    total_ms = sum(ms for _, ms in steps)
    split, whole = MeterRegister(), MeterRegister()
    for _, elapsed_ms in steps:
        split.advance(power_w=power_w, elapsed_ms=elapsed_ms)
    whole.advance(power_w=power_w, elapsed_ms=total_ms)
    assert split.energy_wh == whole.energy_wh


def test_an_hour_at_eleven_kilowatts_is_eleven_kilowatt_hours() -> None:
    register = MeterRegister()
    for _ in range(60):
        register.advance(power_w=11_000, elapsed_ms=60_000)
    assert register.energy_wh == 11_000


@given(
    max_power_w=st.integers(1_000, 350_000),
    need_wh=st.integers(1, 200_000),
    elapsed_s=st.integers(0, 86_400),
    delivered_wh=st.integers(0, 250_000),
)
def test_power_stays_between_zero_and_the_plateau(
    max_power_w: int, need_wh: int, elapsed_s: int, delivered_wh: int
) -> None:
    profile = PowerProfile(max_power_w=max_power_w, energy_need_wh=need_wh)
    power_w = profile.power_w(elapsed_s=elapsed_s, delivered_wh=delivered_wh)
    assert 0 <= power_w <= max_power_w
    assert (power_w == 0) == profile.is_full(delivered_wh)


def test_the_ev_ramps_up_then_tapers_as_it_fills() -> None:
    profile = PowerProfile(max_power_w=11_000, energy_need_wh=10_000, ramp_s=30)
    assert profile.power_w(elapsed_s=0, delivered_wh=0) < profile.power_w(elapsed_s=15, delivered_wh=0)
    assert profile.power_w(elapsed_s=600, delivered_wh=1_000) == 11_000
    assert profile.power_w(elapsed_s=3_000, delivered_wh=9_500) < 11_000
    assert profile.power_w(elapsed_s=3_600, delivered_wh=10_000) == 0
