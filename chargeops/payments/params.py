"""The parameters of each Stripe request, made from our objects alone: no I/O, no clock.

``invoices`` sends them and derives their idempotency keys from them. Every object we create in Stripe
carries our ids in its metadata, so a person in Stripe's dashboard sees where it came from, and a later
run finds it again when the stored id and the 24-hour idempotency window are both gone.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripe.params import (
    CustomerCreateParams,
    InvoiceCreateParams,
    InvoiceItemCreateParams,
)

from chargeops.api import v1alpha1
from chargeops.payments import amounts
from chargeops.payments.errors import InvoiceNotReadyError

# Every metadata key of ours starts with this, so ours never clash with keys people add by hand.
META_PREFIX = "chargeops_"
META_NAMESPACE = "chargeops_namespace"
META_SITE = "chargeops_site"
META_SUBSCRIPTION = "chargeops_subscription"
META_SUBSCRIPTION_UID = "chargeops_subscription_uid"
META_INVOICE = "chargeops_invoice"
META_INVOICE_UID = "chargeops_invoice_uid"
META_NUMBER = "chargeops_number"
META_PERIOD = "chargeops_period"
META_LINE = "chargeops_line"
META_KIND = "chargeops_kind"
META_SESSION_ID = "chargeops_session_id"
META_CHARGER = "chargeops_charger"
META_VAT_RATE = "chargeops_vat_rate"
# The idempotency key an invoice item was created with: a later run recognises its own items by it.
META_KEY = "chargeops_key"

# Stripe's limit on a custom field's name and value (invoice.custom_fields).
_CUSTOM_FIELD_VALUE_MAX = 140

# The invoice is emailed with a payment link and due this many days after finalization, unless the
# caller says otherwise; a month's charging is billed once, with a fortnight to pay.
DEFAULT_DAYS_UNTIL_DUE = 14


@dataclass(frozen=True)
class InvoiceIds:
    """Our ids of one finalized Invoice and what it bills; keys and metadata are made of these."""

    namespace: str
    invoice: str
    invoice_uid: str
    number: str
    month: str
    subscription: str
    subscription_uid: str
    site: str

    @property
    def label(self) -> str:
        """``namespace/name`` of the Invoice, for logs and errors."""
        return f"{self.namespace}/{self.invoice}"


@dataclass(frozen=True)
class ItemRequest:
    """One invoice item to create: which line it mirrors and its parameters."""

    step: str
    """``item`` for an invoice line, ``vat`` for a VAT line; with ``index``, part of the idempotency key."""

    index: int
    """Position of the line in ``spec.lines`` or ``spec.vat``."""

    invoice_id: str
    """The Stripe invoice the item is attached to."""

    metadata: dict[str, str]
    """Our ids of the line; ``metadata[META_LINE]`` (``line:3``, ``vat:0``) names it within the invoice."""

    params: InvoiceItemCreateParams
    """Everything sent, the metadata included."""

    @property
    def line(self) -> str:
        """``line:3`` or ``vat:0``: which line of the Invoice the item mirrors."""
        return self.metadata[META_LINE]

    @property
    def label(self) -> str:
        """``line 3`` or ``VAT line 0``, for logs and errors."""
        return f"line {self.index}" if self.step == "item" else f"VAT line {self.index}"


def invoice_ids(invoice: v1alpha1.Invoice, *, subscription: v1alpha1.Subscription, site: v1alpha1.Site) -> InvoiceIds:
    """Our ids, checked: the Invoice is finalized and numbered, its amounts are ones Stripe takes exactly
    and add up to its total, and the three objects belong together."""
    meta, spec = invoice.metadata, invoice.spec
    label = f"{meta.get('namespace', '?')}/{meta.get('name', '?')}"
    missing = [field for field in ("namespace", "name", "uid") if not meta.get(field)]
    if missing:
        raise InvoiceNotReadyError(f"Invoice {label} has no metadata.{', metadata.'.join(missing)}.")
    if not spec.finalized or not spec.number:
        raise InvoiceNotReadyError(f"Invoice {label} is not finalized; only finalized invoices go to Stripe.")
    if not subscription.metadata.get("uid"):
        raise InvoiceNotReadyError(f"Subscription {subscription.metadata.get('name')} has no metadata.uid.")
    if subscription.metadata.get("name") != spec.subscription_ref.name:
        raise InvoiceNotReadyError(
            f"Invoice {label} bills Subscription {spec.subscription_ref.name}, not {subscription.metadata.get('name')}."
        )
    if site.metadata.get("name") != spec.site_ref.name:
        raise InvoiceNotReadyError(
            f"Invoice {label} is issued by Site {spec.site_ref.name}, not {site.metadata.get('name')}."
        )
    ids = InvoiceIds(
        namespace=str(meta["namespace"]),
        invoice=str(meta["name"]),
        invoice_uid=str(meta["uid"]),
        number=spec.number,
        month=spec.period.month,
        subscription=spec.subscription_ref.name,
        subscription_uid=str(subscription.metadata["uid"]),
        site=spec.site_ref.name,
    )
    _check_total(spec, ids)
    return ids


def customer_params(subscription: v1alpha1.Subscription, ids: InvoiceIds) -> CustomerCreateParams:
    """The Stripe customer of a subscription: the subscriber, and our ids of the subscription."""
    subscriber = subscription.spec.subscriber
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "description": f"Subscription {ids.namespace}/{ids.subscription} at site {ids.site}",
        "metadata": customer_metadata(ids),
    }


def customer_metadata(ids: InvoiceIds) -> dict[str, str]:
    """What identifies a subscription's customer: namespace, subscription name and uid, site."""
    return {
        META_NAMESPACE: ids.namespace,
        META_SUBSCRIPTION: ids.subscription,
        META_SUBSCRIPTION_UID: ids.subscription_uid,
        META_SITE: ids.site,
    }


def customer_search_query(ids: InvoiceIds) -> str:
    """Stripe search for the subscription's customer by its uid (a Kubernetes uid needs no escaping)."""
    return f"metadata['{META_SUBSCRIPTION_UID}']:'{ids.subscription_uid}'"


def invoice_params(
    invoice: v1alpha1.Invoice,
    ids: InvoiceIds,
    *,
    site: v1alpha1.Site,
    customer_id: str,
    days_until_due: int = DEFAULT_DAYS_UNTIL_DUE,
) -> InvoiceCreateParams:
    """A draft invoice that takes only the items we attach to it, emailed to the subscriber when finalized."""
    site_name = site.spec.display_name or ids.site
    return {
        "customer": customer_id,
        "currency": invoice.spec.currency.lower(),
        "collection_method": "send_invoice",
        "days_until_due": days_until_due,
        # We finalize ourselves once every item is attached; Stripe must not do it an hour after creation.
        "auto_advance": False,
        # Items are attached explicitly (``invoice=`` on each); stray pending items of the customer stay out.
        "pending_invoice_items_behavior": "exclude",
        "description": f"EV charging at {site_name}, {ids.month}",
        "custom_fields": [{"name": "Invoice", "value": ids.number[:_CUSTOM_FIELD_VALUE_MAX]}],
        "metadata": invoice_metadata(ids),
    }


def invoice_metadata(ids: InvoiceIds) -> dict[str, str]:
    """What identifies the Invoice: its namespace, name, uid, number and month, and what it bills."""
    return customer_metadata(ids) | {
        META_INVOICE: ids.invoice,
        META_INVOICE_UID: ids.invoice_uid,
        META_NUMBER: ids.number,
        META_PERIOD: ids.month,
    }


def item_requests(
    invoice: v1alpha1.Invoice, ids: InvoiceIds, *, customer_id: str, invoice_id: str
) -> list[ItemRequest]:
    """One invoice item per line, then one per VAT rate (``invoice_ids`` checked that they add up).

    VAT goes over as items of its own rather than as Stripe tax rates, because Stripe would compute tax
    per item and round each, while our invoice rounds VAT once per rate; the Stripe total equals ours.
    """
    spec = invoice.spec
    currency = spec.currency
    requests = [
        _item(
            spec,
            step="item",
            index=index,
            customer_id=customer_id,
            invoice_id=invoice_id,
            amount=line.amount,
            description=line.description,
            period=(line.start or spec.period.start, line.end or spec.period.end),
            metadata=_line_metadata(line, ids, index=index),
        )
        for index, line in enumerate(spec.lines)
    ]
    requests += [
        _item(
            spec,
            step="vat",
            index=index,
            customer_id=customer_id,
            invoice_id=invoice_id,
            amount=vat.amount,
            description=f"VAT {format(vat.rate, 'f')}% on {format(vat.base, 'f')} {currency}",
            period=(spec.period.start, spec.period.end),
            metadata={
                META_INVOICE_UID: ids.invoice_uid,
                META_LINE: f"vat:{index}",
                META_KIND: "VAT",
                META_VAT_RATE: format(vat.rate, "f"),
            },
        )
        for index, vat in enumerate(spec.vat)
    ]
    return requests


def _item(
    spec: v1alpha1.InvoiceSpec,
    *,
    step: str,
    index: int,
    customer_id: str,
    invoice_id: str,
    amount: Decimal,
    description: str,
    period: tuple[datetime, datetime],
    metadata: dict[str, str],
) -> ItemRequest:
    start, end = period
    request: InvoiceItemCreateParams = {
        "customer": customer_id,
        "invoice": invoice_id,
        "currency": spec.currency.lower(),
        "amount": amounts.to_minor_units(amount, spec.currency),
        "description": description,
        "period": {"start": int(start.timestamp()), "end": int(end.timestamp())},
        "metadata": metadata,
    }
    return ItemRequest(step=step, index=index, invoice_id=invoice_id, metadata=metadata, params=request)


def _line_metadata(line: v1alpha1.InvoiceLine, ids: InvoiceIds, *, index: int) -> dict[str, str]:
    metadata = {META_INVOICE_UID: ids.invoice_uid, META_LINE: f"line:{index}", META_KIND: str(line.kind)}
    if line.session_id:
        metadata[META_SESSION_ID] = line.session_id
    if line.charger_ref is not None:
        metadata[META_CHARGER] = line.charger_ref.name
    return metadata


def _check_total(spec: v1alpha1.InvoiceSpec, ids: InvoiceIds) -> None:
    """Stripe's invoice must come to the Invoice's total, to the minor unit, or nothing is sent."""
    parts = [line.amount for line in spec.lines] + [vat.amount for vat in spec.vat]
    sent = sum(amounts.to_minor_units(amount, spec.currency) for amount in parts)
    total = amounts.to_minor_units(spec.total, spec.currency)
    if sent != total:
        raise InvoiceNotReadyError(
            f"Invoice {ids.label}: its lines and VAT come to {amounts.from_minor_units(sent, spec.currency)} "
            f"{spec.currency} but its total is {format(spec.total, 'f')}; nothing was sent to Stripe."
        )
