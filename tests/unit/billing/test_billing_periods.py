"""Billing months are calendar months of the site's zone, an hour short or long where DST changes."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargeops.billing import periods
from chargeops.billing.errors import InvalidMonthError, InvalidTimeZoneError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("zone", "month", "hours"),
    [
        ("Europe/Amsterdam", "2026-03", 743),  # clocks go forward on Sunday 29 March
        ("Europe/Amsterdam", "2026-10", 745),  # and back on Sunday 25 October
        ("Europe/Amsterdam", "2026-07", 744),
        ("Europe/Amsterdam", "2026-02", 672),
        ("America/New_York", "2026-03", 743),  # 8 March
        ("America/New_York", "2026-11", 721),  # 1 November
        ("Australia/Sydney", "2026-04", 721),  # southern hemisphere: back in April
        ("Australia/Sydney", "2026-10", 743),  # forward in October
        ("UTC", "2028-02", 696),  # leap year
        ("Asia/Tokyo", "2026-03", 744),  # no DST
    ],
)
def test_a_month_has_the_hours_its_clocks_show(zone: str, month: str, hours: int) -> None:
    start, end = periods.month_bounds(month, ZoneInfo(zone))
    assert end - start == timedelta(hours=hours)


def test_the_period_carries_the_site_offset_at_each_end() -> None:
    period = periods.month_period("2026-10", AMSTERDAM)
    assert period.start.isoformat() == "2026-10-01T00:00:00+02:00"  # summer time
    assert period.end.isoformat() == "2026-11-01T00:00:00+01:00"  # winter time
    assert period.model_dump(mode="json")["start"] == "2026-10-01T00:00:00+02:00"


def test_a_month_starts_where_a_zone_skips_midnight() -> None:
    # Chile moved clocks from 00:00 to 01:00 on 2022-09-11; September still starts on 1 September.
    santiago = ZoneInfo("America/Santiago")
    start = periods.day_start(date(2022, 9, 11), santiago)
    assert periods.with_offset(start, santiago).isoformat() == "2022-09-11T01:00:00-03:00"


def test_an_instant_belongs_to_the_month_of_the_site_clock() -> None:
    # 22:30 UTC on 31 October is 23:30 in Amsterdam: still October there.
    assert periods.month_of(datetime(2026, 10, 31, 22, 30, tzinfo=UTC), AMSTERDAM) == "2026-10"
    # 23:00 UTC on 31 October is midnight in Amsterdam: November.
    assert periods.month_of(datetime(2026, 10, 31, 23, 0, tzinfo=UTC), AMSTERDAM) == "2026-11"


def test_month_arithmetic_crosses_years() -> None:
    assert periods.next_month("2026-12") == "2027-01"
    assert periods.previous_month("2027-01") == "2026-12"
    assert periods.days_in_month("2028-02") == 29


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", "2026/01", ""])
def test_a_malformed_month_is_refused(month: str) -> None:
    with pytest.raises(InvalidMonthError):
        periods.parse_month(month)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(InvalidTimeZoneError) as raised:
        periods.zone("Mars/Olympus_Mons")
    assert raised.value.reason == "InvalidTimeZone"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        periods.month_of(datetime(2026, 1, 1), AMSTERDAM)  # noqa: DTZ001


# hypothesis takes naive bounds and attaches the zone itself.
NAIVE_1990 = datetime.fromisoformat("1990-01-01T00:00:00")
NAIVE_2060 = datetime.fromisoformat("2060-01-01T00:00:00")
zones = st.sampled_from(["Europe/Amsterdam", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"])
months = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1990, 2060), st.integers(1, 12))


@given(zones, months)
def test_months_follow_each_other_without_gap(zone: str, month: str) -> None:
    tz = ZoneInfo(zone)
    _, end = periods.month_bounds(month, tz)
    following, _ = periods.month_bounds(periods.next_month(month), tz)
    assert end == following
    assert periods.month_of(end - timedelta(microseconds=1), tz) == month
    assert periods.month_of(end, tz) == periods.next_month(month)


@given(zones, st.datetimes(min_value=NAIVE_1990, max_value=NAIVE_2060, timezones=st.just(UTC)))
def test_every_instant_lies_in_the_month_it_is_said_to(zone: str, instant: datetime) -> None:
    tz = ZoneInfo(zone)
    start, end = periods.month_bounds(periods.month_of(instant, tz), tz)
    assert start <= instant < end
