"""Simulated drivers arrive as a seeded Poisson process and behave within their habits."""

import random
from datetime import UTC, datetime, timedelta

from chargeops.simulator.schedule import Habits, next_offline, next_session

START = datetime(2025, 3, 1, tzinfo=UTC)


def plans(seed: int, count: int, habits: Habits) -> list[tuple[datetime, int, str, int]]:
    rng = random.Random(seed)  # noqa: S311  # reproducible simulation, not secrets
    after, made = START, []
    for _ in range(count):
        plan = next_session(rng, after=after, habits=habits)
        made.append((plan.start_at, plan.duration_s, plan.id_tag, plan.profile.max_power_w))
        after = plan.start_at + timedelta(seconds=plan.duration_s)
    return made


def test_the_same_seed_makes_the_same_month() -> None:
    assert plans(7, 50, Habits()) == plans(7, 50, Habits())
    assert plans(7, 50, Habits()) != plans(8, 50, Habits())


def test_sessions_stay_within_the_habits() -> None:
    habits = Habits(id_tags=("A", "B"), min_duration_s=600, max_duration_s=1200, max_power_choices_w=(7_400,))
    for start_at, duration_s, id_tag, max_power_w in plans(1, 200, habits):
        assert start_at > START
        assert 600 <= duration_s <= 1200
        assert id_tag in {"A", "B"}
        assert max_power_w == 7_400


def test_arrivals_average_the_configured_rate() -> None:
    rng = random.Random(3)  # noqa: S311
    habits = Habits(sessions_per_day=4.0)
    gaps = [(next_session(rng, after=START, habits=habits).start_at - START).total_seconds() for _ in range(4000)]
    mean_gap_h = sum(gaps) / len(gaps) / 3600
    assert 5.4 < mean_gap_h < 6.6  # 24 h / 4 sessions, within 10 %


def test_no_outages_unless_asked_for() -> None:
    rng = random.Random(1)  # noqa: S311
    assert next_offline(rng, after=START, habits=Habits()) is None
    outage = next_offline(rng, after=START, habits=Habits(offline_per_day=1, min_offline_s=60, max_offline_s=120))
    assert outage is not None
    assert 60 <= outage.duration_s <= 120
