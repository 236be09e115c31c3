"""Billing: tariffs, pricing and invoices. Pure: no I/O, no clock, no logging.

The billing controller prices each session with ``price_session`` (or lets ``build_invoice`` do it) and
writes what ``build_invoice`` returns as the Invoice named ``invoice_name(subscription, month)``. The rules
— OCPI 2.2.1 tariffs, step sizes, rounding, VAT, month splits, proration — are in docs/billing-rules.md.
Inside the project, import the modules and call through them (``from chargeops.billing import pricing``).
"""

from chargeops.billing.errors import (
    BillingError,
    CurrencyMismatchError,
    InconsistentMeterReadingsError,
    InvalidMonthError,
    InvalidSessionTimesError,
    InvalidTimeZoneError,
    InvoiceTooLargeError,
    SessionNotBillableError,
    SessionOpenError,
    TooManyComponentsError,
    UnsupportedCurrencyError,
)
from chargeops.billing.invoicing import BillableSession, InvoiceDraft, build_invoice, invoice_name, vat_lines
from chargeops.billing.money import ROUNDING, Money, minor_digits, round_money, vat_amount
from chargeops.billing.periods import month_bounds, month_of, month_period
from chargeops.billing.pricing import PricedSession, SessionPart, price_session
from chargeops.billing.proration import ProratedFee, active_days, monthly_fee
from chargeops.billing.review import REVIEW_FLAGS
from chargeops.billing.splitting import SessionSlice, split_by_month

__all__ = [
    "REVIEW_FLAGS",
    "ROUNDING",
    "BillableSession",
    "BillingError",
    "CurrencyMismatchError",
    "InconsistentMeterReadingsError",
    "InvalidMonthError",
    "InvalidSessionTimesError",
    "InvalidTimeZoneError",
    "InvoiceDraft",
    "InvoiceTooLargeError",
    "Money",
    "PricedSession",
    "ProratedFee",
    "SessionNotBillableError",
    "SessionOpenError",
    "SessionPart",
    "SessionSlice",
    "TooManyComponentsError",
    "UnsupportedCurrencyError",
    "active_days",
    "build_invoice",
    "invoice_name",
    "minor_digits",
    "month_bounds",
    "month_of",
    "month_period",
    "monthly_fee",
    "price_session",
    "round_money",
    "split_by_month",
    "vat_amount",
    "vat_lines",
]
