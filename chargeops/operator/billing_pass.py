"""The billing pass: for every subscription of a site and every closed month, write its one Invoice.

Run by the Site timer (``handlers/billing.py``), by ``chargeops invoice run`` and by the demo. Each pass
reads the subscription's sessions from the gateway, prices them with ``chargeops.billing`` and writes
the draft; once the site's grace period after the month has passed, it finalizes the invoice with the
site's next number (``invoice_store``). Every step is idempotent, so two passes at once, or one that was
killed half-way and runs again, end with the same invoices and numbers.

Which session goes where:

- Only subscriptions whose subscriber accepted the contract (or whose site needs no acceptance) are
  billed: a pending or declined one owes nothing.
- A session is the subscription's when its id tag is one of the subscription's and it took place at a
  charger the subscription covers. Open sessions wait until they stop.
- Its part in month *M* goes on *M*'s invoice while that is a draft.
- A part of a month whose invoice is already final and does not hold it (the charger delivered it late)
  goes on the subscription's next draft as an ``Adjustment`` line. Late parts are looked for up to
  ``LOOKBACK_MONTHS`` back; older ones are listed in the pass's result for a person.
"""

import asyncio
import dataclasses
import functools
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from chargeops.api.gateway import MeterReading, Session, SessionWithReadingOffsets, SessionWithReadings
from chargeops.api.v1alpha1 import (
    Charger,
    Invoice,
    InvoicePhase,
    LineKind,
    MonthlyFee,
    Site,
    Subscription,
    Tariff,
    approval,
    parse_duration,
)
from chargeops.api.v1alpha1 import conditions as c
from chargeops.billing import periods
from chargeops.billing.energy_profile import ReadingOffsets
from chargeops.billing.invoicing import BillableSession, InvoiceDraft, build_invoice, invoice_name
from chargeops.operator import stripe_mirror, tariff_history
from chargeops.operator import subscriptions as coverage
from chargeops.operator.gateway_client import GatewayClient
from chargeops.operator.invoice_store import InvoiceConflictError, InvoiceStore, ready_condition

# How many months before the one billed a late session is still looked for.
LOOKBACK_MONTHS = 2
# Attempts at writing a draft that another pass is writing at the same time.
WRITE_ATTEMPTS = 3
# Subscriptions whose sessions one listing reads (by their id tags): a request and a page query cost the
# gateway and the pass about as much as pricing ten sessions, so a subscription of a few sessions a month
# should not pay for one of its own; few enough that a batch's month is a page or two.
LISTING_BATCH = 10

SessionKey = tuple[str, str]  # (session id, month of the part)


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """The objects of the site's namespace a pass prices with."""

    chargers: Sequence[Charger]
    tariffs: Mapping[str, Tariff]

    @functools.cached_property
    def approved(self) -> frozenset[str]:
        """The names of the chargers whose approval matches their spec: worked out once per pass, because
        the fingerprint hashes the spec and every subscription's ledger asks about each charger it covers."""
        return frozenset(str(charger.metadata["name"]) for charger in self.chargers if _approved(charger))


@dataclasses.dataclass
class PassResult:
    """What one pass did, for logs, the CLI and the demo."""

    drafted: list[str] = dataclasses.field(default_factory=list)
    finalized: dict[str, str] = dataclasses.field(default_factory=dict)
    review: dict[str, int] = dataclasses.field(default_factory=dict)
    stripe: dict[str, str] = dataclasses.field(default_factory=dict)
    stripe_failed: dict[str, str] = dataclasses.field(default_factory=dict)
    paid: list[str] = dataclasses.field(default_factory=list)


async def bill_site(
    site: Site,
    subscriptions: Iterable[Subscription],
    catalogue: Catalogue,
    *,
    gateway: GatewayClient,
    store: InvoiceStore,
    now: datetime,
    secrets: stripe_mirror.SecretSource | None = None,
) -> PassResult:
    """Draft, and after the grace period finalize, every closed month's invoice of the site's subscriptions;
    mirror finalized ones to Stripe when the site names an API key (read through ``secrets``)."""
    site_name = str(site.metadata["name"])
    run = _SitePass(
        site=site,
        catalogue=catalogue,
        gateway=gateway,
        store=store,
        now=now,
        invoices=await store.for_site(str(site.metadata["namespace"]), site_name),
    )
    billed = [s for s in subscriptions if s.spec.site_ref.name == site_name and coverage.accepted(s, site=site)]
    batches = [billed[n : n + LISTING_BATCH] for n in range(0, len(billed), LISTING_BATCH)]
    # While one batch of subscriptions is priced, the gateway already reads the next one's sessions.
    fetched, upcoming = None, run.fetch(batches[0]) if batches else None
    try:
        for index, batch in enumerate(batches):
            fetched, upcoming = upcoming, run.fetch(batches[index + 1]) if index + 1 < len(batches) else None
            for subscription in batch:
                finals = await run.bill(subscription, fetched)
                if site.spec.billing.stripe is not None and secrets is not None:
                    await stripe_mirror.mirror(
                        site, subscription, finals, secrets=secrets, store=store, result=run.result, now=now
                    )
    finally:
        for task in (fetched, upcoming):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    return run.result


@dataclasses.dataclass
class _SitePass:
    """One billing pass over one site."""

    site: Site
    catalogue: Catalogue
    gateway: GatewayClient
    store: InvoiceStore
    now: datetime
    invoices: dict[str, Invoice]
    result: PassResult = dataclasses.field(default_factory=PassResult)

    @property
    def namespace(self) -> str:
        return str(self.site.metadata["namespace"])

    def fetch(self, subscriptions: Sequence[Subscription]) -> "_Fetched | None":
        """Start reading the sessions ``bill`` will price for ``subscriptions``, in one listing; None when
        none are needed (no month of any is open). Only ``bill`` of the same subscription changes what this
        reads for it."""
        wants = []
        for subscription in subscriptions:
            open_months = self._open_months(subscription)
            if open_months:
                wants.append(_want(self.site, subscription, self.catalogue, first_month=open_months[0]))
        if not wants:
            return None
        tz = periods.zone(self.site.spec.time_zone)
        return asyncio.create_task(_sessions(self.gateway, wants, until=self.now, tz=tz))

    async def bill(self, subscription: Subscription, fetched: "_Fetched | None" = None) -> list[Invoice]:
        """Write the subscription's invoices of closed months that are not final; return its final ones.

        ``fetched`` is ``fetch``'s task for a batch that holds the subscription, if it was started ahead.
        """
        tz = periods.zone(self.site.spec.time_zone)
        months = closed_months(subscription, now=self.now, tz=tz)
        name_of = {month: invoice_name(str(subscription.metadata["name"]), month) for month in months}
        open_months = self._open_months(subscription)
        if open_months:
            found = None if fetched is None else (await fetched).get(str(subscription.metadata["name"]))
            ledger = await _ledger(
                self.site,
                subscription,
                self.catalogue,
                self.gateway,
                self.invoices,
                first_month=open_months[0],
                now=self.now,
                fetched=found,
            )
            for month in open_months:
                self.invoices[name_of[month]] = await self._write_month(ledger, month)
        return [self.invoices[name_of[m]] for m in months if _final(self.invoices.get(name_of[m]))]

    def _open_months(self, subscription: Subscription) -> list[str]:
        """The subscription's closed months whose invoices are not final yet."""
        months = closed_months(subscription, now=self.now, tz=periods.zone(self.site.spec.time_zone))
        name = str(subscription.metadata["name"])
        return [month for month in months if not _final(self.invoices.get(invoice_name(name, month)))]

    async def _write_month(self, ledger: "_Ledger", month: str) -> Invoice:
        """Write the month's draft; finalize it when its grace period is over."""
        draft = await ledger.draft(month)
        stored = await _write(self.store, self.namespace, draft)
        self.result.drafted.append(draft.name)
        if draft.review:
            self.result.review[draft.name] = len(draft.review)
        billing = self.site.spec.billing
        due = periods.month_bounds(month, ledger.tz)[1] + parse_duration(billing.grace_period)
        if self.now < due:
            await self.store.patch_status(self.namespace, draft.name, _status(draft, stored, now=self.now, due=due))
            return stored
        number = await self.store.finalize(
            self.namespace, str(self.site.metadata["name"]), draft.name, prefix=billing.invoice_number_prefix
        )
        await self.store.patch_status(self.namespace, draft.name, _status(draft, stored, now=self.now, number=number))
        self.result.finalized[draft.name] = number
        return await self.store.get(self.namespace, draft.name) or stored


async def preview(
    site: Site,
    subscription: Subscription,
    catalogue: Catalogue,
    *,
    month: str,
    gateway: GatewayClient,
    store: InvoiceStore,
    now: datetime,
) -> InvoiceDraft:
    """The invoice ``month`` would get if it closed at ``now``; nothing is written."""
    namespace = str(site.metadata["namespace"])
    invoices = await store.for_site(namespace, str(site.metadata["name"]))
    ledger = await _ledger(site, subscription, catalogue, gateway, invoices, first_month=month, now=now)
    return await ledger.draft(month)


async def _ledger(
    site: Site,
    subscription: Subscription,
    catalogue: Catalogue,
    gateway: GatewayClient,
    invoices: Mapping[str, Invoice],
    *,
    first_month: str,
    now: datetime,
    fetched: list[Session] | None = None,
) -> "_Ledger":
    """The subscription's sessions since ``LOOKBACK_MONTHS`` before ``first_month`` (``fetched`` if they
    were read ahead), with its invoices."""
    tz = periods.zone(site.spec.time_zone)
    if fetched is None:
        found = await _ledger_sessions(site, subscription, catalogue, gateway, first_month=first_month, now=now)
    else:
        found = fetched
    return _Ledger(
        site=site,
        subscription=subscription,
        covered=_covered(subscription, catalogue),
        catalogue=catalogue,
        gateway=gateway,
        sessions=found,
        billed=_billed_parts(invoices.values(), subscription, tz=tz),
        invoices=invoices,
        tz=tz,
    )


async def _ledger_sessions(
    site: Site,
    subscription: Subscription,
    catalogue: Catalogue,
    gateway: GatewayClient,
    *,
    first_month: str,
    now: datetime,
) -> list[Session]:
    """The sessions a ledger from ``first_month`` on holds: ``LOOKBACK_MONTHS`` more, for late parts."""
    want = _want(site, subscription, catalogue, first_month=first_month)
    found = await _sessions(gateway, [want], until=now, tz=periods.zone(site.spec.time_zone))
    return found[want.name]


@dataclasses.dataclass(frozen=True)
class _Want:
    """What one subscription's ledger lists: its sessions (any of ``tags``) at the ``covered`` chargers that
    started from ``started_from`` on, on a local day from ``first`` to ``last``; with their readings from
    ``readings_from`` on."""

    name: str
    tags: frozenset[str]
    covered: Mapping[str, Charger]
    first: date
    last: date
    started_from: datetime
    readings_from: datetime


def _want(site: Site, subscription: Subscription, catalogue: Catalogue, *, first_month: str) -> _Want:
    """What the subscription's ledger from ``first_month`` on lists (``LOOKBACK_MONTHS`` more, for late
    parts), for ``_sessions``."""
    tz = periods.zone(site.spec.time_zone)
    first = date.fromisoformat(subscription.spec.start_date)
    # Nothing before the subscription's first day is its; a subscription younger than the lookback needs
    # one listing only.
    started_from = max(
        periods.month_start(_months_back(first_month, LOOKBACK_MONTHS), tz), periods.day_start(first, tz)
    )
    return _Want(
        name=str(subscription.metadata["name"]),
        tags=frozenset(subscription.spec.id_tags),
        covered=_covered(subscription, catalogue),
        first=first,
        last=date.fromisoformat(subscription.spec.end_date) if subscription.spec.end_date else date.max,
        started_from=started_from,
        readings_from=periods.month_start(first_month, tz),
    )


# A batch's sessions by subscription name, being read.
_Fetched = asyncio.Task[dict[str, list[Session]]]


def _covered(subscription: Subscription, catalogue: Catalogue) -> dict[str, Charger]:
    """The chargers the subscription covers, by charge point id."""
    return {ch.spec.charge_point_id: ch for ch in catalogue.chargers if coverage.covers(subscription, ch)}


def closed_months(subscription: Subscription, *, now: datetime, tz: ZoneInfo) -> list[str]:
    """The months of the subscription that have ended by ``now``, from its first to its last."""
    first = subscription.spec.start_date[:7]
    current = periods.month_of(now, tz)
    last = periods.previous_month(current)
    if subscription.spec.end_date is not None:
        last = min(last, subscription.spec.end_date[:7])
    months: list[str] = []
    month = first
    while month <= last:
        months.append(month)
        month = periods.next_month(month)
    return months


def late_parts(
    sessions: Iterable[Session],
    *,
    month: str,
    final_months: Iterable[str],
    billed: set[SessionKey],
    assigned: set[SessionKey],
    tz: ZoneInfo,
) -> dict[str, list[Session]]:
    """The parts of ``sessions`` in months before ``month`` whose invoices are final and miss them."""
    finals = {m for m in final_months if m < month}
    late: dict[str, list[Session]] = {}
    if not finals:
        return late  # nothing final before the month: nothing can be late (and no session need be read)
    for session in sessions:
        if session.stopped_at is None:
            continue
        for part_month in periods.months_between(session.started_at, session.stopped_at, tz):
            key = (session.id, part_month)
            if part_month in finals and key not in billed and key not in assigned:
                late.setdefault(part_month, []).append(session)
                assigned.add(key)
    return late


@dataclasses.dataclass
class _Ledger:
    """One subscription's sessions and invoices during a pass; drafts its months in order."""

    site: Site
    subscription: Subscription
    covered: Mapping[str, Charger]
    catalogue: Catalogue
    gateway: GatewayClient
    sessions: Sequence[Session]
    billed: set[SessionKey]
    invoices: Mapping[str, Invoice]
    tz: ZoneInfo
    # Late parts given to an earlier draft of this pass: each goes on one invoice only.
    assigned: set[SessionKey] = dataclasses.field(default_factory=set)
    # The tariff of each covered charger that had a session, looked up once (approval hashes the spec).
    tariffs: dict[str, Tariff | None] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.subscription.metadata["name"])

    async def draft(self, month: str) -> InvoiceDraft:
        """The invoice of ``month``: its sessions' parts, late parts of final months, the monthly fee."""
        start, end = periods.month_bounds(month, self.tz)
        in_month = [
            s for s in self.sessions if s.stopped_at is not None and s.started_at < end and s.stopped_at > start
        ]
        earlier = _months_back_list(month, LOOKBACK_MONTHS)
        final_months = [m for m in earlier if _final(self.invoices.get(invoice_name(self.name, m)))]
        late = late_parts(
            self.sessions,
            month=month,
            final_months=final_months,
            billed=self.billed,
            assigned=self.assigned,
            tz=self.tz,
        )
        return build_invoice(
            site=str(self.site.metadata["name"]),
            site_spec=self.site.spec,
            subscription=self.name,
            subscription_spec=self.subscription.spec,
            month=month,
            sessions=[b for s in in_month if (b := await self.billable(s))],
            late_sessions={m: [b for s in missed if (b := await self.billable(s))] for m, missed in late.items()},
            monthly_fee=_monthly_fee(self.subscription, self.covered, self.catalogue, at=start),
        )

    async def billable(self, session: Session) -> BillableSession | None:
        """The session with its readings and the tariff in force at its start; None where charging was free.

        A session listed with its readings (``_sessions``) brings them; the readings of an older one are
        fetched now, which happens only for the few older sessions that are billed at all.
        """
        cp_id = session.charge_point_id
        if cp_id not in self.tariffs:
            self.tariffs[cp_id] = _tariff_for(self.subscription, self.covered[cp_id], self.catalogue)
        tariff = self.tariffs[cp_id]
        if tariff is None:
            return None
        readings: Sequence[MeterReading] | ReadingOffsets
        if isinstance(session, SessionWithReadingOffsets):
            readings = ReadingOffsets(session.reading_offsets_us, session.reading_energies_wh)
        elif isinstance(session, SessionWithReadings):
            readings = session.readings
        else:
            readings = await self.gateway.readings(session.id)
        return BillableSession(
            session=session,
            readings=readings,
            tariff=tariff_history.spec_in_force(tariff, session.started_at),
            charger=str(self.covered[cp_id].metadata["name"]),
        )


def _tariff_for(subscription: Subscription, charger: Charger, catalogue: Catalogue) -> Tariff | None:
    """The subscription's own tariff, else the charger's; None where charging is free.

    A charger charges by the month only with pay-per-month on and approved (the approval matches its
    spec); otherwise the live charger was left free, and free charging is never billed.
    """
    mode = charger.spec.charging_mode
    if not mode.pay_per_month or mode.tariff_ref is None or str(charger.metadata["name"]) not in catalogue.approved:
        return None
    if subscription.spec.tariff_ref is not None:
        return catalogue.tariffs.get(subscription.spec.tariff_ref.name)
    return catalogue.tariffs.get(mode.tariff_ref.name)


def _approved(charger: Charger) -> bool:
    annotations = charger.metadata.get("annotations") or {}
    return bool(annotations.get(approval.ANNOTATION) == approval.fingerprint(charger.spec))


def _monthly_fee(
    subscription: Subscription, covered: Mapping[str, Charger], catalogue: Catalogue, *, at: datetime
) -> MonthlyFee | None:
    """One fee per subscription, however many chargers it covers: its own tariff's; else that of the first
    covered pay-per-month charger (by name) whose tariff has one."""
    if subscription.spec.tariff_ref is not None:
        tariff = catalogue.tariffs.get(subscription.spec.tariff_ref.name)
        return None if tariff is None else tariff_history.spec_in_force(tariff, at).monthly_fee
    for charger in sorted(covered.values(), key=lambda ch: str(ch.metadata["name"])):
        tariff = _tariff_for(subscription, charger, catalogue)
        fee = None if tariff is None else tariff_history.spec_in_force(tariff, at).monthly_fee
        if fee is not None:
            return fee
    return None


async def _sessions(
    gateway: GatewayClient, wants: Sequence[_Want], *, until: datetime, tz: ZoneInfo
) -> dict[str, list[Session]]:
    """Each ``_Want``'s sessions that started before ``until``, by start, under its name; one listing for
    all whose readings start at the same month (any of their id tags), split up here.

    Sessions from ``readings_from`` on (the months being drafted) come with their readings, a page of
    them per request. Earlier ones are read only to find late parts of final months, and come without:
    nearly all of them are on final invoices already, and ``_Ledger.billable`` fetches the readings of
    the few that are not.
    """
    found: dict[str, list[Session]] = {want.name: [] for want in wants}
    groups: dict[datetime, list[_Want]] = {}
    for want in wants:
        groups.setdefault(want.readings_from, []).append(want)
    for readings_from, group in groups.items():
        by_tag: dict[str | None, list[_Want]] = {}
        for want in group:
            for tag in want.tags:
                by_tag.setdefault(tag, []).append(want)
        tags = sorted(tag for tag in by_tag if tag is not None)
        started_from = min(want.started_from for want in group)
        listings: list[AsyncIterator[Session]] = []
        if started_from < readings_from:
            listings.append(
                gateway.sessions(id_tag=tags, started_from=started_from, started_to=min(readings_from, until))
            )
        recent_from = max(started_from, readings_from)
        listings.append(gateway.sessions_with_reading_offsets(id_tag=tags, started_from=recent_from, started_to=until))
        for listing in listings:
            async for session in listing:
                local_day = session.started_at.astimezone(tz).date()
                for want in by_tag.get(session.id_tag, ()):
                    # The listing began at the earliest ``started_from``: a later one is its first day.
                    if session.charge_point_id in want.covered and want.first <= local_day <= want.last:
                        found[want.name].append(session)
    return {name: sorted(sessions, key=lambda s: (s.started_at, s.id)) for name, sessions in found.items()}


def _billed_parts(invoices: Iterable[Invoice], subscription: Subscription, *, tz: ZoneInfo) -> set[SessionKey]:
    """(session, month) parts already on the subscription's final invoices, as lines or for review."""
    name = subscription.metadata["name"]
    billed: set[SessionKey] = set()
    for invoice in invoices:
        if invoice.spec.subscription_ref.name != name or not invoice.spec.finalized:
            continue
        month = invoice.spec.period.month
        for line in invoice.spec.lines:
            if line.session_id is None:
                continue
            adjusted = line.kind is LineKind.ADJUSTMENT and line.start is not None
            part_month = periods.month_of(line.start, tz) if adjusted and line.start else month
            billed.add((line.session_id, part_month))
        for entry in (invoice.status.review if invoice.status is not None else None) or []:
            billed.add((entry.session_id, month))
    return billed


async def _write(store: InvoiceStore, namespace: str, draft: InvoiceDraft) -> Invoice:
    for _ in range(WRITE_ATTEMPTS):
        try:
            written = await store.write_draft(namespace, draft.name, draft.spec)
        except InvoiceConflictError:
            continue  # another pass wrote it meanwhile: compare with what it wrote
        if written is None:  # finalized meanwhile by another pass
            found = await store.get(namespace, draft.name)
            assert found is not None
            return found
        return written
    raise InvoiceConflictError(f"Invoice {namespace}/{draft.name} kept changing under {WRITE_ATTEMPTS} attempts.")


def _status(
    draft: InvoiceDraft,
    stored: Invoice,
    *,
    now: datetime,
    number: str | None = None,
    due: datetime | None = None,
) -> dict[str, object]:
    """The invoice's status after a write: phase, the sessions for review and Ready."""
    review = [entry.model_dump(mode="json", by_alias=True, exclude_none=True) for entry in draft.review] or None
    if number is not None:
        ready = ready_condition(stored, ok=True, reason=c.FINALIZED, message=f"Finalized as {number}.", now=now)
    else:
        message = f"Draft until {due:%Y-%m-%d %H:%M} UTC: late sessions may still arrive." if due else "Draft."
        ready = ready_condition(stored, ok=False, reason=c.DRAFT, message=message, now=now)
    status: dict[str, object] = {
        "observedGeneration": stored.metadata.get("generation"),
        "phase": (InvoicePhase.FINALIZED if number is not None else InvoicePhase.DRAFT).value,
        "review": review,
        "conditions": [ready],
    }
    if number is not None:
        status["finalizedAt"] = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return status


def _final(invoice: Invoice | None) -> bool:
    return invoice is not None and invoice.spec.finalized


def _months_back(month: str, count: int) -> str:
    for _ in range(count):
        month = periods.previous_month(month)
    return month


def _months_back_list(month: str, count: int) -> list[str]:
    months: list[str] = []
    for _ in range(count):
        month = periods.previous_month(month)
        months.append(month)
    return months
