"""The site's clock read through the per-hour offsets ``periods`` keeps (``with_offset``, ``month_of``,
``month_starts_between``) shows what the tz database shows for the same instant, around every kind of change:
DST by an hour or half an hour, offsets of odd minutes, and a zone's first change from local mean time."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargeops.billing import periods

ZONES = [
    ZoneInfo(name)
    for name in (
        "Europe/Amsterdam",
        "America/Santiago",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "Pacific/Chatham",
        "America/St_Johns",
        "Africa/Casablanca",
        "UTC",
    )
]
# Offsets of local mean time are odd seconds (Amsterdam +00:19:32 until 1937). Hypothesis takes naive bounds.
INSTANTS = st.datetimes(
    min_value=datetime(1890, 1, 1),  # noqa: DTZ001
    max_value=datetime(2060, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def by_the_tz_database(instant: datetime, tz: ZoneInfo) -> datetime:
    local = instant.astimezone(tz)
    return local.replace(tzinfo=periods._fixed_zone(local.utcoffset()))


@settings(max_examples=2000)
@given(instant=INSTANTS, tz=st.sampled_from(ZONES))
def test_the_site_clock_shows_what_the_tz_database_shows(instant: datetime, tz: ZoneInfo) -> None:
    expected = by_the_tz_database(instant, tz)

    shown = periods.with_offset(instant, tz)

    assert shown.isoformat() == expected.isoformat()
    assert shown == instant
    assert periods.month_of(instant, tz) == f"{expected.year:04d}-{expected.month:02d}"


@pytest.mark.parametrize(
    ("tz", "change"),
    [
        (ZoneInfo("Europe/Amsterdam"), datetime(2026, 10, 25, 1, 0, tzinfo=UTC)),
        (ZoneInfo("Europe/Amsterdam"), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        (ZoneInfo("Australia/Lord_Howe"), datetime(2026, 4, 4, 15, 0, tzinfo=UTC)),
        (ZoneInfo("Europe/Amsterdam"), datetime(1937, 6, 30, 22, 40, 28, tzinfo=UTC)),
    ],
    ids=["autumn", "spring", "half an hour", "an odd second"],
)
def test_each_microsecond_around_a_change_has_its_own_offset(tz: ZoneInfo, change: datetime) -> None:
    for delta in (timedelta(seconds=-1), timedelta(microseconds=-1), timedelta(0), timedelta(microseconds=1)):
        instant = change + delta
        assert periods.with_offset(instant, tz).isoformat() == by_the_tz_database(instant, tz).isoformat()
