"""Invoice: what one subscription owes for one month, written by the billing controller.

An Invoice is created as a draft after its month closes, keeps collecting late sessions through the site's
grace period, then is finalized: it gets the site's next number and the API server refuses any further
change to its spec. Corrections go on the next month's invoice as adjustment lines.
"""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from chargeops.api.v1alpha1.meta import (
    AGE_COLUMN,
    Amount,
    ApiModel,
    Conditions,
    LocalObjectReference,
    PrinterColumn,
    Resource,
    ResourceNames,
    VatRate,
    condition_column,
    matches,
    rule,
    validations,
)
from chargeops.api.v1alpha1.site import CURRENCY_PATTERN
from chargeops.api.v1alpha1.tariff import TariffDimensionType

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class LineKind(StrEnum):
    """Why a line is on the invoice."""

    SESSION = "Session"  # a charging session of the period
    MONTHLY_FEE = "MonthlyFee"  # the tariff's monthly fee, prorated by day
    ADJUSTMENT = "Adjustment"  # a session of an earlier, already finalized period


class InvoicePhase(StrEnum):
    """Where an invoice is in its life."""

    DRAFT = "Draft"  # the grace period runs; lines may still change
    FINALIZED = "Finalized"  # numbered and immutable
    PAID = "Paid"  # Stripe reports it paid


class Period(ApiModel):
    """A calendar month in the site's time zone."""

    month: str = Field(
        max_length=7,
        json_schema_extra=validations(matches(MONTH_PATTERN, "period.month must be YYYY-MM, e.g. 2026-10")),
    )
    """The month, e.g. `2026-10`."""

    start: datetime
    """First instant of the month (local midnight on the 1st), with the site's UTC offset."""

    end: datetime
    """First instant after the month (exclusive), with the site's UTC offset."""


class ComponentCharge(ApiModel):
    """What one price component of a line cost."""

    type: TariffDimensionType
    """Dimension charged: `ENERGY`, `TIME`, `FLAT` or `PARKING_TIME`."""

    quantity: Amount
    """Billed quantity after step-size rounding: kWh for `ENERGY`, hours for `TIME` and `PARKING_TIME`,
    `1` for a session's `FLAT`, the share of the month (e.g. `0.645161`) for a prorated monthly fee."""

    unit_price: Amount
    """Price per unit excluding VAT."""

    amount: Amount
    """Quantity times unit price, rounded to the currency's minor unit, excluding VAT."""

    vat: VatRate | None = None
    """VAT rate of this component, in percent."""


class InvoiceLine(ApiModel):
    """One line of an invoice: a session, the monthly fee, or an adjustment."""

    kind: LineKind
    """`Session`, `MonthlyFee` or `Adjustment`."""

    description: str = Field(max_length=256)
    """What the line is for, in words, e.g. `Charging at garage-north-1`."""

    session_id: str | None = Field(default=None, max_length=64)
    """The gateway's id of the charging session, for `Session` and `Adjustment` lines."""

    charger_ref: LocalObjectReference | None = None
    """Charger where the session took place."""

    start: datetime | None = None
    """Start of the session, in the site's local time with offset."""

    end: datetime | None = None
    """End of the session (or of the part in this period), in the site's local time with offset."""

    energy_wh: int | None = None
    """Energy delivered in the period, in Wh."""

    duration_s: int | None = Field(default=None, ge=0)
    """Time from the line's start to its end (charging and parking), in seconds."""

    components: list[ComponentCharge] | None = Field(default=None, max_length=8)
    """What each price component contributed."""

    amount: Amount
    """Total of the line excluding VAT, rounded to the currency's minor unit."""


class VatLine(ApiModel):
    """VAT due at one rate: computed once per invoice on the sum of the lines at that rate."""

    rate: VatRate
    """VAT rate in percent."""

    base: Amount
    """Sum of the line amounts at this rate, excluding VAT."""

    amount: Amount
    """VAT on the base, rounded once to the currency's minor unit."""


class InvoiceSpec(ApiModel):
    """The content of an invoice. Written by the billing controller; immutable once finalized."""

    site_ref: LocalObjectReference
    """Site that issues the invoice."""

    subscription_ref: LocalObjectReference
    """Subscription billed."""

    period: Period
    """Month billed."""

    currency: str = Field(
        max_length=3,
        json_schema_extra=validations(
            matches(CURRENCY_PATTERN, "currency must be an ISO 4217 code of three capital letters, e.g. EUR")
        ),
    )
    """ISO 4217 currency of every amount, e.g. `EUR`."""

    lines: list[InvoiceLine] = Field(default_factory=list, max_length=5000)
    """Sessions, the monthly fee and adjustments, in order of start."""

    subtotal: Amount
    """Sum of the line amounts, excluding VAT."""

    vat: list[VatLine] = Field(default_factory=list, max_length=16)
    """VAT per rate."""

    total: Amount
    """Subtotal plus VAT."""

    finalized: bool = False
    """Whether the invoice is final: numbered, and its spec can no longer change."""

    number: str | None = Field(default=None, max_length=64)
    """Sequential invoice number within the site, e.g. `INV-000042`. Set when finalized."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            rule(
                "!has(oldSelf.finalized) || !oldSelf.finalized || self == oldSelf",
                "the spec of a finalized Invoice cannot change; corrections go on the next invoice as adjustment lines",
            ),
            rule("!self.finalized || has(self.number)", "a finalized Invoice needs spec.number"),
        )
    )


class StripeRefs(ApiModel):
    """Where the invoice lives in Stripe."""

    customer_id: str | None = Field(default=None, max_length=255)
    """Stripe customer of the subscription, e.g. `cus_…`."""

    invoice_id: str | None = Field(default=None, max_length=255)
    """Stripe invoice, e.g. `in_…`."""


class SessionForReview(ApiModel):
    """A session the billing controller did not price because its data is doubtful."""

    session_id: str = Field(max_length=64)
    """The gateway's id of the session."""

    reason: str = Field(max_length=64)
    """Why it needs a person, one CamelCase word, e.g. `EstimatedStop` or `NegativeEnergy`."""

    message: str = Field(default="", max_length=1024)
    """What is doubtful about it."""


class InvoiceStatus(ApiModel):
    """Observed state of an Invoice. Set by the billing controller. Read-only."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The `metadata.generation` this status was computed from."""

    conditions: Conditions | None = None
    """Current state: `Ready` is True once finalized (and pushed to Stripe when the site uses it)."""

    phase: InvoicePhase | None = None
    """`Draft`, `Finalized` or `Paid`."""

    finalized_at: datetime | None = None
    """When the invoice was finalized."""

    stripe: StripeRefs | None = None
    """Stripe objects of this invoice."""

    review: list[SessionForReview] | None = Field(default=None, max_length=1000)
    """Sessions left off the invoice until a person looks at them."""


class Invoice(Resource):
    """What one subscription owes for one calendar month of its site."""

    names = ResourceNames(
        kind="Invoice",
        plural="invoices",
        singular="invoice",
        short_names=("inv",),
        printer_columns=(
            PrinterColumn("Subscription", ".spec.subscriptionRef.name", description="Subscription billed."),
            PrinterColumn("Period", ".spec.period.month", description="Month billed."),
            PrinterColumn("Number", ".spec.number", description="Invoice number, once finalized."),
            PrinterColumn("Total", ".spec.total", description="Total including VAT."),
            PrinterColumn("Currency", ".spec.currency", description="ISO 4217 currency."),
            PrinterColumn("Phase", ".status.phase", description="Draft, Finalized or Paid."),
            condition_column("Ready", priority=1),
            AGE_COLUMN,
        ),
    )

    kind: Literal["Invoice"] = "Invoice"
    spec: InvoiceSpec
    status: InvoiceStatus | None = None
