"""Tariff restrictions hold on half-open ranges of local time, date, weekday, energy and duration."""

from datetime import datetime
from fractions import Fraction
from typing import Any

import pytest

from chargeops.api.v1alpha1 import TariffRestrictions
from chargeops.billing.restrictions import Restrictions


def holds(restrictions: dict[str, Any], local: str, *, kwh: str = "0", elapsed_s: int = 0) -> bool:
    parsed = Restrictions.parse(TariffRestrictions.model_validate(restrictions))
    return parsed.applies(datetime.fromisoformat(local), energy_wh=Fraction(kwh) * 1000, elapsed_s=Fraction(elapsed_s))


@pytest.mark.parametrize(
    ("local", "expected"),
    [("2026-01-05 23:00", True), ("2026-01-05 23:59", True), ("2026-01-06 00:00", True), ("2026-01-06 06:59", True),
     ("2026-01-06 07:00", False), ("2026-01-05 22:59", False), ("2026-01-05 12:00", False)],
)  # fmt: skip
def test_a_window_wraps_past_midnight(local: str, expected: bool) -> None:
    assert holds({"startTime": "23:00", "endTime": "07:00"}, local) is expected


@pytest.mark.parametrize(
    ("restrictions", "local", "expected"),
    [
        ({"startTime": "07:00", "endTime": "23:00"}, "2026-01-05 07:00", True),
        ({"startTime": "07:00", "endTime": "23:00"}, "2026-01-05 23:00", False),
        ({"startTime": "08:00", "endTime": "08:00"}, "2026-01-05 03:00", True),  # equal ends: the whole day
        ({"startTime": "18:00"}, "2026-01-05 17:59", False),
        ({"startTime": "18:00"}, "2026-01-05 23:59", True),
        ({"endTime": "06:00"}, "2026-01-05 05:59", True),
        ({"endTime": "06:00"}, "2026-01-05 06:00", False),
        ({"startDate": "2026-01-01", "endDate": "2026-04-01"}, "2026-03-31 23:59", True),
        ({"startDate": "2026-01-01", "endDate": "2026-04-01"}, "2026-04-01 00:00", False),
        ({"startDate": "2026-01-01"}, "2025-12-31 23:59", False),
        ({"dayOfWeek": ["SATURDAY", "SUNDAY"]}, "2026-01-10 12:00", True),  # a Saturday
        ({"dayOfWeek": ["SATURDAY", "SUNDAY"]}, "2026-01-09 23:59", False),  # a Friday
        ({"dayOfWeek": ["MONDAY"], "startTime": "23:00", "endTime": "07:00"}, "2026-01-06 01:00", False),  # Tuesday
        ({"dayOfWeek": ["MONDAY"], "startTime": "23:00", "endTime": "07:00"}, "2026-01-05 01:00", True),
    ],
)
def test_time_date_and_weekday_restrictions(restrictions: dict[str, Any], local: str, expected: bool) -> None:
    assert holds(restrictions, local) is expected


@pytest.mark.parametrize(("kwh", "expected"), [("19.999", False), ("20", True), ("49.999", True), ("50", False)])
def test_energy_restrictions_are_half_open(kwh: str, expected: bool) -> None:
    assert holds({"minKwh": "20", "maxKwh": "50"}, "2026-01-05 12:00", kwh=kwh) is expected


@pytest.mark.parametrize(("elapsed_s", "expected"), [(3599, False), (3600, True), (14399, True), (14400, False)])
def test_duration_restrictions_count_from_the_session_start(elapsed_s: int, expected: bool) -> None:
    restrictions = {"minDurationS": 3600, "maxDurationS": 14400}
    assert holds(restrictions, "2026-01-05 12:00", elapsed_s=elapsed_s) is expected


def test_no_restrictions_always_hold() -> None:
    assert Restrictions.parse(None).applies(
        datetime.fromisoformat("2026-01-05 12:00"), energy_wh=Fraction(0), elapsed_s=Fraction(0)
    )
