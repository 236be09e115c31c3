"""When a tariff element applies: OCPI 2.2.1 TariffRestrictions, evaluated in the site's time zone.

All set fields of a restriction must hold (OCPI: "all restrictions must be valid"). Each is half-open,
as OCPI defines them: ``startTime`` ≤ time of day < ``endTime`` (wrapping past midnight when ``endTime``
is earlier, and the whole day when both are equal), ``startDate`` ≤ local date < ``endDate``,
``minKwh`` ≤ energy so far < ``maxKwh``, ``minDurationS`` ≤ time since the session started <
``maxDurationS``, and the local weekday in ``dayOfWeek``. ``dayOfWeek`` and the dates are checked on the
local date of each instant, so a window FRIDAY 23:00–07:00 covers Friday 23:00–24:00 and Friday
00:00–07:00, not Saturday morning.

``calendar_boundaries`` (per local day, the same for every session) and ``session_boundaries`` list every
instant in a session where any of these can change its answer, so the pricing engine can cut charging
periods there and evaluate each period once.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from chargeops.api.v1alpha1 import DayOfWeek, TariffRestrictions
from chargeops.billing import periods
from chargeops.billing.energy_profile import EnergyProfile
from chargeops.billing.money import WH_PER_KWH

_WEEKDAYS = tuple(DayOfWeek)  # MONDAY first, as date.weekday() counts


@dataclass(frozen=True)
class Restrictions:
    """A TariffRestrictions parsed once: local times and dates, energy in Wh, durations in seconds."""

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_wh: int | None = None
    max_wh: int | None = None
    min_duration_s: int | None = None
    max_duration_s: int | None = None
    weekdays: frozenset[int] | None = None

    @classmethod
    def parse(cls, restrictions: TariffRestrictions | None) -> "Restrictions":
        """The parsed form of ``restrictions``; ``None`` (always applies) parses to no conditions."""
        if restrictions is None:
            return cls()
        days = restrictions.day_of_week
        return cls(
            start_time=_time(restrictions.start_time),
            end_time=_time(restrictions.end_time),
            start_date=_date(restrictions.start_date),
            end_date=_date(restrictions.end_date),
            min_wh=_wh(restrictions.min_kwh),
            max_wh=_wh(restrictions.max_kwh),
            min_duration_s=restrictions.min_duration_s,
            max_duration_s=restrictions.max_duration_s,
            weekdays=None if days is None else frozenset(_WEEKDAYS.index(DayOfWeek(day)) for day in days),
        )

    def applies(self, local: datetime, *, energy_wh: Fraction, elapsed_s: Fraction) -> bool:
        """Whether the element applies at ``local`` (site time) with ``energy_wh`` delivered so far, ``elapsed_s``
        seconds after the session started."""
        return (
            ((self.start_time is None and self.end_time is None) or self._time_of_day_holds(local.time()))
            and (self.start_date is None or local.date() >= self.start_date)
            and (self.end_date is None or local.date() < self.end_date)
            and (self.weekdays is None or local.weekday() in self.weekdays)
            and (self.min_wh is None or energy_wh >= self.min_wh)
            and (self.max_wh is None or energy_wh < self.max_wh)
            and (self.min_duration_s is None or elapsed_s >= self.min_duration_s)
            and (self.max_duration_s is None or elapsed_s < self.max_duration_s)
        )

    @property
    def uses_energy(self) -> bool:
        """Whether the restriction reads the energy delivered so far."""
        return self.min_wh is not None or self.max_wh is not None

    @property
    def uses_duration(self) -> bool:
        """Whether the restriction reads the time since the session started."""
        return self.min_duration_s is not None or self.max_duration_s is not None

    def calendar_boundaries(self, day: date, tz: ZoneInfo) -> Iterator[datetime]:
        """The instants of local ``day`` where the time of day, date or weekday conditions may change."""
        for at in (self.start_time, self.end_time):
            if at is not None:
                yield periods.local_instant(day, at, tz)
        if self.start_date is not None or self.end_date is not None or self.weekdays is not None:
            yield periods.day_start(day, tz)

    def session_boundaries(self, profile: EnergyProfile) -> Iterator[datetime]:
        """The instants of the session where its duration or energy conditions may change."""
        for seconds in (self.min_duration_s, self.max_duration_s):
            if seconds is not None:
                yield profile.start + timedelta(seconds=seconds)
        for wh in (self.min_wh, self.max_wh):
            reached = None if wh is None else profile.reaching(wh)
            if reached is not None:
                yield reached

    def _time_of_day_holds(self, now: time) -> bool:
        start, end = self.start_time, self.end_time
        if start is not None and end is not None:
            if start < end:
                return start <= now < end
            if start > end:  # wraps past midnight, e.g. 23:00-07:00
                return now >= start or now < end
            return True
        return (start is None or now >= start) and (end is None or now < end)


def days(start: datetime, stop: datetime, tz: ZoneInfo) -> list[date]:
    """Local dates from the day before ``start`` to the day after ``stop``: a margin for DST shifts."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = stop.astimezone(tz).date() + timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _time(text: str | None) -> time | None:
    return None if text is None else time.fromisoformat(text)


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _wh(kwh: str | None) -> int | None:
    # The API admits at most three decimals of kWh, so this is exact.
    return None if kwh is None else int(Decimal(kwh) * WH_PER_KWH)
