"""step_size as OCPI 2.2.1 defines it: once per session for ENERGY, once for TIME and PARKING_TIME together,
on the session total, with the last relevant component's step; the surplus lands in the last period."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from chargeops.billing import pricing
from chargeops.billing.step_size import round_up_to_step
from tests.unit.billing.builders import charging_time, element, energy, parking, readings, session, tariff


def at(clock: str, day: str = "2026-03-02") -> datetime:
    return datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=UTC)


def billed(priced: pricing.PricedSession) -> list[tuple[str, str, str]]:
    """(type, unit price, amount) of each component."""
    return [(c.type.value, format(c.unit_price, "f"), format(c.amount, "f")) for c in priced.components]


def minutes(priced: pricing.PricedSession) -> list[Decimal]:
    return [(c.quantity * 60).quantize(Decimal("0.01")) for c in priced.components]


def test_time_step_uses_the_session_total_not_the_last_period() -> None:
    # OCPI 2.2.1 CDR step_size example: 5/h before 17:00 and 7/h after, both per 10 minutes. 6 minutes before
    # and 22 after make 28, rounded to 30: 24 minutes after 17:00 are billed (not 30).
    # 6 min x 5/h = 0.50; 24 min x 7/h = 2.80.
    spec = tariff(element(charging_time("5.00", step=600), endTime="17:00"), element(charging_time("7.00", step=600)))
    priced = pricing.price_session(session(at("16:54"), at("17:22"), 9_000), [], tariff=spec, time_zone="UTC")
    assert minutes(priced) == [Decimal("6.00"), Decimal("24.00")]
    assert billed(priced) == [("TIME", "5.00", "0.50"), ("TIME", "7.00", "2.80")]


def test_energy_step_uses_the_session_total() -> None:
    # OCPI 2.2.1 CDR step_size example: 0.20 before 17:00 and 0.27 after, both per 500 Wh; 4.3 kWh before and
    # 1.1 kWh after make 5.4, rounded to 5.5: 1.2 kWh after 17:00 (not 1.5).
    # 4.3 x 0.20 = 0.86; 1.2 x 0.27 = 0.324 → 0.32; together 1.18.
    spec = tariff(element(energy("0.20", step=500), endTime="17:00"), element(energy("0.27", step=500)))
    priced = pricing.price_session(
        session(at("16:00"), at("18:00"), 5_400), readings((at("17:00"), 4_300)), tariff=spec, time_zone="UTC"
    )
    assert [c.quantity for c in priced.components] == [Decimal("4.3"), Decimal("1.2")]
    assert priced.amount == Decimal("1.18")


def test_only_parking_is_rounded_when_charging_time_is_followed_by_parking() -> None:
    # OCPI 2.2.1 CDR step_size example: 1.00/h charging and 2.00/h parking, both per 10 minutes; 21 minutes
    # charging and 16 parked bill 21 + 20 minutes: 0.35 + 0.6667 → 0.67.
    spec = tariff(element(charging_time("1.00", step=600), parking("2.00", step=600)))
    priced = pricing.price_session(
        session(at("10:00"), at("10:37"), 5_000), readings((at("10:21"), 5_000)), tariff=spec, time_zone="UTC"
    )
    assert minutes(priced) == [Decimal("21.00"), Decimal("20.00")]
    assert billed(priced) == [("TIME", "1.00", "0.35"), ("PARKING_TIME", "2.00", "0.67")]


def test_twenty_one_minutes_charging_and_seven_parked_with_five_minute_steps() -> None:
    # OCPI 2.2.1 CDR step_size example: charging 21 minutes (not 25), parking 10 minutes.
    spec = tariff(element(charging_time("6.00", step=300), parking("6.00", step=300)))
    priced = pricing.price_session(
        session(at("10:00"), at("10:28"), 5_000), readings((at("10:21"), 5_000)), tariff=spec, time_zone="UTC"
    )
    assert minutes(priced) == [Decimal("21.00"), Decimal("10.00")]


STEP_TARIFF = tariff(
    # OCPI 2.2.1 tariffs, "Example Tariff to explain the step_size": 1.20/h before 17:00 per 30 minutes,
    # 2.40/h after 17:00 per 15 minutes, parking 1.00/h before 20:00 per 15 minutes.
    element(charging_time("1.20", step=1800), endTime="17:00"),
    element(charging_time("2.40", step=900), startTime="17:00"),
    element(parking("1.00", step=900), endTime="20:00"),
)


def test_switching_tariff_element_ocpi_example_2() -> None:
    # Plugs in at 16:35 and charges 35 minutes: 25 minutes before 17:00 (0.50), 45 - 25 = 20 after (0.80).
    priced = pricing.price_session(session(at("16:35"), at("17:10"), 7_000), [], tariff=STEP_TARIFF, time_zone="UTC")
    assert billed(priced) == [("TIME", "1.20", "0.50"), ("TIME", "2.40", "0.80")]
    assert priced.amount == Decimal("1.30")


def test_switching_to_a_free_parking_element_ocpi_example() -> None:
    # Plugs in at 19:55, charges 10 minutes, parks 2 minutes after 20:00 (free then): charging is the last
    # billed time, rounded to 15 minutes at 2.40/h = 0.60; the parking costs nothing.
    priced = pricing.price_session(
        session(at("19:55"), at("20:07"), 3_000), readings((at("20:05"), 3_000)), tariff=STEP_TARIFF, time_zone="UTC"
    )
    assert billed(priced) == [("TIME", "2.40", "0.60")]


def test_switching_tariff_element_ocpi_example_1_follows_the_rule_not_the_example() -> None:
    # 16:55, 10 minutes charging, 2 minutes parked. The spec's example rounds the charging up to 15 minutes and
    # absorbs the parking (0.50); the normative rule (CDR step_size, confirmed in ocpi/ocpi#546) bills the
    # charging exactly and rounds the parking: 5 min x 1.20 = 0.10, 5 min x 2.40 = 0.20, 15 min x 1.00 = 0.25.
    priced = pricing.price_session(
        session(at("16:55"), at("17:07"), 3_000), readings((at("17:05"), 3_000)), tariff=STEP_TARIFF, time_zone="UTC"
    )
    assert billed(priced) == [("TIME", "1.20", "0.10"), ("TIME", "2.40", "0.20"), ("PARKING_TIME", "1.00", "0.25")]


def test_a_partial_step_is_billed_as_a_whole_step() -> None:
    # OCPI 2.2.1 PriceComponent: 115.2 Wh with step 1 bills 116 Wh; with step 25, 125 Wh; with 500, 500 Wh.
    assert round_up_to_step(Fraction("115.2"), 1) == 116
    assert round_up_to_step(Fraction("115.2"), 25) == 125
    assert round_up_to_step(Fraction("115.2"), 500) == 500
    assert round_up_to_step(0, 300) == 0
    assert round_up_to_step(600, 300) == 600


@given(
    st.fractions(min_value=0, max_value=10**7, max_denominator=10**6),
    st.integers(min_value=1, max_value=86_400_000),
)
def test_stepping_never_bills_less_and_at_most_one_step_more(quantity: Fraction, step: int) -> None:
    stepped = round_up_to_step(quantity, step)
    assert quantity <= stepped < quantity + step
    assert stepped % step == 0


@given(st.integers(min_value=1, max_value=600), st.integers(min_value=0, max_value=600))
def test_charging_time_is_exact_whenever_parking_is_billed(charging_s: int, parking_s: int) -> None:
    start = at("09:00")
    stop = start + timedelta(seconds=charging_s + parking_s)
    points = readings((start + timedelta(seconds=charging_s), 1_000)) if parking_s else []
    priced = pricing.price_session(
        session(start, stop, 1_000),
        points,
        tariff=tariff(element(charging_time("3600", step=900), parking("3600", step=900))),
        time_zone="UTC",
    )
    # At 3600 per hour an amount is seconds: charging exact; parking (if any) up to the next 15 minutes.
    amounts = {c.type.value: c.amount for c in priced.components}
    if parking_s:
        assert amounts["TIME"] == charging_s
        assert amounts["PARKING_TIME"] == -(-parking_s // 900) * 900
    else:
        assert amounts["TIME"] == -(-charging_s // 900) * 900
