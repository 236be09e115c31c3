"""Assemble one subscription's invoice for one month from its priced sessions.

The billing controller gathers the inputs (the site, the subscription, each session with its readings, its
charger's name and the tariff snapshot in force at its start) and calls ``build_invoice``; it writes the
returned spec as the Invoice named ``invoice_name(...)`` and the review list into its status. The function
is pure and deterministic: the same inputs, in any order, give an identical ``InvoiceSpec``, so a billing
pass that runs again rewrites a draft with the same content.

Lines are the month's part of each session (``Session``), the parts of late sessions in months whose
invoices are already final (``Adjustment``) and the prorated monthly fee (``MonthlyFee``), in order of
start. Each component charge is rounded once; a line's amount is the sum of its components; the subtotal
is the sum of the lines; VAT is computed once per rate on the sum of the components at that rate.
"""

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chargeops.api.gateway import MeterReading, Session
from chargeops.api.v1alpha1 import (
    InvoiceLine,
    InvoiceSpec,
    LineKind,
    LocalObjectReference,
    MonthlyFee,
    SessionForReview,
    SiteSpec,
    SubscriptionSpec,
    TariffSpec,
    VatLine,
)
from chargeops.api.v1alpha1.meta import DNS_SUBDOMAIN_MAX
from chargeops.billing import periods, proration, review, trusted_models
from chargeops.billing.energy_profile import ReadingOffsets
from chargeops.billing.errors import CurrencyMismatchError, InvoiceTooLargeError, SessionNotBillableError
from chargeops.billing.money import minor_digits, vat_amount, zero
from chargeops.billing.pricing import SessionPart, session_parts

# Limits of the Invoice kind (chargeops/api/v1alpha1/invoice.py).
MAX_LINES = 5000
DESCRIPTION_MAX = 256
# Hex digits of the hash that keeps a shortened invoice name unique.
NAME_HASH_DIGITS = 10
_KIND_ORDER = {LineKind.ADJUSTMENT: 0, LineKind.MONTHLY_FEE: 1, LineKind.SESSION: 2}


@dataclass(frozen=True)
class BillableSession:
    """A session with everything needed to price it."""

    session: Session
    readings: Sequence[MeterReading] | ReadingOffsets
    """Its energy register readings, in any order (as records or as columns)."""
    tariff: TariffSpec
    """The tariff snapshot in force at the session's start."""
    charger: str
    """Name of the Charger object the session took place at."""


@dataclass(frozen=True)
class InvoiceDraft:
    """What the billing controller writes: the Invoice's name and spec, and the sessions for review."""

    name: str
    spec: InvoiceSpec
    review: tuple[SessionForReview, ...]


def invoice_name(subscription: str, month: str) -> str:
    """The deterministic name of a subscription's invoice for ``month``: ``<subscription>-<YYYY-MM>``.

    A name that would pass the 253 characters of a DNS subdomain keeps the start of the subscription's name
    and adds a hash of all of it, so two long names never share an invoice name.
    """
    periods.parse_month(month)
    suffix = f"-{month}"
    if len(subscription) + len(suffix) <= DNS_SUBDOMAIN_MAX:
        return subscription + suffix
    digest = hashlib.sha256(subscription.encode()).hexdigest()[:NAME_HASH_DIGITS]
    head = subscription[: DNS_SUBDOMAIN_MAX - len(suffix) - NAME_HASH_DIGITS - 1].rstrip("-.")
    return f"{head}-{digest}{suffix}"


def build_invoice(
    *,
    site: str,
    site_spec: SiteSpec,
    subscription: str,
    subscription_spec: SubscriptionSpec,
    month: str,
    sessions: Iterable[BillableSession],
    late_sessions: Mapping[str, Iterable[BillableSession]] | None = None,
    monthly_fee: MonthlyFee | None = None,
) -> InvoiceDraft:
    """The invoice of ``subscription`` for ``month`` (``YYYY-MM`` in the site's time zone).

    ``sessions`` are the subscription's sessions that overlap the month; each contributes its part in the
    month. ``late_sessions`` maps an earlier month whose invoice is already final to the sessions that
    invoice missed; each contributes its part in that month as an adjustment line. ``monthly_fee`` (from the
    tariff the controller bills the fee by) is prorated over the subscription's days in the month.

    Flagged sessions and sessions whose data cannot be priced are left off and returned in ``review``.
    """
    tz = periods.zone(site_spec.time_zone)
    currency = site_spec.currency
    minor_digits(currency)  # refuse an unsupported currency before anything else
    name = invoice_name(subscription, month)
    lines: list[InvoiceLine] = []
    held: dict[str, SessionForReview] = {}
    for billable in _unique(sessions):
        part = _part(billable, month, tz=tz, currency=currency, held=held)
        if part is not None:
            lines.append(_session_line(billable, part, LineKind.SESSION, tz=tz))
    for late_month, missed in sorted((late_sessions or {}).items()):
        if late_month >= month:
            raise ValueError(f"late sessions of {late_month} cannot be adjusted on the invoice of {month}")
        for billable in _unique(missed):
            part = _part(billable, late_month, tz=tz, currency=currency, held=held)
            if part is not None:
                lines.append(_session_line(billable, part, LineKind.ADJUSTMENT, tz=tz))
    if monthly_fee is not None:
        fee_line = _monthly_fee_line(monthly_fee, subscription_spec, month, tz=tz, currency=currency)
        if fee_line is not None:
            lines.append(fee_line)
    if len(lines) > MAX_LINES:
        raise InvoiceTooLargeError(name, len(lines), MAX_LINES)
    lines.sort(key=_line_order)
    vat = vat_lines(lines, currency)
    # Every amount here is in ``currency`` already (the tariffs were checked against it).
    subtotal = sum((line.amount for line in lines), zero(currency))
    total = sum((entry.amount for entry in vat), subtotal)
    spec = InvoiceSpec(
        site_ref=LocalObjectReference(name=site),
        subscription_ref=LocalObjectReference(name=subscription),
        period=periods.month_period(month, tz),
        currency=currency,
        lines=lines,
        subtotal=subtotal,
        vat=vat,
        total=total,
    )
    return InvoiceDraft(name=name, spec=spec, review=tuple(held.values()))


def vat_lines(lines: Iterable[InvoiceLine], currency: str) -> list[VatLine]:
    """VAT per rate, computed once on the sum of the component amounts at that rate, by ascending rate.

    Components without a rate carry no VAT; a rate of 0 is listed (zero-rated is not the same as exempt).
    """
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        for charge in line.components or ():
            if charge.vat is not None:
                bases[charge.vat] = bases.get(charge.vat, zero(currency)) + charge.amount
    return [
        VatLine(rate=rate, base=base, amount=vat_amount(base, rate, currency)) for rate, base in sorted(bases.items())
    ]


def _unique(sessions: Iterable[BillableSession]) -> list[BillableSession]:
    """One entry per session id (the most recently updated record), in order of start."""
    latest: dict[str, BillableSession] = {}
    for billable in sessions:
        known = latest.get(billable.session.id)
        if known is None or billable.session.updated_at > known.session.updated_at:
            latest[billable.session.id] = billable
    return sorted(latest.values(), key=lambda billable: (billable.session.started_at, billable.session.id))


def _part(
    billable: BillableSession, month: str, *, tz: ZoneInfo, currency: str, held: dict[str, SessionForReview]
) -> SessionPart | None:
    """The session's part in ``month``, or None when it has none or goes to review instead."""
    session = billable.session
    if session.id in held:
        return None
    doubtful = review.flagged(session)
    if doubtful is not None:
        held[session.id] = doubtful
        return None
    try:
        parts = session_parts(session, billable.readings, tariff=billable.tariff, time_zone=tz, currency=currency)
    except (SessionNotBillableError, CurrencyMismatchError) as error:
        held[session.id] = review.failed(session, error)
        return None
    return next((part for part in parts if part.month == month), None)


def _session_line(billable: BillableSession, part: SessionPart, kind: LineKind, *, tz: ZoneInfo) -> InvoiceLine:
    session = billable.session
    if kind == LineKind.ADJUSTMENT:
        text = f"Late session of {part.month} at {billable.charger}"
    elif part.start != session.started_at or part.end != session.stopped_at:
        text = f"Charging at {billable.charger}, the {part.month} part of a session {_span(session, tz)}"
    else:
        text = f"Charging at {billable.charger}"
    # Trusted: every value is billing's own, already within the Invoice kind's limits.
    return trusted_models.build(
        InvoiceLine,
        kind=kind,
        description=_clipped(text),
        session_id=session.id,
        charger_ref=_charger_ref(billable.charger),
        start=periods.with_offset(part.start, tz),
        end=periods.with_offset(part.end, tz),
        energy_wh=part.energy_wh,
        duration_s=part.duration_s,
        components=list(part.components),
        amount=part.amount,
    )


@functools.lru_cache(maxsize=1024)
def _charger_ref(name: str) -> LocalObjectReference:
    # One frozen reference per charger: a month's lines name the same few chargers thousands of times.
    return LocalObjectReference(name=name)


def _monthly_fee_line(
    fee: MonthlyFee, subscription: SubscriptionSpec, month: str, *, tz: ZoneInfo, currency: str
) -> InvoiceLine | None:
    start_date = date.fromisoformat(subscription.start_date)
    end_date = None if subscription.end_date is None else date.fromisoformat(subscription.end_date)
    prorated = proration.monthly_fee(fee, month=month, start_date=start_date, end_date=end_date, currency=currency)
    if prorated is None:
        return None
    month_start, month_end = periods.month_bounds(month, tz)
    start = max(month_start, periods.day_start(start_date, tz))
    end = month_end if end_date is None else min(month_end, periods.day_start(end_date + timedelta(days=1), tz))
    if prorated.days_active == prorated.days_in_month:
        text = f"Monthly fee {month}"
    else:
        text = f"Monthly fee {month}, {prorated.days_active} of {prorated.days_in_month} days"
    return InvoiceLine(
        kind=LineKind.MONTHLY_FEE,
        description=text,
        start=periods.with_offset(start, tz),
        end=periods.with_offset(end, tz),
        components=[prorated.charge],
        amount=prorated.charge.amount,
    )


def _line_order(line: InvoiceLine) -> tuple[datetime, int, str]:
    assert line.start is not None  # every line this module writes has one
    return line.start, _KIND_ORDER[line.kind], line.session_id or ""


def _span(session: Session, tz: ZoneInfo) -> str:
    start = periods.with_offset(session.started_at, tz)
    stop = periods.with_offset(session.stopped_at or session.started_at, tz)
    return f"from {start:%Y-%m-%d %H:%M} to {stop:%Y-%m-%d %H:%M}"


def _clipped(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"
