"""Sessions priced with OCPI 2.2.1 tariffs: worked examples computed by hand, and properties of any price."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargeops.api.gateway import MeterReading, Session
from chargeops.api.v1alpha1 import ComponentCharge
from chargeops.billing import money, pricing
from chargeops.billing.errors import CurrencyMismatchError
from tests.unit.billing.builders import (
    charging_time,
    element,
    energy,
    flat,
    parking,
    readings,
    session,
    tariff,
)

AMSTERDAM = "Europe/Amsterdam"


def at(text: str) -> datetime:
    """An instant written in UTC, e.g. ``2026-01-15 21:00``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def charges(priced: pricing.PricedSession) -> list[tuple[str, str, str, str]]:
    """(type, quantity, unit price, amount) of each component, as the invoice prints them."""
    return [_printed(charge) for charge in priced.components]


def _printed(charge: ComponentCharge) -> tuple[str, str, str, str]:
    return (charge.type.value, *(format(v, "f") for v in (charge.quantity, charge.unit_price, charge.amount)))


def test_a_simple_energy_session() -> None:
    # 12.345 kWh at 0.35/kWh = 4.32075 → 4.32 (half up at the line).
    priced = pricing.price_session(
        session(at("2026-01-15 08:00"), at("2026-01-15 10:00"), 12_345),
        [],
        tariff=tariff(element(energy("0.35", vat="21"))),
        time_zone=AMSTERDAM,
    )
    assert charges(priced) == [("ENERGY", "12.345", "0.35", "4.32")]
    assert priced.amount == Decimal("4.32")
    assert (priced.energy_wh, priced.duration_s) == (12_345, 7200)
    assert priced.components[0].vat == Decimal("21")


OFF_PEAK = tariff(
    element(energy("0.20", vat="21"), startTime="23:00", endTime="07:00"),
    element(energy("0.35", vat="21")),
)


def test_a_session_over_the_off_peak_start_is_priced_in_two_periods() -> None:
    # Amsterdam in January is UTC+1: 21:00Z is 22:00 local, the off-peak element starts at 23:00 local = 22:00Z.
    # The register read 12.5 kWh at 22:00Z, so 12.5 kWh are peak and the other 17.5 kWh off-peak:
    # 12.5 x 0.35 = 4.375 → 4.38; 17.5 x 0.20 = 3.50; together 7.88.
    priced = pricing.price_session(
        session(at("2026-01-15 21:00"), at("2026-01-16 00:00"), 30_000),
        readings((at("2026-01-15 21:30"), 6_000), (at("2026-01-15 22:00"), 12_500)),
        tariff=OFF_PEAK,
        time_zone=AMSTERDAM,
    )
    assert [(p.start, p.end, p.energy_wh) for p in priced.periods] == [
        (at("2026-01-15 21:00"), at("2026-01-15 22:00"), 12_500),
        (at("2026-01-15 22:00"), at("2026-01-16 00:00"), 17_500),
    ]
    assert charges(priced) == [("ENERGY", "12.5", "0.35", "4.38"), ("ENERGY", "17.5", "0.20", "3.50")]
    assert priced.amount == Decimal("7.88")


def test_without_readings_the_off_peak_share_is_pro_rata_by_time() -> None:
    # One of three hours before 23:00 local: 10 kWh x 0.35 = 3.50 and 20 kWh x 0.20 = 4.00.
    priced = pricing.price_session(
        session(at("2026-01-15 21:00"), at("2026-01-16 00:00"), 30_000), [], tariff=OFF_PEAK, time_zone=AMSTERDAM
    )
    assert priced.amount == Decimal("7.50")


def test_the_off_peak_window_wraps_past_midnight_and_ends_at_seven() -> None:
    # 05:00-09:00 local in January (04:00Z-08:00Z), 4 kWh evenly: 2 kWh off-peak until 07:00, 2 kWh peak.
    priced = pricing.price_session(
        session(at("2026-01-16 04:00"), at("2026-01-16 08:00"), 4_000), [], tariff=OFF_PEAK, time_zone=AMSTERDAM
    )
    assert charges(priced) == [("ENERGY", "2", "0.20", "0.40"), ("ENERGY", "2", "0.35", "0.70")]


def test_energy_is_billed_per_step_begun() -> None:
    # stepSize 100 Wh: 20.45 kWh is billed as 20.5 kWh; 20.5 x 0.25 = 5.125 → 5.13.
    priced = pricing.price_session(
        session(at("2026-02-01 10:00"), at("2026-02-01 12:00"), 20_450),
        [],
        tariff=tariff(element(energy("0.25", step=100))),
        time_zone="UTC",
    )
    assert charges(priced) == [("ENERGY", "20.5", "0.25", "5.13")]


def test_charging_and_parking_time_ocpi_example() -> None:
    # OCPI 2.2.1 tariffs, "3 euro per hour, 5 euro per hour parking": 150 minutes charging billed per minute
    # (7.50) and 42 minutes parked billed per 5 minutes, so 45 minutes (3.75): 11.25 excl. VAT.
    start = at("2026-02-02 09:00")
    priced = pricing.price_session(
        session(start, start + timedelta(minutes=192), 30_000),
        readings((start + timedelta(minutes=150), 30_000)),
        tariff=tariff(element(charging_time("3.00", vat="10", step=60), parking("5.00", vat="20", step=300))),
        time_zone="UTC",
    )
    assert charges(priced) == [("TIME", "2.5", "3.00", "7.50"), ("PARKING_TIME", "0.75", "5.00", "3.75")]
    assert priced.amount == Decimal("11.25")


def test_time_after_the_last_rise_of_the_register_is_parking() -> None:
    # The register rises until 10:21 and stays at 5 kWh until the stop at 10:37: 21 minutes charging,
    # 16 minutes parking. A pause before the last rise (10:05-10:10, no rise) still counts as charging.
    priced = pricing.price_session(
        session(at("2026-02-03 10:00"), at("2026-02-03 10:37"), 5_000),
        readings(
            (at("2026-02-03 10:05"), 1_000),
            (at("2026-02-03 10:10"), 1_000),
            (at("2026-02-03 10:21"), 5_000),
            (at("2026-02-03 10:30"), 5_000),
        ),
        tariff=tariff(element(charging_time("6.00"), parking("6.00"))),
        time_zone="UTC",
    )
    assert [(p.charging, p.end) for p in priced.periods] == [
        (True, at("2026-02-03 10:21")),
        (False, at("2026-02-03 10:37")),
    ]
    # 21 minutes x 6.00/h = 2.10; 16 minutes x 6.00/h = 1.60.
    assert charges(priced) == [("TIME", "0.35", "6.00", "2.10"), ("PARKING_TIME", "0.266667", "6.00", "1.60")]


def test_flat_time_and_energy_with_two_vat_rates() -> None:
    # FLAT 1.00 (21 %), ENERGY 0.30/kWh (21 %), TIME 1.20/h per minute begun (9 %); 1 h 30 min 20 s charging
    # 11.111 kWh. ENERGY 11.111 x 0.30 = 3.3333 → 3.33; TIME 5420 s → 5460 s (91 minutes) x 1.20/h = 1.82;
    # FLAT 1.00. The session costs 6.15 excl. VAT; VAT is the invoice's business (test_billing_invoices).
    start = at("2026-02-04 07:00")
    priced = pricing.price_session(
        session(start, start + timedelta(seconds=5420), 11_111),
        [],
        tariff=tariff(
            element(flat("1.00", vat="21"), energy("0.30", vat="21"), charging_time("1.20", vat="9", step=60))
        ),
        time_zone=AMSTERDAM,
    )
    assert charges(priced) == [
        ("FLAT", "1", "1.00", "1.00"),
        ("ENERGY", "11.111", "0.30", "3.33"),
        ("TIME", "1.516667", "1.20", "1.82"),
    ]
    assert [c.vat for c in priced.components] == [Decimal("21"), Decimal("21"), Decimal("9")]
    assert priced.amount == Decimal("6.15")


def test_a_yen_session_has_whole_yen() -> None:
    # 12.345 kWh x 31 JPY = 382.695 → 383; plus a 100 JPY session fee.
    priced = pricing.price_session(
        session(at("2026-03-01 01:00"), at("2026-03-01 03:00"), 12_345),
        [],
        tariff=tariff(element(energy("31"), flat("100")), currency="JPY"),
        time_zone="Asia/Tokyo",
    )
    assert charges(priced) == [("FLAT", "1", "100", "100"), ("ENERGY", "12.345", "31", "383")]
    assert format(priced.amount, "f") == "483"


def test_the_first_kwh_free_by_max_kwh() -> None:
    # Energy below 1 kWh costs 0.00, the rest 0.20: 20 kWh cost 19 x 0.20 = 3.80.
    priced = pricing.price_session(
        session(at("2026-02-05 10:00"), at("2026-02-05 12:00"), 20_000),
        [],
        tariff=tariff(element(energy("0.00"), maxKwh="1"), element(energy("0.20"))),
        time_zone="UTC",
    )
    assert charges(priced) == [("ENERGY", "1", "0.00", "0.00"), ("ENERGY", "19", "0.20", "3.80")]


def test_duration_restrictions_ocpi_supermarket_example() -> None:
    # OCPI 2.2.1 max_duration example: the first 30 minutes free, 0.25/kWh until 60 minutes, then 0.40.
    # 40 minutes: 5 kWh in the first 30 (free) and 1.2 kWh in the last 10 (0.30).
    start = at("2026-02-06 12:00")
    priced = pricing.price_session(
        session(start, start + timedelta(minutes=40), 6_200),
        readings((start + timedelta(minutes=30), 5_000)),
        tariff=tariff(
            element(energy("0.00"), maxDurationS=1800),
            element(energy("0.25"), maxDurationS=3600),
            element(energy("0.40")),
        ),
        time_zone="UTC",
    )
    assert charges(priced) == [("ENERGY", "5", "0.00", "0.00"), ("ENERGY", "1.2", "0.25", "0.30")]


def test_weekend_element_applies_on_local_weekend_days() -> None:
    # Saturday 2026-02-07 23:30 local (22:30Z) to Sunday 00:30: all weekend; Friday is not.
    weekend = tariff(element(energy("0.10"), dayOfWeek=["SATURDAY", "SUNDAY"]), element(energy("0.30")))
    saturday = pricing.price_session(
        session(at("2026-02-07 22:30"), at("2026-02-07 23:30"), 1_000), [], tariff=weekend, time_zone=AMSTERDAM
    )
    friday = pricing.price_session(
        session(at("2026-02-06 22:30"), at("2026-02-06 23:30"), 1_000), [], tariff=weekend, time_zone=AMSTERDAM
    )
    assert saturday.amount == Decimal("0.10")
    # Friday 23:30 to Saturday 00:30 local: half the energy on each day.
    assert charges(friday) == [("ENERGY", "0.5", "0.30", "0.15"), ("ENERGY", "0.5", "0.10", "0.05")]


def test_a_night_over_the_autumn_clock_change_bills_the_hours_that_passed() -> None:
    # 00:30 to 04:30 local on 25 October 2026 in Amsterdam is five hours: 02:00-03:00 happens twice.
    priced = pricing.price_session(
        session(at("2026-10-24 22:30"), at("2026-10-25 03:30"), 5_000),
        [],
        tariff=tariff(element(charging_time("2.00"))),
        time_zone=AMSTERDAM,
    )
    assert priced.duration_s == 5 * 3600
    assert charges(priced) == [("TIME", "5", "2.00", "10.00")]


def test_no_matching_element_means_no_cost_for_that_dimension() -> None:
    priced = pricing.price_session(
        session(at("2026-02-08 10:00"), at("2026-02-08 11:00"), 5_000),
        [],
        tariff=tariff(element(energy("0.30"), startDate="2027-01-01")),
        time_zone="UTC",
    )
    assert priced.components == ()
    assert priced.amount == Decimal("0.00")


def test_a_zero_length_session_still_pays_its_flat_fee() -> None:
    instant = at("2026-02-09 10:00")
    priced = pricing.price_session(
        session(instant, instant, 0), [], tariff=tariff(element(flat("0.50"), energy("0.30"))), time_zone="UTC"
    )
    assert charges(priced) == [("FLAT", "1", "0.50", "0.50")]


def test_the_tariff_must_be_in_the_site_currency() -> None:
    with pytest.raises(CurrencyMismatchError):
        pricing.price_session(
            session(at("2026-02-09 10:00"), at("2026-02-09 11:00"), 1_000),
            [],
            tariff=tariff(element(energy("0.30")), currency="USD"),
            time_zone="UTC",
            currency="EUR",
        )


START = datetime(2026, 5, 1, tzinfo=UTC)
prices = st.decimals(min_value=0, max_value=5, places=4).map(str)


@st.composite
def priced_sessions(draw: st.DrawFn) -> tuple[pricing.PricedSession, int, int, int]:
    """A random session (readings that rise then stay) priced with one element of random steps."""
    duration_s = draw(st.integers(1, 3 * 86_400))
    charging_s = draw(st.integers(0, duration_s))
    energy_wh = draw(st.integers(0, 200_000)) if charging_s else 0
    steps = draw(st.tuples(st.integers(1, 5000), st.integers(1, 3600), st.integers(1, 3600)))
    spec = tariff(
        element(
            energy(draw(prices), step=steps[0]),
            charging_time(draw(prices), step=steps[1]),
            parking(draw(prices), step=steps[2]),
        )
    )
    stop = START + timedelta(seconds=duration_s)
    points = [(START + timedelta(seconds=charging_s), energy_wh)] if charging_s < duration_s else []
    priced = pricing.price_session(session(START, stop, energy_wh), readings(*points), tariff=spec, time_zone=AMSTERDAM)
    return priced, energy_wh, charging_s if energy_wh else 0, duration_s


@settings(max_examples=200)
@given(priced_sessions())
def test_step_rounding_never_bills_less_than_was_used(case: tuple[pricing.PricedSession, int, int, int]) -> None:
    priced, energy_wh, charging_s, duration_s = case
    by_type = {charge.type.value: charge for charge in priced.components}
    component = priced.periods[0].components
    if "ENERGY" in by_type:
        billed_wh = by_type["ENERGY"].quantity * 1000
        assert energy_wh <= billed_wh < energy_wh + component[pricing.ENERGY].step_size
        exact = money.round_money(Fraction(energy_wh) * Fraction(by_type["ENERGY"].unit_price) / 1000, "EUR")
        assert by_type["ENERGY"].amount >= exact
    parking_s = duration_s - charging_s
    if "PARKING_TIME" in by_type:
        # Parking is rounded; charging time before it is billed exactly.
        billed_s = by_type["PARKING_TIME"].quantity * 3600
        assert parking_s - Decimal("0.5") <= billed_s < parking_s + component[pricing.PARKING_TIME].step_size + 1
        if "TIME" in by_type:
            assert abs(by_type["TIME"].quantity * 3600 - charging_s) <= Decimal("0.5")
    elif "TIME" in by_type:
        billed_s = by_type["TIME"].quantity * 3600
        assert charging_s - Decimal("0.5") <= billed_s < charging_s + component[pricing.TIME].step_size + 1
    assert priced.amount == sum((charge.amount for charge in priced.components), Decimal(0))
    assert priced.energy_wh == energy_wh


@st.composite
def one_price_sessions(draw: st.DrawFn) -> tuple[Session, list[MeterReading], list[dict[str, Any]]]:
    """A session inside May 2026 with readings that rise, pause and stay, and unrestricted elements."""
    start = START + timedelta(seconds=draw(st.integers(0, 20 * 86_400)), microseconds=draw(st.integers(0, 999_999)))
    duration_s = draw(st.sampled_from([0, 1, 59, 3_600, 7_200, 40_000]) | st.integers(0, 86_400))
    stop = start + timedelta(seconds=duration_s)
    offsets = sorted(draw(st.lists(st.integers(1, max(duration_s - 1, 1)), max_size=8, unique=True)))
    energy_wh, points = 0, []
    for offset in offsets:
        if offset < duration_s:
            energy_wh += draw(st.sampled_from([0, 0, 1, 2_500]) | st.integers(0, 9_000))
            points.append((start + timedelta(seconds=offset), energy_wh))
    energy_wh += draw(st.sampled_from([0, 0, 7]) | st.integers(0, 9_000)) if duration_s else 0
    dimensions = st.sampled_from([energy, charging_time, parking])
    vats, steps = st.sampled_from([None, "21", "9"]), st.sampled_from([1, 60, 900])
    elements = [
        element(
            *(
                make(draw(prices), vat=draw(vats), step=draw(steps))
                for make in draw(st.lists(dimensions, min_size=1, max_size=3))
            ),
            *([flat(draw(prices))] if draw(st.booleans()) else []),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    return session(start, stop, energy_wh), readings(*points), elements


@settings(max_examples=300)
@given(one_price_sessions())
def test_one_price_all_month_takes_a_short_cut_to_the_same_price(
    case: tuple[Session, list[MeterReading], list[dict[str, Any]]],
) -> None:
    # Elements without restrictions price most sessions, by a short cut (``pricing._one_price_part``); a
    # restriction that always holds (minDurationS 0) sends the same session down the general path.
    found, found_readings, elements = case
    shortcut = pricing.price_session(found, found_readings, tariff=tariff(*elements), time_zone=AMSTERDAM)
    parts = pricing.session_parts(found, found_readings, tariff=tariff(*elements), time_zone=AMSTERDAM)
    general = pricing.price_session(
        found,
        found_readings,
        tariff=tariff(*({**e, "restrictions": {"minDurationS": 0}} for e in elements)),
        time_zone=AMSTERDAM,
    )
    assert shortcut == general
    assert charges(shortcut) == charges(general)
    assert parts == general.parts
