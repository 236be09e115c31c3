"""A session over a month boundary is split at the boundary by its readings (pro rata by time without),
into whole-Wh parts that add up to the session exactly."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from chargeops.billing import pricing, splitting
from chargeops.billing.energy_profile import EnergyProfile
from tests.unit.billing.builders import element, energy, flat, readings, session, tariff

AMSTERDAM = "Europe/Amsterdam"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_split_with_readings_interpolates_between_the_readings_around_the_boundary() -> None:
    # 22:00 local on 30 September (20:00Z, summer time +02) to 02:00 local on 1 October. October starts at
    # 22:00Z. Readings: 9000 Wh at 21:30Z and 12000 Wh at 22:30Z, so at 22:00Z the register is half way:
    # 9000 + (12000 - 9000) x 30/60 = 10500 Wh in September, 20000 - 10500 = 9500 Wh in October.
    parts = splitting.split_by_month(
        session(at("2026-09-30 20:00"), at("2026-10-01 00:00"), 20_000),
        readings((at("2026-09-30 21:30"), 9_000), (at("2026-09-30 22:30"), 12_000)),
        time_zone=AMSTERDAM,
    )
    assert [(p.month, p.start, p.end, p.energy_wh) for p in parts] == [
        ("2026-09", at("2026-09-30 20:00"), at("2026-09-30 22:00"), 10_500),
        ("2026-10", at("2026-09-30 22:00"), at("2026-10-01 00:00"), 9_500),
    ]


def test_split_without_readings_is_pro_rata_by_time() -> None:
    # 23:00 to 02:00 local, 10001 Wh: one hour of three in September, 10001 / 3 = 3333.67 → 3334 Wh (half up);
    # October gets the rest, 6667 Wh.
    parts = splitting.split_by_month(
        session(at("2026-09-30 21:00"), at("2026-10-01 00:00"), 10_001), [], time_zone=AMSTERDAM
    )
    assert [(p.month, p.energy_wh) for p in parts] == [("2026-09", 3_334), ("2026-10", 6_667)]


def test_a_priced_session_over_the_boundary_bills_each_part_on_its_month() -> None:
    # The same 10001 Wh at 0.30/kWh plus a 1.00 session fee: September 3.334 kWh (1.00) and the fee (1.00);
    # October 6.667 kWh (2.0001 → 2.00).
    priced = pricing.price_session(
        session(at("2026-09-30 21:00"), at("2026-10-01 00:00"), 10_001),
        [],
        tariff=tariff(element(flat("1.00"), energy("0.30"))),
        time_zone=AMSTERDAM,
    )
    assert [(p.month, p.energy_wh, p.duration_s, p.amount) for p in priced.parts] == [
        ("2026-09", 3_334, 3600, Decimal("2.00")),
        ("2026-10", 6_667, 7200, Decimal("2.00")),
    ]
    assert [c.type.value for c in priced.parts[0].components] == ["FLAT", "ENERGY"]


def test_a_session_stopping_at_the_boundary_stays_in_its_month() -> None:
    parts = splitting.split_by_month(
        session(at("2026-09-30 20:00"), at("2026-09-30 22:00"), 5_000), [], time_zone=AMSTERDAM
    )
    assert [(p.month, p.energy_wh) for p in parts] == [("2026-09", 5_000)]


START = datetime(2026, 1, 20, tzinfo=UTC)


@st.composite
def sessions_with_readings(draw: st.DrawFn) -> tuple[str, datetime, datetime, int, list[tuple[datetime, int]]]:
    zone = draw(st.sampled_from([AMSTERDAM, "America/New_York", "Australia/Sydney", "Asia/Kathmandu", "UTC"]))
    duration_s = draw(st.integers(1, 100 * 86_400))
    offsets = sorted(draw(st.lists(st.integers(1, duration_s), max_size=12, unique=True)))
    rises = draw(st.lists(st.integers(0, 50_000), min_size=len(offsets) + 1, max_size=len(offsets) + 1))
    points, total = [], 0
    for offset, rise in zip(offsets, rises, strict=False):
        total += rise
        points.append((START + timedelta(seconds=offset), total))
    total += rises[-1]
    stop = START + timedelta(seconds=duration_s)
    return zone, START, stop, total, [point for point in points if point[0] < stop]


@settings(max_examples=200)
@given(sessions_with_readings())
def test_parts_add_up_to_the_session_and_none_is_negative(
    case: tuple[str, datetime, datetime, int, list[tuple[datetime, int]]],
) -> None:
    zone, start, stop, total, points = case
    parts = splitting.split_by_month(session(start, stop, total), readings(*points), time_zone=zone)
    assert sum(part.energy_wh for part in parts) == total
    assert all(part.energy_wh >= 0 for part in parts)
    assert (parts[0].start, parts[-1].end) == (start, stop)
    assert all(a.end == b.start for a, b in pairwise(parts))
    assert len({part.month for part in parts}) == len(parts)


@settings(max_examples=200)
@given(sessions_with_readings(), st.data())
def test_energy_at_a_later_cut_is_never_less(
    case: tuple[str, datetime, datetime, int, list[tuple[datetime, int]]], data: st.DataObject
) -> None:
    _, start, stop, total, points = case
    profile = EnergyProfile.of(session(start, stop, total), readings(*points))
    span = int((stop - start).total_seconds())
    first, second = sorted(data.draw(st.lists(st.integers(0, span), min_size=2, max_size=2)))
    early, late = start + timedelta(seconds=first), start + timedelta(seconds=second)
    assert 0 <= profile.wh_at(early) <= profile.wh_at(late) <= total
    assert splitting.split_energy(profile, [early, late]) == [
        profile.wh_at(early),
        profile.wh_at(late) - profile.wh_at(early),
        total - profile.wh_at(late),
    ]


@settings(max_examples=100)
@given(sessions_with_readings())
def test_pricing_splits_the_energy_as_the_split_rule_does(
    case: tuple[str, datetime, datetime, int, list[tuple[datetime, int]]],
) -> None:
    zone, start, stop, total, points = case
    spec = tariff(element(energy("0.30")))
    priced = pricing.price_session(session(start, stop, total), readings(*points), tariff=spec, time_zone=zone)
    split = splitting.split_by_month(session(start, stop, total), readings(*points), time_zone=zone)
    assert [(p.month, p.energy_wh) for p in priced.parts] == [(s.month, s.energy_wh) for s in split]
    assert sum(part.duration_s for part in priced.parts) == priced.duration_s
