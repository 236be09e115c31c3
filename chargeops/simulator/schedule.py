"""When simulated drivers charge and when chargers lose their connection, and the loop that makes it happen.

``fleet`` gives each station ``Habits`` and runs ``drive()`` beside ``Station.run()``. Arrivals are a Poisson
process (exponential gaps at ``sessions_per_day``), one connector at a time, so a connector's sessions never
overlap; each session gets a duration, an id tag and a ``PowerProfile`` drawn from the habits. Offline periods
are a second Poisson process. ``next_session`` and ``next_offline`` are pure (a seeded ``random.Random`` in,
a plan out), so a run with the same seed makes the same month; ``drive`` only sleeps on the station's clock
and calls the station.
"""

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chargeops.simulator.meter import PowerProfile
from chargeops.simulator.station import Station

_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Habits:
    """How a station is used: how often, how long, by whom, how hard; and how often its network fails."""

    sessions_per_day: float = 2.0
    """Mean arrivals per connector per day."""

    id_tags: Sequence[str] = ("SIM-TAG-1", "SIM-TAG-2", "SIM-TAG-3")
    """Id tags drivers present, chosen uniformly."""

    min_duration_s: int = 30 * 60
    """Shortest plug-in time."""

    max_duration_s: int = 4 * 3600
    """Longest plug-in time."""

    max_power_choices_w: Sequence[int] = (3_700, 7_400, 11_000, 22_000)
    """What the EVs draw at most: one-phase 16 A up to three-phase 32 A."""

    min_energy_need_wh: int = 5_000
    """Least energy an EV wants."""

    max_energy_need_wh: int = 50_000
    """Most energy an EV wants."""

    offline_per_day: float = 0.0
    """Mean connection losses per day."""

    min_offline_s: int = 5 * 60
    """Shortest connection loss."""

    max_offline_s: int = 2 * 3600
    """Longest connection loss."""


@dataclass(frozen=True)
class SessionPlan:
    """One driver's visit to a connector."""

    start_at: datetime
    duration_s: int
    id_tag: str
    profile: PowerProfile


@dataclass(frozen=True)
class OfflinePlan:
    """One connection loss."""

    start_at: datetime
    duration_s: int


def next_session(rng: random.Random, *, after: datetime, habits: Habits) -> SessionPlan:
    """The visit that follows a connector becoming free at ``after``."""
    gap_s = rng.expovariate(habits.sessions_per_day / _SECONDS_PER_DAY)
    profile = PowerProfile(
        max_power_w=rng.choice(list(habits.max_power_choices_w)),
        energy_need_wh=rng.randint(habits.min_energy_need_wh, habits.max_energy_need_wh),
    )
    return SessionPlan(
        start_at=after + timedelta(seconds=gap_s),
        duration_s=rng.randint(habits.min_duration_s, habits.max_duration_s),
        id_tag=rng.choice(list(habits.id_tags)),
        profile=profile,
    )


def next_offline(rng: random.Random, *, after: datetime, habits: Habits) -> OfflinePlan | None:
    """The connection loss after ``after``; None when the habits have none."""
    if habits.offline_per_day <= 0:
        return None
    gap_s = rng.expovariate(habits.offline_per_day / _SECONDS_PER_DAY)
    return OfflinePlan(
        start_at=after + timedelta(seconds=gap_s),
        duration_s=rng.randint(habits.min_offline_s, habits.max_offline_s),
    )


async def drive(station: Station, *, habits: Habits, rng: random.Random) -> None:
    """Make ``station`` live by its habits until cancelled: sessions on every connector, offline periods."""
    # One generator per loop, seeded from ``rng``: the loops interleave by timing, the draws stay reproducible.
    async with asyncio.TaskGroup() as group:
        for connector_id in station.state.connectors:
            visits_rng = random.Random(rng.random())  # noqa: S311  # simulation, not secrets
            group.create_task(_visits(station, connector_id, habits=habits, rng=visits_rng))
        if habits.offline_per_day > 0:
            outages_rng = random.Random(rng.random())  # noqa: S311
            group.create_task(_outages(station, habits=habits, rng=outages_rng))


async def _visits(station: Station, connector_id: int, *, habits: Habits, rng: random.Random) -> None:
    clock = station.clock
    if habits.sessions_per_day <= 0:
        return
    while True:
        plan = next_session(rng, after=clock.now(), habits=habits)
        await clock.sleep((plan.start_at - clock.now()).total_seconds())
        session = await station.start_session(plan.id_tag, connector_id=connector_id, profile=plan.profile)
        if session is None:
            continue  # refused or busy: the driver leaves and someone else comes later
        await clock.sleep(plan.duration_s)
        await station.stop_session(connector_id, reason="EVDisconnected")


async def _outages(station: Station, *, habits: Habits, rng: random.Random) -> None:
    clock = station.clock
    while (plan := next_offline(rng, after=clock.now(), habits=habits)) is not None:
        await clock.sleep((plan.start_at - clock.now()).total_seconds())
        await station.go_offline()
        await clock.sleep(plan.duration_s)
        station.go_online()
