"""The demo's month of charging: who charges where and when, decided up front and the same every run.

Ada (the examples' subscriber) charges most weekday evenings at the north garage, alternating between
garage-north-1 (energy tariff, OCPP 1.6) and garage-north-2 (time tariff, OCPP 2.0.1), with her RFID card
or her phone app; visitors charge for free at visitor-1. A seeded generator picks times and energy, so
every run of ``chargeops demo`` bills the same sessions and prints the same invoice.
"""

import dataclasses
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chargeops.simulator.meter import PowerProfile

SEED = 2026
ADA_TAGS = ("04A2B3C4D5E6F7", "APP-ada-7f3c")
VISITOR_TAGS = ("VISITOR-0001", "VISITOR-0002")
GARAGE = ("PARKSIDE-N1", "PARKSIDE-N2")
VISITOR_CHARGER = "PARKSIDE-V1"


@dataclasses.dataclass(frozen=True)
class PlannedSession:
    """One session to charge on the simulated clock."""

    charge_point_id: str
    id_tag: str
    start: datetime
    stop: datetime
    profile: PowerProfile


def month_of_charging(year: int, month: int, zone: ZoneInfo) -> list[PlannedSession]:
    """The month's sessions in order of start: Ada on weekday evenings, visitors on some afternoons."""
    rng = random.Random(SEED)  # noqa: S311 - a repeatable story, not a secret
    planned: list[PlannedSession] = []
    for day in _days(year, month):
        if day.weekday() < 5 and rng.random() < 0.7:
            start = datetime.combine(day, time(18, rng.choice((0, 15, 30, 45))), zone)
            hours = rng.choice((1.5, 2, 2.5, 3, 4))
            planned.append(
                PlannedSession(
                    charge_point_id=GARAGE[len(planned) % 2],
                    id_tag=ADA_TAGS[rng.random() < 0.3],
                    start=start,
                    stop=start + timedelta(hours=hours),
                    profile=PowerProfile(max_power_w=11_000, energy_need_wh=rng.randrange(8_000, 26_000, 500)),
                )
            )
        if rng.random() < 0.25:
            start = datetime.combine(day, time(13, 0), zone)
            planned.append(
                PlannedSession(
                    charge_point_id=VISITOR_CHARGER,
                    id_tag=rng.choice(VISITOR_TAGS),
                    start=start,
                    stop=start + timedelta(hours=1),
                    profile=PowerProfile(max_power_w=7_400, energy_need_wh=10_000),
                )
            )
    return sorted(planned, key=lambda s: s.start)


def _days(year: int, month: int) -> Iterator[date]:
    day = date(year, month, 1)
    while day.month == month:
        yield day
        day += timedelta(days=1)
