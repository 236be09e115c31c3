"""Invoices for people: a plain-text table for a terminal and a printable, self-contained HTML document.

``chargeops invoice show`` and ``chargeops invoice render`` (``cli/invoice.py``) call this with an Invoice
and the Site and Subscription it names, as read from the API server. Both outputs come from one view of
the invoice, so the terminal and the page never disagree: amounts with the currency's minor-unit digits,
times in the site's time zone, every line with its price components, VAT per rate, and the sessions held
for review. Pure like the rest of billing: no clock, no network; the only file read is the package's own
HTML template.
"""

import calendar
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from chargeops.api import v1alpha1
from chargeops.billing import money
from chargeops.errors import ChargeOpsError

_KINDS = {
    v1alpha1.LineKind.SESSION: "Session",
    v1alpha1.LineKind.MONTHLY_FEE: "Monthly fee",
    v1alpha1.LineKind.ADJUSTMENT: "Adjustment",
}
# How each OCPI dimension reads on an invoice: its name and the unit of ComponentCharge.quantity.
_DIMENSIONS = {
    v1alpha1.TariffDimensionType.ENERGY: ("Energy", "kWh"),
    v1alpha1.TariffDimensionType.TIME: ("Charging time", "h"),
    v1alpha1.TariffDimensionType.PARKING_TIME: ("Parking time", "h"),
    v1alpha1.TariffDimensionType.FLAT: ("Session fee", "session"),
}
_MONTHLY_FEE = ("Monthly fee", "month")
_WH_PER_KWH_EXPONENT = -3
_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("chargeops.billing", "templates"),
    autoescape=True,  # every value is escaped; the template marks nothing safe
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class UnknownTimeZoneError(ChargeOpsError):
    """The Site's time zone is not in this machine's tz database, so local times cannot be shown."""

    reason = "InvalidTimeZone"

    def __init__(self, message: str, *, time_zone: str) -> None:
        super().__init__(message)
        self.time_zone = time_zone


@dataclasses.dataclass(frozen=True)
class ComponentView:
    """One price component of a line, formatted."""

    label: str
    quantity: str
    unit: str
    unit_price: str
    amount: str
    vat: str | None


@dataclasses.dataclass(frozen=True)
class LineView:
    """One invoice line, formatted."""

    number: int
    kind: str
    description: str
    charger: str
    session_id: str
    start: str
    end: str

    @property
    def when(self) -> str:
        """``2026-10-03 18:04–21:30``: start and end, as far as either is known."""
        return f"{self.start}–{self.end}" if self.start and self.end else self.start or self.end

    energy_kwh: str
    duration: str
    amount: str
    components: Sequence[ComponentView]


@dataclasses.dataclass(frozen=True)
class VatView:
    """VAT at one rate, formatted."""

    rate: str
    base: str
    amount: str


@dataclasses.dataclass(frozen=True)
class ReviewView:
    """A session held off the invoice for a person to look at."""

    session_id: str
    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class InvoiceView:
    """Everything a person sees on an invoice, as text; both renderers lay this out."""

    reference: str
    site: str
    subscriber: str
    subscriber_email: str | None
    month: str
    period: str
    time_zone: str
    number: str
    phase: str
    is_draft: bool
    currency: str
    lines: Sequence[LineView]
    subtotal: str
    vat: Sequence[VatView]
    total: str
    review: Sequence[ReviewView]
    stripe_invoice_id: str | None
    finalized_at: str | None
    notes: Sequence[str]


def invoice_text(
    invoice: v1alpha1.Invoice, *, site: v1alpha1.Site | None, subscription: v1alpha1.Subscription | None
) -> str:
    """The invoice as a plain-text table for a terminal.

    ``site`` and ``subscription`` are the objects the invoice names, or None when they no longer exist:
    the invoice is still shown, with times at their stored offsets and the subscription's name.
    """
    return _text(_view(invoice, site=site, subscription=subscription))


def invoice_html(
    invoice: v1alpha1.Invoice, *, site: v1alpha1.Site | None, subscription: v1alpha1.Subscription | None
) -> str:
    """The invoice as one self-contained, printable HTML document: inline CSS, no script, all text escaped."""
    template = _ENVIRONMENT.get_template("invoice.html.j2")
    return template.render(invoice=_view(invoice, site=site, subscription=subscription))


def format_amount(amount: Decimal, currency: str) -> str:
    """``amount`` with the currency's minor-unit digits and thousands separators, e.g. ``1,234.50``.

    Digits beyond the minor unit are kept rather than rounded away, and a currency billing does not know is
    shown as stored: an invoice shows what it holds.
    """
    digits = money.MINOR_UNITS.get(currency)
    quantized = amount.quantize(Decimal(1).scaleb(-digits)) if digits is not None else amount
    return format(quantized if quantized == amount else amount, ",f")


def _view(
    invoice: v1alpha1.Invoice, *, site: v1alpha1.Site | None, subscription: v1alpha1.Subscription | None
) -> InvoiceView:
    spec, status = invoice.spec, invoice.status
    zone = _zone(site)
    currency = spec.currency
    notes = []
    if site is None:
        notes.append(f"Site {spec.site_ref.name} does not exist; times are shown at their stored UTC offsets.")
    if subscription is None:
        subscription_name = spec.subscription_ref.name
        notes.append(
            f"Subscription {subscription_name} does not exist; the subscriber is shown as {subscription_name}."
        )
    phase = (status.phase if status and status.phase else None) or (
        v1alpha1.InvoicePhase.FINALIZED if spec.finalized else v1alpha1.InvoicePhase.DRAFT
    )
    finalized_at = status.finalized_at if status else None
    return InvoiceView(
        reference=f"{invoice.metadata.get('namespace', '')}/{invoice.metadata.get('name', '')}".lstrip("/"),
        site=(site.spec.display_name or str(site.metadata.get("name", ""))) if site else spec.site_ref.name,
        subscriber=subscription.spec.subscriber.name if subscription else spec.subscription_ref.name,
        subscriber_email=subscription.spec.subscriber.email if subscription else None,
        month=_month_name(spec.period.month),
        period=f"{_local(spec.period.start, zone):%Y-%m-%d} – {_last_day(spec.period.end, zone):%Y-%m-%d}",
        time_zone=site.spec.time_zone if site else "stored UTC offsets",
        number=spec.number or "Draft",
        phase=str(phase),
        is_draft=phase is v1alpha1.InvoicePhase.DRAFT,
        currency=currency,
        lines=[_line(number, line, currency, zone) for number, line in enumerate(spec.lines, start=1)],
        subtotal=format_amount(spec.subtotal, currency),
        vat=[
            VatView(_percent(vat.rate), format_amount(vat.base, currency), format_amount(vat.amount, currency))
            for vat in spec.vat
        ],
        total=format_amount(spec.total, currency),
        review=[ReviewView(r.session_id, r.reason, r.message) for r in (status.review or [])] if status else [],
        stripe_invoice_id=status.stripe.invoice_id if status and status.stripe else None,
        finalized_at=_when(finalized_at, zone) if finalized_at else None,
        notes=notes,
    )


def _line(number: int, line: v1alpha1.InvoiceLine, currency: str, zone: tzinfo | None) -> LineView:
    return LineView(
        number=number,
        kind=_KINDS.get(line.kind, str(line.kind)),
        description=line.description,
        charger=line.charger_ref.name if line.charger_ref else "",
        session_id=line.session_id or "",
        start=_when(line.start, zone) if line.start else "",
        end=_end(line.start, line.end, zone),
        energy_kwh=format(Decimal(line.energy_wh).scaleb(_WH_PER_KWH_EXPONENT), ",f")
        if line.energy_wh is not None
        else "",
        duration=_duration(line.duration_s) if line.duration_s is not None else "",
        amount=format_amount(line.amount, currency),
        components=[_component(component, line.kind, currency) for component in line.components or []],
    )


def _component(component: v1alpha1.ComponentCharge, kind: v1alpha1.LineKind, currency: str) -> ComponentView:
    if kind is v1alpha1.LineKind.MONTHLY_FEE:
        label, unit = _MONTHLY_FEE  # its quantity is the month's share covered, prorated by day
    else:
        label, unit = _DIMENSIONS.get(component.type, (str(component.type), ""))
    return ComponentView(
        label=label,
        quantity=format(component.quantity, "f"),
        unit=unit,
        unit_price=format_amount(component.unit_price, currency),
        amount=format_amount(component.amount, currency),
        vat=_percent(component.vat) if component.vat is not None else None,
    )


def _zone(site: v1alpha1.Site | None) -> tzinfo | None:
    """The site's zone; None (keep each time's own offset) when the site is gone."""
    if site is None:
        return None
    try:
        return ZoneInfo(site.spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        name = site.metadata.get("name", "")
        raise UnknownTimeZoneError(
            f"Site {name} has time zone {site.spec.time_zone}, which this machine's tz database does not know.",
            time_zone=site.spec.time_zone,
        ) from exc


def _local(moment: datetime, zone: tzinfo | None) -> datetime:
    # Storage is UTC: a time that lost its offset on the way is UTC, never the machine's local time.
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone) if zone is not None else aware


def _when(moment: datetime, zone: tzinfo | None) -> str:
    """``2026-10-03 18:04``; with the UTC offset when the wall time alone would not say which instant."""
    local = _local(moment, zone)
    return f"{local:%Y-%m-%d} {_clock(local, zone)}"


def _clock(local: datetime, zone: tzinfo | None) -> str:
    # Without the zone the stored offset is all there is; in the zone, only the hour a DST change
    # repeats (fold) is ambiguous, so only then is the offset worth the space.
    ambiguous = zone is None or local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
    return f"{local:%H:%M} {_offset(local)}" if ambiguous else f"{local:%H:%M}"


def _offset(local: datetime) -> str:
    """``+01:00``: the ISO 8601 offset (strftime's ``%:z`` needs Python 3.12)."""
    minutes = int((local.utcoffset() or timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _end(start: datetime | None, end: datetime | None, zone: tzinfo | None) -> str:
    """The end of a line: its clock time alone when it is on the start's day, else date and time."""
    if end is None:
        return ""
    if start is not None and _local(start, zone).date() == _local(end, zone).date():
        return _clock(_local(end, zone), zone)
    return _when(end, zone)


def _last_day(period_end: datetime, zone: tzinfo | None) -> datetime:
    """The last day inside a period whose ``end`` is the exclusive first instant after it."""
    return _local(period_end, zone) - timedelta(microseconds=1)


def _month_name(month: str) -> str:
    """``2026-10`` as ``October 2026``."""
    year, number = month.split("-")
    return f"{calendar.month_name[int(number)]} {year}"


def _duration(seconds: int) -> str:
    """``3:26``: hours and minutes, to the nearest minute."""
    minutes = (seconds + 30) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def _percent(rate: Decimal) -> str:
    # normalize() turns "21.00" into 21; format "f" keeps 100 from becoming 1E+2.
    return f"{format(rate.normalize(), 'f')}%"


def _printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (escape sequences) shown as ``\\x1b``."""
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)


_COLUMNS = ("#", "Kind", "Charger", "Local start–end", "kWh", "Time", "Amount", "Description")
_RIGHT_ALIGNED = frozenset({"#", "kWh", "Time", "Amount"})
_GAP = "  "


def _text(view: InvoiceView) -> str:
    header = [
        ("Site", view.site),
        ("Subscriber", f"{view.subscriber} <{view.subscriber_email}>" if view.subscriber_email else view.subscriber),
        ("Period", f"{view.month} ({view.period}, times in {view.time_zone})"),
        ("Number", view.number),
        ("Phase", view.phase + (f" on {view.finalized_at}" if view.finalized_at else "")),
        ("Currency", view.currency),
    ]
    if view.stripe_invoice_id:
        header.append(("Stripe", view.stripe_invoice_id))
    header.append(("Invoice", view.reference))
    out = [f"{label:<11} {_printable(value)}" for label, value in header]
    out += [f"Note: {_printable(note)}" for note in view.notes]
    out.append("")
    out += _lines_table(view)
    if view.review:
        out += ["", "Sessions under review (not charged on this invoice):"]
        out += _table(("Session", "Reason", "Message"), [(r.session_id, r.reason, r.message) for r in view.review])
    return "\n".join(out) + "\n"


def _lines_table(view: InvoiceView) -> list[str]:
    rows = [
        (str(line.number), line.kind, line.charger, line.when, line.energy_kwh, line.duration, line.amount,
         line.description)
        for line in view.lines
    ]  # fmt: skip
    totals = [("Subtotal", view.subtotal)]
    totals += [(f"VAT {vat.rate} on {vat.base}", vat.amount) for vat in view.vat]
    totals.append(("Total", view.total))
    # Totals sit under the Amount column, so it is as wide as the widest of them too, and their labels
    # end where the Time column does.
    amount_column = _COLUMNS.index("Amount")
    widths = _widths(_COLUMNS, rows)
    widths[amount_column] = max(widths[amount_column], *(len(amount) for _, amount in totals))
    label_width = sum(widths[:amount_column]) + len(_GAP) * (amount_column - 1)
    table = _table(_COLUMNS, rows, widths=widths) if rows else ["(no lines)"]
    amount_width = widths[amount_column]
    table += [f"{label:>{label_width}}{_GAP}{amount:>{amount_width}} {view.currency}" for label, amount in totals]
    return table


def _widths(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max(len(_printable(cell)) for cell in column) for column in zip(columns, *rows, strict=True)]


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], *, widths: Sequence[int] | None = None) -> list[str]:
    """Rows under a header, numbers right-aligned, no trailing blanks."""
    widths = widths or _widths(columns, rows)

    def row(cells: Sequence[str]) -> str:
        padded = [
            _printable(cell).rjust(width) if name in _RIGHT_ALIGNED else _printable(cell).ljust(width)
            for name, cell, width in zip(columns, cells, widths, strict=True)
        ]
        return _GAP.join(padded).rstrip()

    return [row(columns), *(row(cells) for cells in rows)]
