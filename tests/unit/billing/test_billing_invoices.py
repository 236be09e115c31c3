"""One invoice per subscription and month: lines in order of start, VAT once per rate, doubtful sessions held
for review, late sessions as adjustments, and the same invoice however often or in whatever order it is built."""

import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargeops.api.gateway import SessionFlag
from chargeops.api.v1alpha1 import LineKind, LocalObjectReference, MonthlyFee
from chargeops.api.v1alpha1.meta import DNS_SUBDOMAIN_MAX, DNS_SUBDOMAIN_PATTERN
from chargeops.billing import invoicing, money
from chargeops.billing.invoicing import BillableSession
from tests.unit.billing.builders import (
    charging_time,
    element,
    energy,
    flat,
    readings,
    session,
    site,
    subscription,
    tariff,
)

TARIFF = tariff(element(flat("1.00", vat="21"), energy("0.30", vat="21"), charging_time("1.20", vat="9", step=60)))
FEE = MonthlyFee.model_validate({"price": "9.90", "vat": "21"})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def billable(start: str, seconds: int, energy_wh: int, *, id: str, **kwargs: object) -> BillableSession:
    begin = at(start)
    return BillableSession(
        session=session(begin, begin + timedelta(seconds=seconds), energy_wh, id=id, **kwargs),  # type: ignore[arg-type]
        readings=[],
        tariff=TARIFF,
        charger="garage-1",
    )


OCTOBER = [
    billable("2026-10-14 07:00", 5420, 11_111, id="s-1"),
    billable("2026-10-20 17:00", 7200, 20_000, id="s-2"),
]


def build(sessions: list[BillableSession], **kwargs: object) -> invoicing.InvoiceDraft:
    arguments: dict[str, object] = {
        "site": "parkside",
        "site_spec": site(),
        "subscription": "ada",
        "subscription_spec": subscription(start_date="2026-10-12"),
        "month": "2026-10",
        "sessions": sessions,
        "monthly_fee": FEE,
    } | kwargs
    return invoicing.build_invoice(**arguments)  # type: ignore[arg-type]


def test_a_month_with_two_sessions_and_a_prorated_fee() -> None:
    # s-1: FLAT 1.00 + 11.111 kWh x 0.30 = 3.33 + 91 min x 1.20/h = 1.82  → 6.15
    # s-2: FLAT 1.00 + 20 kWh x 0.30 = 6.00 + 2 h x 1.20/h = 2.40         → 9.40
    # fee: from 12 October, 20 of 31 days x 9.90 = 6.3871                 → 6.39
    # subtotal 21.94; VAT 21 % on 1.00 + 3.33 + 1.00 + 6.00 + 6.39 = 17.72 → 3.7212 → 3.72;
    # VAT 9 % on 1.82 + 2.40 = 4.22 → 0.3798 → 0.38; total 21.94 + 3.72 + 0.38 = 26.04.
    draft = build(OCTOBER)
    spec = draft.spec
    assert draft.name == "ada-2026-10"
    assert [(line.kind, line.session_id, format(line.amount, "f")) for line in spec.lines] == [
        (LineKind.MONTHLY_FEE, None, "6.39"),
        (LineKind.SESSION, "s-1", "6.15"),
        (LineKind.SESSION, "s-2", "9.40"),
    ]
    assert format(spec.subtotal, "f") == "21.94"
    assert [(format(v.rate, "f"), format(v.base, "f"), format(v.amount, "f")) for v in spec.vat] == [
        ("9", "4.22", "0.38"),
        ("21", "17.72", "3.72"),
    ]
    assert format(spec.total, "f") == "26.04"
    assert spec.currency == "EUR"
    assert spec.period.month == "2026-10"
    assert draft.review == ()


def test_a_session_line_shows_where_when_and_how_much() -> None:
    line = build(OCTOBER).spec.lines[1]
    assert line.charger_ref == LocalObjectReference(name="garage-1")
    assert line.description == "Charging at garage-1"
    assert line.model_dump(mode="json", include={"start", "end"}) == {
        "start": "2026-10-14T09:00:00+02:00",
        "end": "2026-10-14T10:30:20+02:00",
    }
    assert (line.energy_wh, line.duration_s) == (11_111, 5420)
    assert [c.type.value for c in line.components or ()] == ["FLAT", "ENERGY", "TIME"]


def test_the_same_inputs_in_any_order_build_the_same_invoice() -> None:
    first = build(OCTOBER)
    shuffled = OCTOBER * 2  # a session read twice (a retried page) counts once
    random.Random(7).shuffle(shuffled)  # noqa: S311 - an order, not a secret
    again = build(shuffled)
    assert again == first
    assert again.spec.model_dump_json() == first.spec.model_dump_json()


def test_doubtful_sessions_are_held_for_review_and_not_billed() -> None:
    start = at("2026-10-15 10:00")
    open_session = BillableSession(session(start, None, 0, id="s-open"), [], TARIFF, "garage-1")
    backwards = BillableSession(
        session(start, start + timedelta(hours=1), 5_000, id="s-back"),
        readings((start + timedelta(minutes=10), 3_000), (start + timedelta(minutes=20), 2_000)),
        TARIFF,
        "garage-1",
    )
    dollars = BillableSession(
        session(start, start + timedelta(hours=1), 5_000, id="s-usd"),
        [],
        tariff(element(energy("0.30")), currency="USD"),
        "garage-1",
    )
    draft = build(
        [
            *OCTOBER,
            billable("2026-10-16 10:00", 3600, 5_000, id="s-est", flags=[SessionFlag.ESTIMATED_STOP]),
            billable("2026-10-17 10:00", 3600, 5_000, id="s-neg", flags=[SessionFlag.NEGATIVE_ENERGY]),
            billable("2026-10-18 10:00", 3600, 5_000, id="s-late", flags=[SessionFlag.DELIVERED_LATE]),
            open_session,
            backwards,
            dollars,
        ]
    )
    held = {entry.session_id: entry.reason for entry in draft.review}
    assert held == {
        "s-est": "EstimatedStop",
        "s-neg": "NegativeEnergy",
        "s-open": "SessionOpen",
        "s-back": "InconsistentMeterReadings",
        "s-usd": "CurrencyMismatch",
    }
    billed = [line.session_id for line in draft.spec.lines if line.kind == LineKind.SESSION]
    assert billed == ["s-1", "s-late", "s-2"]  # a late delivery alone is billed normally
    assert all(entry.message.startswith(f"Session {entry.session_id} at cp-1 was not billed") for entry in draft.review)


def test_late_sessions_of_a_finalized_month_become_adjustment_lines() -> None:
    # A September session the September invoice missed: FLAT 1.00 + 5 kWh x 0.30 + 1 h x 1.20 = 3.70.
    late = billable("2026-09-28 10:00", 3600, 5_000, id="s-0")
    draft = build(OCTOBER, late_sessions={"2026-09": [late]})
    first = draft.spec.lines[0]
    assert (first.kind, first.session_id, format(first.amount, "f")) == (LineKind.ADJUSTMENT, "s-0", "3.70")
    assert first.description == "Late session of 2026-09 at garage-1"
    assert format(draft.spec.subtotal, "f") == "25.64"  # 21.94 + 3.70


def test_adjustments_are_only_for_earlier_months() -> None:
    with pytest.raises(ValueError, match="cannot be adjusted"):
        build(OCTOBER, late_sessions={"2026-10": OCTOBER})


def test_a_session_over_the_month_end_bills_its_october_part_on_october() -> None:
    # 23:00 local on 31 October (22:00Z, winter time +01) to 02:00 local on 1 November, 9 kWh without
    # readings: one hour of three in October, 3 kWh (0.90) plus the session fee (1.00) and 1 h (1.20): 3.10.
    # November gets 6 kWh (1.80) and 2 h (2.40): 4.20.
    spanning = billable("2026-10-31 22:00", 3 * 3600, 9_000, id="s-3")
    october = build([spanning], monthly_fee=None)
    november = build([spanning], monthly_fee=None, month="2026-11")
    assert [(line.energy_wh, format(line.amount, "f")) for line in october.spec.lines] == [(3_000, "3.10")]
    assert [(line.energy_wh, format(line.amount, "f")) for line in november.spec.lines] == [(6_000, "4.20")]
    assert october.spec.lines[0].description == (
        "Charging at garage-1, the 2026-10 part of a session from 2026-10-31 23:00 to 2026-11-01 02:00"
    )
    assert november.spec.lines[0].model_dump(mode="json")["start"] == "2026-11-01T00:00:00+01:00"


def test_a_yen_invoice_has_whole_yen_everywhere() -> None:
    # 12.345 kWh x 31 = 382.695 → 383, plus 100 session fee: 483; VAT 10 % = 48.3 → 48; total 531.
    yen = tariff(element(energy("31", vat="10"), flat("100", vat="10")), currency="JPY")
    start = at("2026-10-05 01:00")
    draft = invoicing.build_invoice(
        site="tokyo",
        site_spec=site(time_zone="Asia/Tokyo", currency="JPY"),
        subscription="kenji",
        subscription_spec=subscription(),
        month="2026-10",
        sessions=[BillableSession(session(start, start + timedelta(hours=2), 12_345), [], yen, "garage-1")],
    )
    spec = draft.spec
    assert [format(x, "f") for x in (spec.subtotal, spec.vat[0].amount, spec.total)] == ["483", "48", "531"]
    assert spec.model_dump(mode="json")["total"] == "531"


def test_invoice_names_are_deterministic_and_valid_kubernetes_names() -> None:
    assert invoicing.invoice_name("ada", "2026-10") == "ada-2026-10"
    longest = "a" * 240 + ".b" + "c" * 11
    name = invoicing.invoice_name(longest, "2026-10")
    assert len(name) <= DNS_SUBDOMAIN_MAX
    assert re.fullmatch(DNS_SUBDOMAIN_PATTERN, name)
    assert name.endswith("-2026-10")
    assert name == invoicing.invoice_name(longest, "2026-10")
    assert name != invoicing.invoice_name(longest[:-1] + "d", "2026-10")
    fits = "a" * (DNS_SUBDOMAIN_MAX - len("-2026-10"))
    assert invoicing.invoice_name(fits, "2026-10") == fits + "-2026-10"


VAT_RATES = ["0", "9", "21", "5.5"]


@st.composite
def month_of_sessions(draw: st.DrawFn) -> tuple[str, list[BillableSession]]:
    currency = draw(st.sampled_from(["EUR", "JPY", "KWD"]))
    rates = [draw(st.sampled_from(VAT_RATES)) for _ in range(3)]
    prices = [str(draw(st.decimals(min_value=0, max_value=50, places=3))) for _ in range(3)]
    spec = tariff(
        element(energy(prices[0], vat=rates[0]), endTime="07:00"),
        element(energy(prices[1], vat=rates[1], step=draw(st.integers(1, 1000))), flat(prices[2], vat=rates[2])),
        currency=currency,
    )
    found = []
    for number in range(draw(st.integers(0, 12))):
        begin = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 31 * 86_400)))
        stop = begin + timedelta(seconds=draw(st.integers(0, 2 * 86_400)))
        found.append(
            BillableSession(session(begin, stop, draw(st.integers(0, 90_000)), id=f"s-{number}"), [], spec, "c1")
        )
    return currency, found


@settings(max_examples=100)
@given(month_of_sessions())
def test_totals_add_up_and_vat_is_computed_once_per_rate(case: tuple[str, list[BillableSession]]) -> None:
    currency, sessions = case
    spec = invoicing.build_invoice(
        site="s",
        site_spec=site(currency=currency),
        subscription="sub",
        subscription_spec=subscription(),
        month="2026-03",
        sessions=sessions,
    ).spec
    assert spec.subtotal == sum((line.amount for line in spec.lines), Decimal(0))
    components = [charge for line in spec.lines for charge in line.components or ()]
    for line in spec.lines:
        assert line.amount == sum((charge.amount for charge in line.components or ()), Decimal(0))
    assert len({entry.rate for entry in spec.vat}) == len(spec.vat)
    for entry in spec.vat:
        base = sum((c.amount for c in components if c.vat == entry.rate), Decimal(0))
        assert entry.base == base
        assert entry.amount == money.round_money(Fraction(base) * Fraction(entry.rate) / 100, currency)
    assert spec.total == spec.subtotal + sum((entry.amount for entry in spec.vat), Decimal(0))
    starts = [line.start for line in spec.lines]
    assert starts == sorted(starts)  # type: ignore[type-var]
    digits = money.minor_digits(currency)
    assert all(amount.as_tuple().exponent == -digits for amount in (spec.subtotal, spec.total))


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        ([SessionFlag.ESTIMATED_START], "EstimatedStart"),
        ([SessionFlag.UNKNOWN_ID_TAG], "UnknownIdTag"),
        ([SessionFlag.DELIVERED_LATE, SessionFlag.ESTIMATED_STOP], "EstimatedStop"),
        ([SessionFlag.UNKNOWN_ID_TAG, SessionFlag.NEGATIVE_ENERGY], "NegativeEnergy"),  # the first in precedence
    ],
)
def test_each_review_flag_holds_a_session(flags: list[SessionFlag], reason: str) -> None:
    draft = build([billable("2026-10-16 10:00", 3600, 5_000, id="s-x", flags=flags)], monthly_fee=None)
    assert [(entry.session_id, entry.reason) for entry in draft.review] == [("s-x", reason)]
    assert draft.spec.lines == []
    assert format(draft.spec.total, "f") == "0.00"


def test_a_session_over_more_prices_than_a_line_holds_is_held() -> None:
    # Ten hourly prices: a ten-hour session would need ten charges on one line; a line holds eight.
    hourly = tariff(
        *(
            element(energy(f"0.{10 + hour}"), startTime=f"{hour:02d}:00", endTime=f"{hour + 1:02d}:00")
            for hour in range(10)
        )
    )
    start = at("2026-10-15 22:00")  # midnight in Amsterdam (summer time)
    draft = build(
        [BillableSession(session(start, start + timedelta(hours=10), 10_000, id="s-long"), [], hourly, "garage-1")],
        monthly_fee=None,
    )
    assert [(entry.session_id, entry.reason) for entry in draft.review] == [("s-long", "TooManyComponents")]
