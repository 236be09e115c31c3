"""The subscriber's own page: this month's sessions and the invoices so far, as text to lay out.

The sessions are the ones the billing pass would put on this month's invoice (``operator/billing_pass.py``):
an id tag of the subscription, at a charger it covers, started in the current month of the site's zone.
Times are shown on the site's clocks; amounts come from the invoices, which the billing controller priced.
"""

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chargeops.api.gateway import Session
from chargeops.api.v1alpha1 import Charger, Invoice, InvoicePhase, Site, Subscription
from chargeops.billing import periods
from chargeops.billing.render import format_amount
from chargeops.operator.gateway_client import GatewayClient

_WH_PER_KWH_EXPONENT = -3


@dataclasses.dataclass(frozen=True)
class SessionRow:
    """One charging session, formatted."""

    day: str
    charger: str
    times: str
    duration: str
    energy_kwh: str
    charging: bool


@dataclasses.dataclass(frozen=True)
class InvoiceRow:
    """One invoice in the list, formatted; ``name`` is the Invoice object's, for its link."""

    name: str
    month: str
    number: str
    total: str
    phase: str


@dataclasses.dataclass(frozen=True)
class AccountView:
    """Everything the account page shows, as text."""

    subscriber: str
    site: str
    month: str
    time_zone: str
    sessions: Sequence[SessionRow]
    energy_kwh: str
    sessions_missing: bool
    invoices: Sequence[InvoiceRow]


async def month_sessions(
    gateway: GatewayClient, subscription: Subscription, chargers: Iterable[Charger], *, now: datetime, tz: ZoneInfo
) -> list[Session]:
    """The subscription's sessions at the chargers it covers that started this month, oldest first."""
    covered = {charger.spec.charge_point_id for charger in chargers}
    start = periods.month_start(periods.month_of(now, tz), tz)
    found = [
        session
        async for session in gateway.sessions(id_tag=list(subscription.spec.id_tags), started_from=start)
        if session.charge_point_id in covered
    ]
    return sorted(found, key=lambda session: (session.started_at, session.id))


def view(
    subscription: Subscription,
    site: Site,
    *,
    chargers: Iterable[Charger],
    sessions: Sequence[Session] | None,
    invoices: Iterable[Invoice],
    now: datetime,
    tz: ZoneInfo,
) -> AccountView:
    """The page's content; ``sessions`` None when the gateway could not be asked."""
    names = {charger.spec.charge_point_id: str(charger.metadata.get("name")) for charger in chargers}
    rows = [_session_row(session, names, now=now, tz=tz) for session in sessions or ()]
    energy_wh = sum(session.energy_wh or 0 for session in sessions or ())
    local_now = now.astimezone(tz)
    return AccountView(
        subscriber=subscription.spec.subscriber.name,
        site=site.spec.display_name or str(site.metadata.get("name")),
        month=f"{local_now:%B %Y}",
        time_zone=str(tz),
        sessions=rows,
        energy_kwh=_kwh(energy_wh),
        sessions_missing=sessions is None,
        invoices=[_invoice_row(invoice) for invoice in sorted(invoices, key=_newest_first)],
    )


def _session_row(session: Session, names: dict[str, str], *, now: datetime, tz: ZoneInfo) -> SessionRow:
    start = session.started_at.astimezone(tz)
    stop = session.stopped_at.astimezone(tz) if session.stopped_at is not None else None
    if stop is None:
        times = f"{start:%H:%M}–"
    elif stop.date() == start.date():
        times = f"{start:%H:%M}–{stop:%H:%M}"
    else:
        times = f"{start:%H:%M}–{stop:%a %d %b %H:%M}"
    return SessionRow(
        day=f"{start:%a %d %b}",
        charger=names.get(session.charge_point_id, session.charge_point_id),
        times=times,
        duration=_duration((stop or now.astimezone(tz)) - start),
        energy_kwh=_kwh(session.energy_wh) if session.energy_wh is not None else "",
        charging=stop is None,
    )


def _invoice_row(invoice: Invoice) -> InvoiceRow:
    spec, status = invoice.spec, invoice.status
    phase = (status.phase if status is not None else None) or (
        InvoicePhase.FINALIZED if spec.finalized else InvoicePhase.DRAFT
    )
    year, month = periods.parse_month(spec.period.month)
    return InvoiceRow(
        name=str(invoice.metadata.get("name")),
        month=f"{datetime(year, month, 1):%B %Y}",  # noqa: DTZ001 - a calendar month, not an instant
        number=spec.number or "Draft",
        total=f"{format_amount(spec.total, spec.currency)} {spec.currency}",
        phase=str(phase),
    )


def _newest_first(invoice: Invoice) -> tuple[int, int]:
    year, month = periods.parse_month(invoice.spec.period.month)
    return -year, -month


def _duration(elapsed: timedelta) -> str:
    """``3:26``: hours and minutes, to the nearest minute."""
    minutes = (int(elapsed.total_seconds()) + 30) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def _kwh(energy_wh: int) -> str:
    return format(Decimal(energy_wh).scaleb(_WH_PER_KWH_EXPONENT), ",f")
