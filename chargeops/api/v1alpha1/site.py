"""Site: where chargers are installed, on which plan, in which currency and time zone.

A Site is what the other kinds point at with ``spec.siteRef``: its plan decides whether pay-per-month may be
turned on, its time zone cuts billing periods, and its currency is the one every tariff of it must use.
"""

from datetime import timedelta
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from chargeops.api.v1alpha1.meta import (
    AGE_COLUMN,
    ApiModel,
    Conditions,
    LocalObjectReference,
    PrinterColumn,
    Resource,
    ResourceNames,
    SecretKeySelector,
    condition_column,
    matches,
    rule,
    validations,
)

# IANA names look like "UTC", "Europe/Amsterdam" or "America/Argentina/Buenos_Aires". The API server checks
# the shape; the operator checks that the zone exists in its tz database (reason InvalidTimeZone).
TIME_ZONE_PATTERN = r"^(UTC|[A-Z][A-Za-z_-]*(/[A-Za-z0-9_+-]+){1,2})$"
# ISO 4217 alphabetic code.
CURRENCY_PATTERN = r"^[A-Z]{3}$"
# A Go-style duration limited to hours and minutes ("72h", "36h30m"), the unit Flux and Kubernetes users know.
DURATION_PATTERN = r"^([0-9]{1,4}h([0-9]{1,2}m)?|[0-9]{1,4}m)$"


class Plan(StrEnum):
    """The commercial plan a site is on; pay-per-month needs Business."""

    BASIC = "Basic"  # chargers can only charge for free
    BUSINESS = "Business"  # chargers may be switched to pay-per-month


def parse_duration(value: str) -> timedelta:
    """Turn a duration such as `72h` or `36h30m` into a timedelta."""
    hours, _, rest = value.partition("h") if "h" in value else ("0", "", value)
    minutes = rest.removesuffix("m") or "0"
    return timedelta(hours=int(hours or "0"), minutes=int(minutes))


class StripeSettings(ApiModel):
    """Where invoices are mirrored in Stripe."""

    api_key_secret_ref: SecretKeySelector
    """Secret key holding the Stripe secret API key (`sk_live_…` or `sk_test_…`), e.g. `{name: stripe, key: apiKey}`."""

    api_base: str | None = Field(default=None, max_length=512, pattern=r"^https?://[^\s]+$")
    """Base URL of the Stripe API. If unset, Stripe's public API is used; tests point it at stripe-mock."""


class BillingSettings(ApiModel):
    """How and when a site's subscribers are invoiced."""

    grace_period: str = Field(
        default="72h",
        max_length=16,
        json_schema_extra=validations(
            matches(DURATION_PATTERN, "gracePeriod must be a duration in hours and minutes, e.g. 72h or 36h30m")
        ),
    )
    """How long after a month ends its invoices stay Draft, so sessions that chargers deliver late (offline
    transactions) still land on them, e.g. `72h`. If unset, defaults to `72h`. Hours and minutes only."""

    invoice_number_prefix: str = Field(default="INV-", max_length=16, pattern=r"^[A-Za-z0-9-]*$")
    """Text before the sequential number of each finalized invoice, e.g. `GARAGE-` gives `GARAGE-000042`.
    If unset, defaults to `INV-`."""

    stripe: StripeSettings | None = None
    """Mirror finalized invoices to Stripe. If unset, invoices live only as Invoice objects."""


class SmtpSettings(ApiModel):
    """The mail server invitations are sent through."""

    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.-]+$")
    """Host name or address of the SMTP server, e.g. `smtp.example.com`."""

    port: int = Field(default=587, ge=1, le=65_535)
    """TCP port, e.g. `587` (submission with STARTTLS). If unset, defaults to 587."""

    starttls: bool = True
    """Upgrade the connection with STARTTLS before sending. If unset, defaults to true; set false only
    for a server on a trusted network."""

    credentials_secret_ref: LocalObjectReference | None = None
    """Secret with keys `username` and `password` to log in with, e.g. `{name: smtp}`. If unset, no login."""

    from_address: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    """Sender address, e.g. `chargers@parkside.example`."""

    from_name: str | None = Field(default=None, max_length=128)
    """Sender name shown to subscribers, e.g. `Parkside Garage`. If unset, the site's display name."""


class InvitationSettings(ApiModel):
    """How subscribers are invited and accept their contract."""

    acceptance_required: bool = True
    """Whether a subscriber must accept the invitation before their id tags reach the chargers. If unset,
    defaults to true; false makes new Subscriptions active at once and sends no email."""

    smtp: SmtpSettings | None = None
    """Mail server for invitations. Required when acceptance is required."""

    portal_url: str | None = Field(default=None, max_length=512, pattern=r"^https?://[^\s]+$")
    """Public base URL of `chargeops portal`, where the links in invitations lead, e.g.
    `https://charge.parkside.example`."""

    link_validity: str = Field(
        default="168h",
        max_length=16,
        json_schema_extra=validations(
            matches(DURATION_PATTERN, "linkValidity must be a duration in hours and minutes, e.g. 168h")
        ),
    )
    """How long an invitation link stays valid, e.g. `168h` (a week). If unset, defaults to `168h`."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            rule(
                "!self.acceptanceRequired || (has(self.smtp) && has(self.portalUrl))",
                "invitations.smtp and invitations.portalUrl are required when acceptanceRequired is true",
            )
        )
    )


class SiteSpec(ApiModel):
    """Desired state of a Site: its plan, currency, time zone and billing settings."""

    display_name: str | None = Field(default=None, max_length=128)
    """Name shown to subscribers in invitations and invoices, e.g. `Parkside Garage`. If unset, the object's
    name is used."""

    plan: Plan
    """Commercial plan: `Basic` or `Business`. Only a Business site may turn on pay-per-month charging."""

    time_zone: str = Field(
        default="UTC",
        max_length=64,
        json_schema_extra=validations(
            matches(TIME_ZONE_PATTERN, "timeZone must be an IANA time zone name such as Europe/Amsterdam or UTC")
        ),
    )
    """IANA time zone of the site, e.g. `Europe/Amsterdam`. Billing months start at local midnight in this
    zone. If unset, defaults to `UTC`."""

    currency: str = Field(
        max_length=3,
        json_schema_extra=validations(
            matches(CURRENCY_PATTERN, "currency must be an ISO 4217 code of three capital letters, e.g. EUR"),
            rule("self == oldSelf", "currency is immutable: issued invoices are in it"),
        ),
    )
    """ISO 4217 currency of all prices and invoices of the site, e.g. `EUR`. Immutable."""

    invitations: InvitationSettings | None = None
    """Invitation emails and the acceptance page. If unset, subscribers accept out of band: a person sets
    the `chargeops.io/accepted` annotation on the Subscription."""

    billing: BillingSettings = Field(default_factory=BillingSettings)
    """Invoicing settings. If unset, invoices are finalized 72 hours after the month ends, not in Stripe."""


class SiteStatus(ApiModel):
    """Observed state of a Site. Set by the operator. Read-only."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The `metadata.generation` this status was computed from."""

    conditions: Conditions | None = None
    """Current state: `Ready` is True when the site is valid and usable."""

    last_invoice_number: int | None = Field(default=None, ge=0)
    """The number of the site's most recently finalized invoice; the next one gets this plus one. Written
    with optimistic concurrency, so numbers have no gaps. Set by the billing controller."""

    last_invoice: str | None = Field(default=None, max_length=253)
    """Name of the Invoice that `lastInvoiceNumber` was given to. Reserved in the same write as the
    number, so a controller that stops between reserving and finalizing resumes with the same number."""


class Site(Resource):
    """A place with chargers, billed in one currency on calendar months of its time zone."""

    names = ResourceNames(
        kind="Site",
        plural="sites",
        singular="site",
        short_names=("cosite",),
        printer_columns=(
            PrinterColumn("Plan", ".spec.plan", description="Commercial plan."),
            PrinterColumn("Currency", ".spec.currency", description="ISO 4217 currency."),
            PrinterColumn("TimeZone", ".spec.timeZone", description="IANA time zone of billing periods."),
            condition_column("Ready"),
            AGE_COLUMN,
        ),
    )

    kind: Literal["Site"] = "Site"
    spec: SiteSpec
    status: SiteStatus | None = None
