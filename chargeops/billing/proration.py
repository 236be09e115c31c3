"""The monthly fee of a subscription, prorated by day for a month it starts or ends in.

A subscription pays ``fee × active days ÷ days in the month``. Days are local calendar days of the site (so
DST does not matter) and both the start day and the end day count: the API says ``spec.startDate`` is the
first day and ``spec.endDate`` the last day (inclusive). A subscription from 2026-10-12 on pays 20 of the
31 days of October; one from 2026-10-12 to 2026-10-12 pays one day.

The fee is shown as a ``FLAT`` component whose quantity is the share of the month, so the monthly fee's
VAT rate travels with it like every other charge's.
"""

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from chargeops.api.v1alpha1 import ComponentCharge, MonthlyFee, TariffDimensionType
from chargeops.billing import periods
from chargeops.billing.money import decimal_places, round_money

# The share of the month is shown with six decimals (the API's Amount allows six).
SHARE_DECIMALS = 6


@dataclass(frozen=True)
class ProratedFee:
    """The monthly fee for one subscription and month."""

    days_active: int
    days_in_month: int
    charge: ComponentCharge


def active_days(month: str, *, start_date: date, end_date: date | None) -> int:
    """Days of ``month`` within ``start_date`` … ``end_date`` (both inclusive; no end: open)."""
    year, number = periods.parse_month(month)
    first, last = date(year, number, 1), date(year, number, periods.days_in_month(month))
    begin = max(first, start_date)
    finish = last if end_date is None else min(last, end_date)
    return max(0, (finish - begin).days + 1)


def monthly_fee(
    fee: MonthlyFee, *, month: str, start_date: date, end_date: date | None, currency: str
) -> ProratedFee | None:
    """The fee share of ``month`` for a subscription active from ``start_date`` to ``end_date``, or None if it
    was not active on any day of the month."""
    days = active_days(month, start_date=start_date, end_date=end_date)
    if days == 0:
        return None
    total = periods.days_in_month(month)
    share = Fraction(days, total)
    charge = ComponentCharge(
        type=TariffDimensionType.FLAT,
        quantity=decimal_places(share, SHARE_DECIMALS),
        unit_price=fee.price,
        amount=round_money(share * Fraction(fee.price), currency),
        vat=fee.vat,
    )
    return ProratedFee(days_active=days, days_in_month=total, charge=charge)
