"""Billing periods: calendar months in the site's time zone, and the instants where they begin.

A month starts at the first instant of local day 1 and ends (exclusive) where the next one starts, so a
month with a DST change is an hour shorter or longer (Europe/Amsterdam: March 2026 has 743 hours, October
745). Where a zone skips local midnight (America/Santiago in September) the month starts at the first
local instant that exists. The pricing engine cuts sessions at these instants; the invoice builder writes
them into ``InvoiceSpec.period``.
"""

import functools
import re
from calendar import monthrange
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chargeops.api.v1alpha1 import Period
from chargeops.billing.errors import InvalidMonthError, InvalidTimeZoneError

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def zone(name: str | ZoneInfo) -> ZoneInfo:
    """The tz database zone called ``name`` (``Europe/Amsterdam``); a ZoneInfo passes through."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimeZoneError(name) from None


def parse_month(month: str) -> tuple[int, int]:
    """Year and month number of ``YYYY-MM``."""
    matched = _MONTH.fullmatch(month)
    if matched is None:
        raise InvalidMonthError(month)
    return int(matched.group(1)), int(matched.group(2))


def month_name(year: int, month: int) -> str:
    """``YYYY-MM`` of a year and month number."""
    return f"{year:04d}-{month:02d}"


def next_month(month: str) -> str:
    """The month after ``month``: ``2026-12`` → ``2027-01``."""
    year, number = parse_month(month)
    return month_name(year + number // 12, number % 12 + 1)


def previous_month(month: str) -> str:
    """The month before ``month``: ``2027-01`` → ``2026-12``."""
    year, number = parse_month(month)
    return month_name(year - (number == 1), (number - 2) % 12 + 1)


def days_in_month(month: str) -> int:
    """Calendar days of ``month``."""
    return monthrange(*parse_month(month))[1]


@functools.lru_cache(maxsize=4096)
def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant the site's clocks show ``at`` on ``day``, in UTC.

    Ambiguous times (the repeated hour in autumn) take their first occurrence; times in the spring gap,
    which clocks never show, take the instant the gap ends (PEP 495 ``fold=0``).
    """
    # Cached: a month of sessions asks for the same few days and tariff times again and again.
    return datetime.combine(day, at).replace(tzinfo=tz).astimezone(UTC)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of local ``day``, in UTC."""
    return local_instant(day, time(0, 0), tz)


def month_start(month: str, tz: ZoneInfo) -> datetime:
    """The first instant of ``month`` in the site's zone, in UTC."""
    return _first_instant(*parse_month(month), tz)


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of ``month``, in UTC."""
    return month_start(month, tz), month_start(next_month(month), tz)


def with_offset(instant: datetime, tz: ZoneInfo) -> datetime:
    """``instant`` as the site's clocks show it, with a fixed UTC offset (``2026-10-01T00:00:00+02:00``).

    A fixed offset rather than the ZoneInfo keeps an invoice independent of the tz database it was read
    with: the stored text is the whole truth.
    """
    return _aware(instant).astimezone(_offset_zone(instant, tz))


def _offset_zone(instant: datetime, tz: ZoneInfo) -> timezone:
    """The fixed zone of ``tz``'s UTC offset at ``instant``.

    Worked out once per zone and hour (an invoice asks for its month's few hundred hours, line after line)
    for an hour in which the offset does not change. tz database changes fall on whole seconds, so the
    hour's first and last second show any change inside it, and such an hour is worked out instant by
    instant.
    """
    hour = int(instant.timestamp() // SECONDS_PER_HOUR)
    hours = _HOUR_ZONES.get(tz)
    if hours is None or len(hours) >= _HOURS_MAX:
        hours = _HOUR_ZONES[tz] = {}
    found = hours.get(hour)
    if found is None:
        first = datetime.fromtimestamp(hour * SECONDS_PER_HOUR, tz).utcoffset()
        last = datetime.fromtimestamp(hour * SECONDS_PER_HOUR + SECONDS_PER_HOUR - 1, tz).utcoffset()
        if first != last:
            return _fixed_zone(instant.astimezone(tz).utcoffset())
        found = hours[hour] = _fixed_zone(first)
    return found


def _fixed_zone(offset: timedelta | None) -> timezone:
    offset = offset or timedelta(0)
    found = _FIXED_ZONES.get(offset)
    if found is None:
        found = _FIXED_ZONES.setdefault(offset, timezone(offset))
    return found


SECONDS_PER_HOUR = 3600
# Hours of a zone kept with their offset: a few months of invoices' instants.
_HOURS_MAX = 10_000
_HOUR_ZONES: dict[ZoneInfo, dict[int, timezone]] = {}
# One fixed zone per UTC offset: a zone has a handful of offsets, and an invoice writes one per line end.
_FIXED_ZONES: dict[timedelta, timezone] = {}


def month_period(month: str, tz: ZoneInfo) -> Period:
    """The API ``Period`` of ``month``: its start and end with the site's UTC offset at each."""
    start, end = month_bounds(month, tz)
    return Period(month=month, start=with_offset(start, tz), end=with_offset(end, tz))


def month_of(instant: datetime, tz: ZoneInfo) -> str:
    """The month ``instant`` falls in, in the site's zone."""
    local = _aware(instant).astimezone(_offset_zone(instant, tz))
    return month_name(local.year, local.month)


def month_starts_between(start: datetime, stop: datetime, tz: ZoneInfo) -> list[datetime]:
    """The month starts strictly between ``start`` and ``stop``: where a session is cut between invoices."""
    cuts: list[datetime] = []
    local = _aware(start).astimezone(_offset_zone(start, tz))
    year, number = local.year, local.month
    while True:
        year, number = year + number // 12, number % 12 + 1
        cut = _first_instant(year, number, tz)
        if cut >= stop:
            return cuts
        cuts.append(cut)


@functools.lru_cache(maxsize=1024)
def _first_instant(year: int, number: int, tz: ZoneInfo) -> datetime:
    # Every session asks where the month after its start begins: a handful of answers per zone.
    return day_start(date(year, number, 1), tz)


def months_between(start: datetime, stop: datetime, tz: ZoneInfo) -> Iterator[str]:
    """The months from the one holding ``start`` to the one holding ``stop``, in order."""
    month, last = month_of(start, tz), month_of(stop, tz)
    yield month
    while month != last:
        month = next_month(month)
        yield month


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"billing needs aware datetimes, got naive {instant.isoformat()}")
    return instant
