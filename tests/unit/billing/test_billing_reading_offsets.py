"""Readings as columns (``ReadingOffsets``, what the billing pass lists) price a session exactly as the same
readings as records do: the same profile, the same parts, or the same refusal."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargeops.api.gateway import MeterReading
from chargeops.api.v1alpha1 import TariffSpec
from chargeops.billing import pricing
from chargeops.billing.energy_profile import EnergyProfile, ReadingOffsets
from chargeops.billing.errors import SessionNotBillableError
from tests.unit.billing.builders import METER_START_WH, charging_time, element, energy, flat, parking, session, tariff

START = datetime(2026, 10, 30, 21, 15, 0, 250_000, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
TARIFFS = (
    tariff(element(energy("0.32", vat="21"))),
    tariff(
        element(energy("0.19"), start_time="23:00", end_time="07:00"),
        element(energy("0.36"), charging_time("0.60", step=60), parking("1.50", step=900), flat("0.35")),
    ),
)


def as_columns(readings: list[MeterReading]) -> ReadingOffsets:
    return ReadingOffsets([(r.timestamp - START) // MICROSECOND for r in readings], [r.energy_wh for r in readings])


@st.composite
def readings_of_a_session(draw: st.DrawFn) -> tuple[int, int, list[MeterReading]]:
    """(duration in µs, energy, readings): readings in any order, some outside the session, some repeated or
    going backwards, so the refusals are compared too."""
    duration_us = draw(st.integers(0, 3 * 86_400_000_000))
    total = draw(st.integers(0, 80_000))
    points = draw(
        st.lists(st.tuples(st.integers(-1_000_000, duration_us + 1_000_000), st.integers(-10, total + 10)), max_size=12)
    )
    if draw(st.booleans()):  # mostly a register that only rises, as chargers report it
        points = sorted({offset: 0 for offset, _ in points}.items())
        points = [(offset, min(total, index * 997)) for index, (offset, _) in enumerate(points)]
    found = [
        MeterReading(timestamp=START + offset * MICROSECOND, energy_wh=METER_START_WH + wh) for offset, wh in points
    ]
    return duration_us, total, found


@settings(max_examples=300)
@given(readings_of_a_session(), st.sampled_from(TARIFFS))
def test_columns_price_a_session_as_the_records_do(case: tuple[int, int, list[MeterReading]], spec: TariffSpec) -> None:
    duration_us, total, readings = case
    billed = session(START, START + duration_us * MICROSECOND, total)
    try:
        profile = EnergyProfile.of(billed, readings)
    except SessionNotBillableError as error:
        with pytest.raises(type(error), match=re.escape(str(error))):
            EnergyProfile.of(billed, as_columns(readings))
        return
    assert EnergyProfile.of(billed, as_columns(readings)) == profile
    expected = pricing.session_parts(billed, readings, tariff=spec, time_zone="Europe/Amsterdam")
    assert pricing.session_parts(billed, as_columns(readings), tariff=spec, time_zone="Europe/Amsterdam") == expected
