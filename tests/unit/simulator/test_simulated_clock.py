"""Simulated time: a manual clock steps sleepers in order, a scaled clock runs faster, timestamps are OCPP's."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

from chargeops.simulator.clock import ManualClock, ScaledClock, timestamp

START = datetime(2025, 1, 31, 23, 59, tzinfo=UTC)


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock(START)
    woke: list[tuple[str, datetime]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper("late", 90)), asyncio.create_task(sleeper("early", 30))]
    await asyncio.sleep(0)
    await clock.advance(60)
    assert woke == [("early", START + timedelta(seconds=30))]
    await clock.advance(60)
    assert [name for name, _ in woke] == ["early", "late"]
    assert clock.now() == START + timedelta(seconds=120)
    await asyncio.gather(*tasks)


async def test_scaled_clock_passes_a_simulated_hour_in_a_fraction_of_a_second() -> None:
    clock = ScaledClock(36_000, start=START)
    began = time.monotonic()
    await clock.sleep(3_600)
    assert time.monotonic() - began < 1.0
    assert clock.now() - START >= timedelta(hours=1)


def test_timestamps_are_utc_with_milliseconds() -> None:
    assert timestamp(datetime(2025, 2, 1, 0, 0, 5, 123456, tzinfo=UTC)) == "2025-02-01T00:00:05.123Z"
