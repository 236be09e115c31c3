"""The monthly fee is prorated by local calendar days; the start day and the end day both count."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargeops.api.v1alpha1 import MonthlyFee
from chargeops.billing import proration

FEE = MonthlyFee.model_validate({"price": "9.90", "vat": "21"})


@pytest.mark.parametrize(
    ("start", "end", "month", "days", "amount"),
    [
        # From 12 October: 12..31 is 20 of 31 days; 9.90 x 20/31 = 6.3871 → 6.39.
        (date(2026, 10, 12), None, "2026-10", 20, "6.39"),
        # Until 12 October (inclusive): 12 days; 9.90 x 12/31 = 3.8323 → 3.83.
        (date(2026, 1, 1), date(2026, 10, 12), "2026-10", 12, "3.83"),
        # One day: 9.90 / 31 = 0.3194 → 0.32.
        (date(2026, 10, 12), date(2026, 10, 12), "2026-10", 1, "0.32"),
        # A whole month is the whole fee.
        (date(2026, 1, 1), None, "2026-10", 31, "9.90"),
        # February of a leap year: from the 15th, 15 of 29 days; 9.90 x 15/29 = 5.1207 → 5.12.
        (date(2028, 2, 15), None, "2028-02", 15, "5.12"),
    ],
)
def test_a_partial_month_pays_its_share_of_days(
    start: date, end: date | None, month: str, days: int, amount: str
) -> None:
    prorated = proration.monthly_fee(FEE, month=month, start_date=start, end_date=end, currency="EUR")
    assert prorated is not None
    assert prorated.days_active == days
    assert format(prorated.charge.amount, "f") == amount
    assert prorated.charge.vat == Decimal("21")
    assert prorated.charge.unit_price == Decimal("9.90")


def test_a_month_without_active_days_has_no_fee() -> None:
    assert (
        proration.monthly_fee(FEE, month="2026-09", start_date=date(2026, 10, 1), end_date=None, currency="EUR") is None
    )
    assert (
        proration.monthly_fee(
            FEE, month="2026-11", start_date=date(2026, 1, 1), end_date=date(2026, 10, 31), currency="EUR"
        )
        is None
    )


def test_a_yen_fee_is_prorated_to_whole_yen() -> None:
    # 1000 JPY x 20/31 = 645.16 → 645.
    fee = MonthlyFee.model_validate({"price": "1000"})
    prorated = proration.monthly_fee(fee, month="2026-10", start_date=date(2026, 10, 12), end_date=None, currency="JPY")
    assert prorated is not None
    assert format(prorated.charge.amount, "f") == "645"


dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
months = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(2024, 2028), st.integers(1, 12))
fees = st.decimals(min_value=0, max_value=10_000, places=2).map(lambda d: MonthlyFee(price=d))


@given(fees, months, dates, st.one_of(st.none(), st.integers(0, 400)))
def test_a_prorated_fee_is_between_nothing_and_the_full_fee(
    fee: MonthlyFee, month: str, start: date, length: int | None
) -> None:
    end = None if length is None else start + timedelta(days=length)
    prorated = proration.monthly_fee(fee, month=month, start_date=start, end_date=end, currency="EUR")
    if prorated is None:
        assert proration.active_days(month, start_date=start, end_date=end) == 0
        return
    assert 1 <= prorated.days_active <= prorated.days_in_month
    assert Decimal(0) <= prorated.charge.amount <= fee.price
    if prorated.days_active == prorated.days_in_month:
        assert prorated.charge.amount == fee.price
