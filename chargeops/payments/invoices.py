"""Mirror a finalized Invoice to Stripe, and read back whether it was paid.

The billing controller calls ``push_invoice`` for each finalized Invoice of a site with Stripe settings,
stores the ids it returns in ``status.stripe``, and later polls ``payment_state`` to move the Invoice to
``Paid``. The steps, each safe to repeat from any point:

1. the subscription's customer: the stored id, else one found by our ids in its metadata (listing by
   email, which Stripe answers consistently, then searching by uid), else a new one;
2. the Stripe invoice: the stored id, else one of the customer's invoices carrying our invoice uid,
   else a new draft that takes no pending items;
3. one invoice item per line and per VAT rate, attached to that invoice, skipping the items an earlier
   run attached (recognised by the idempotency key kept in their metadata);
4. finalize, with automatic collection, so Stripe emails the invoice and its reminders.

Every POST carries an idempotency key from ``idempotency``; a crash between a request and storing its
answer is covered by Stripe's replay for 24 hours and by the metadata lookups after that. Steps 3 and 4
run only while the Stripe invoice is a draft; an open, paid or void one is reported as it is.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import stripe
from stripe.params import (
    InvoiceCreateParams,
    InvoiceFinalizeInvoiceParams,
    InvoiceItemCreateParams,
    InvoiceItemListParams,
    InvoiceListParams,
)

from chargeops.api import v1alpha1
from chargeops.payments import calls, idempotency, params
from chargeops.payments.errors import StripeRequestError, StripeStateMismatchError

T = TypeVar("T")

_log = logging.getLogger(__name__)

_DRAFT = "draft"
_PAID = "paid"
# Stripe's largest page.
_PAGE_SIZE = 100
# Our Invoice object is created before its Stripe invoice, but the two clocks are not the same one.
_CLOCK_SKEW = timedelta(hours=1)


@dataclass(frozen=True)
class PushedInvoice:
    """Where an Invoice lives in Stripe after ``push_invoice``."""

    customer_id: str
    """The subscription's customer, ``cus_…``."""

    invoice_id: str
    """The Stripe invoice, ``in_…``."""

    status: str | None
    """Stripe's status of the invoice: ``open`` once finalized, or ``paid``, ``void``, ``uncollectible``."""

    hosted_invoice_url: str | None
    """The page where the subscriber sees and pays the invoice, once finalized."""

    @property
    def refs(self) -> v1alpha1.StripeRefs:
        """The ids as ``Invoice.status.stripe`` stores them."""
        return v1alpha1.StripeRefs(customer_id=self.customer_id, invoice_id=self.invoice_id)


@dataclass(frozen=True)
class PaymentState:
    """Whether a Stripe invoice has been paid."""

    invoice_id: str
    status: str | None
    """Stripe's status: ``draft``, ``open``, ``paid``, ``uncollectible`` or ``void``."""

    paid: bool
    paid_at: datetime | None
    """When Stripe saw it paid (UTC), if it did."""

    amount_due: int
    amount_paid: int
    """In Stripe's integer minor units of ``currency`` (see ``amounts.from_minor_units``)."""

    currency: str


async def push_invoice(
    client: stripe.StripeClient,
    invoice: v1alpha1.Invoice,
    *,
    subscription: v1alpha1.Subscription,
    site: v1alpha1.Site,
    known: v1alpha1.StripeRefs | None = None,
    days_until_due: int = params.DEFAULT_DAYS_UNTIL_DUE,
    retry: calls.RetryPolicy = calls.DEFAULT_RETRY,
    logger: calls.Logger = _log,
) -> PushedInvoice:
    """Create (or find) the customer, invoice and items of a finalized Invoice in Stripe, and finalize it.

    ``known`` are ids stored earlier, by default ``invoice.status.stripe``; a customer id from the
    subscription's previous invoice saves the lookup. Raises ``InvoiceNotReadyError`` before any request
    if the Invoice is not finalized or its amounts do not add up, ``StripeRequestError`` when Stripe
    refuses a request, ``StripeUnavailableError`` when it stays unreachable.
    """
    ids = params.invoice_ids(invoice, subscription=subscription, site=site)
    if known is None and invoice.status is not None:
        known = invoice.status.stripe
    run = _Run(client, ids, retry=retry, logger=logger)
    customer_id = (known.customer_id if known else None) or await run.customer(subscription)
    found: stripe.Invoice | None
    if known is not None and known.invoice_id:
        found = await run.retrieve_invoice(known.invoice_id)
    else:
        found = await run.find_invoice(customer_id, created=invoice.metadata.get("creationTimestamp"))
    stripe_invoice = found or await run.create_invoice(
        params.invoice_params(invoice, ids, site=site, customer_id=customer_id, days_until_due=days_until_due)
    )
    invoice_id = _id(stripe_invoice)
    if stripe_invoice.status == _DRAFT:
        await run.attach_items(params.item_requests(invoice, ids, customer_id=customer_id, invoice_id=invoice_id))
        stripe_invoice = await run.finalize(invoice_id)
    logger.info("Invoice %s is %s in Stripe as %s.", ids.label, stripe_invoice.status, invoice_id)
    return PushedInvoice(
        customer_id=customer_id,
        invoice_id=invoice_id,
        status=stripe_invoice.status,
        hosted_invoice_url=stripe_invoice.hosted_invoice_url,
    )


async def payment_state(
    client: stripe.StripeClient,
    invoice_id: str,
    *,
    retry: calls.RetryPolicy = calls.DEFAULT_RETRY,
    logger: calls.Logger = _log,
) -> PaymentState:
    """Read a Stripe invoice's status and whether (and when) it was paid."""
    stripe_invoice = await calls.call(
        f"GET /v1/invoices/{invoice_id}",
        partial(client.v1.invoices.retrieve_async, invoice_id),
        retry=retry,
        logger=logger,
    )
    transitions = stripe_invoice.status_transitions
    paid_at = transitions.paid_at if transitions is not None else None
    return PaymentState(
        invoice_id=_id(stripe_invoice),
        status=stripe_invoice.status,
        paid=stripe_invoice.status == _PAID,
        paid_at=datetime.fromtimestamp(paid_at, tz=UTC) if paid_at is not None else None,
        amount_due=stripe_invoice.amount_due,
        amount_paid=stripe_invoice.amount_paid,
        currency=stripe_invoice.currency.upper(),
    )


class _Run:
    """The requests of one ``push_invoice``, each through ``calls.call`` with its idempotency key."""

    def __init__(
        self, client: stripe.StripeClient, ids: params.InvoiceIds, *, retry: calls.RetryPolicy, logger: calls.Logger
    ) -> None:
        self.client = client
        self.ids = ids
        self.retry = retry
        self.logger = logger

    async def customer(self, subscription: v1alpha1.Subscription) -> str:
        """The id of the subscription's customer, created if no earlier run made one."""
        customers = self.client.v1.customers
        email = subscription.spec.subscriber.email
        page = await self._call(
            "GET /v1/customers", partial(customers.list_async, {"email": email, "limit": _PAGE_SIZE})
        )
        found = next((customer for customer in page.data if self._is_ours(customer)), None)
        if found is None:
            found = await self._search_customer()
        if found is not None:
            return _id(found)
        request = params.customer_params(subscription, self.ids)
        key = idempotency.key(self.ids.subscription_uid, "customer", params=request)
        created = await self._call(
            "POST /v1/customers", partial(customers.create_async, request, {"idempotency_key": key})
        )
        self.logger.info("Invoice %s: created Stripe customer %s.", self.ids.label, created.id)
        return _id(created)

    async def _search_customer(self) -> stripe.Customer | None:
        """The customer found by our subscription uid; search may lag a minute, the listing did not."""
        query = params.customer_search_query(self.ids)
        try:
            result = await self._call(
                "GET /v1/customers/search",
                partial(self.client.v1.customers.search_async, {"query": query, "limit": 1}),
            )
        except StripeRequestError as exc:
            # Search is not offered in every country; the listing and the idempotency key still hold.
            self.logger.warning("Invoice %s: customer search unavailable (%s).", self.ids.label, exc)
            return None
        return next((customer for customer in result.data if self._is_ours(customer)), None)

    async def retrieve_invoice(self, invoice_id: str) -> stripe.Invoice:
        return await self._call(
            f"GET /v1/invoices/{invoice_id}", partial(self.client.v1.invoices.retrieve_async, invoice_id)
        )

    async def find_invoice(self, customer_id: str, *, created: object) -> stripe.Invoice | None:
        """The customer's Stripe invoice that carries our invoice uid, if an earlier run created one.

        Only invoices created since our Invoice object was (its ``creationTimestamp``, if known) are listed.
        """
        query: InvoiceListParams = {"customer": customer_id, "limit": _PAGE_SIZE}
        if isinstance(created, str) and created:
            since = datetime.fromisoformat(created) - _CLOCK_SKEW
            query["created"] = {"gte": int(since.timestamp())}
        while True:
            page = await self._call("GET /v1/invoices", partial(self.client.v1.invoices.list_async, query))
            for candidate in page.data:
                if _metadata(candidate).get(params.META_INVOICE_UID) == self.ids.invoice_uid:
                    return candidate
            if not page.has_more or not page.data:
                return None
            query["starting_after"] = _id(page.data[-1])

    async def create_invoice(self, request: InvoiceCreateParams) -> stripe.Invoice:
        key = idempotency.key(self.ids.invoice_uid, "invoice", params=request)
        created = await self._call(
            "POST /v1/invoices", partial(self.client.v1.invoices.create_async, request, {"idempotency_key": key})
        )
        self.logger.info("Invoice %s: created Stripe invoice %s.", self.ids.label, created.id)
        return created

    async def attach_items(self, requests: list[params.ItemRequest]) -> None:
        """Create each item not attached yet; an attached one made from other content is a mismatch."""
        if not requests:
            return
        invoice_id = requests[0].invoice_id
        attached = await self._attached_items(invoice_id)
        for request in requests:
            key = idempotency.key(self.ids.invoice_uid, request.step, index=request.index, params=request.params)
            if request.line in attached:
                if attached[request.line] != key:
                    raise StripeStateMismatchError(
                        f"Stripe invoice {invoice_id} already has an item for {request.label} of Invoice "
                        f"{self.ids.label} with other content (key {attached[request.line]}, expected {key})."
                    )
                continue
            # The key is not part of its own digest: it is added to the metadata after being derived.
            item: InvoiceItemCreateParams = {
                **request.params,
                "metadata": {**request.metadata, params.META_KEY: key},
            }
            await self._call(
                f"POST /v1/invoiceitems ({request.label})",
                partial(self.client.v1.invoice_items.create_async, item, {"idempotency_key": key}),
            )

    async def _attached_items(self, invoice_id: str) -> dict[str, str]:
        """Our items already on the Stripe invoice: their line (``line:3``, ``vat:0``) → idempotency key."""
        attached: dict[str, str] = {}
        query: InvoiceItemListParams = {"invoice": invoice_id, "limit": _PAGE_SIZE}
        while True:
            page = await self._call("GET /v1/invoiceitems", partial(self.client.v1.invoice_items.list_async, query))
            for item in page.data:
                metadata = _metadata(item)
                if metadata.get(params.META_INVOICE_UID) == self.ids.invoice_uid and params.META_LINE in metadata:
                    attached[metadata[params.META_LINE]] = metadata.get(params.META_KEY, "")
            if not page.has_more or not page.data:
                return attached
            query["starting_after"] = _id(page.data[-1])

    async def finalize(self, invoice_id: str) -> stripe.Invoice:
        request: InvoiceFinalizeInvoiceParams = {"auto_advance": True}
        key = idempotency.key(self.ids.invoice_uid, "finalize", params=request)
        return await self._call(
            f"POST /v1/invoices/{invoice_id}/finalize",
            partial(self.client.v1.invoices.finalize_invoice_async, invoice_id, request, {"idempotency_key": key}),
        )

    def _is_ours(self, customer: stripe.Customer) -> bool:
        return _metadata(customer).get(params.META_SUBSCRIPTION_UID) == self.ids.subscription_uid

    async def _call(self, request: str, operation: Callable[[], Awaitable[T]]) -> T:
        return await calls.call(request, operation, retry=self.retry, logger=self.logger)


def _id(stripe_object: stripe.StripeObject) -> str:
    """The ``id`` of an object Stripe returned; every object we create or list has one."""
    value = getattr(stripe_object, "id", None)
    if not isinstance(value, str) or not value:
        raise StripeStateMismatchError(f"Stripe returned a {type(stripe_object).__name__} without an id.")
    return value


def _metadata(stripe_object: stripe.StripeObject) -> dict[str, str]:
    """An object's metadata as a plain dict (a ``StripeObject`` is not one), empty if it has none."""
    metadata = getattr(stripe_object, "metadata", None)
    if not isinstance(metadata, stripe.StripeObject):
        return {}
    return {str(key): str(value) for key, value in metadata.to_dict().items()}
