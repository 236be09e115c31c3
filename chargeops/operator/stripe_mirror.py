"""Finalized invoices of a Stripe site, mirrored to Stripe and followed until paid.

Called by the billing pass for each subscription's final invoices when the Site names a Stripe key.
An invoice not yet in Stripe (or whose last push failed) is pushed with ``payments.push_invoice``, which
resumes from the ids in ``status.stripe`` and sends every request with an idempotency key made of our
ids: a failure anywhere is shown in status (``Ready=False``, ``StripeFailed``) and the next pass repeats
the same requests without charging twice. An invoice already in Stripe is asked whether it was paid.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from chargeops import payments
from chargeops.api.v1alpha1 import Invoice, InvoicePhase, Site, Subscription
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator.invoice_store import InvoiceStore, ready_condition


class SecretSource(Protocol):
    """Reads one key of a Secret (``runtime.SecretReader``)."""

    async def read(self, namespace: str, name: str, key: str) -> str | None: ...


class PassLedger(Protocol):
    """Where the billing pass counts what happened."""

    stripe: dict[str, str]
    stripe_failed: dict[str, str]
    paid: list[str]


async def mirror(
    site: Site,
    subscription: Subscription,
    finals: Sequence[Invoice],
    *,
    secrets: SecretSource,
    store: InvoiceStore,
    result: PassLedger,
    now: datetime | None = None,
) -> None:
    """Push the final invoices Stripe does not hold yet; mark those Stripe reports paid."""
    settings = site.spec.billing.stripe
    todo = [invoice for invoice in finals if _needs_push(invoice) or _awaiting_payment(invoice)]
    if settings is None or not todo:
        return
    moment = now or datetime.now(UTC)
    namespace = str(site.metadata["namespace"])
    ref = settings.api_key_secret_ref
    key = await secrets.read(namespace, ref.name, ref.key)
    if key is None:
        message = (
            f"Secret {namespace}/{ref.name} has no key {ref.key!r} with the Stripe API key; add it and the next "
            "billing pass sends the invoice."
        )
        for invoice in todo:
            await _failed(store, invoice, message, now=moment, result=result)
        return
    async with payments.connect(key, api_base=settings.api_base) as client:
        for invoice in todo:
            name = str(invoice.metadata["name"])
            stripe_id = _stripe_invoice_id(invoice)
            try:
                if _needs_push(invoice) or stripe_id is None:
                    pushed = await payments.push_invoice(client, invoice, subscription=subscription, site=site)
                    await _pushed(store, invoice, pushed, now=moment)
                    result.stripe[name] = pushed.invoice_id
                else:
                    state = await payments.payment_state(client, stripe_id)
                    if state.paid:
                        await _paid(store, invoice, state, now=moment)
                        result.paid.append(name)
            except payments.PaymentsError as error:
                retried = f"{error} The next billing pass retries with the same idempotency keys."
                await _failed(store, invoice, retried, now=moment, result=result)


def _stripe_invoice_id(invoice: Invoice) -> str | None:
    refs = invoice.status.stripe if invoice.status is not None else None
    return None if refs is None else refs.invoice_id


def _needs_push(invoice: Invoice) -> bool:
    status = invoice.status
    if status is None or _stripe_invoice_id(invoice) is None:
        return True
    ready = next((cond for cond in status.conditions or [] if cond.type == c.READY), None)
    return ready is not None and ready.reason == c.STRIPE_FAILED


def _awaiting_payment(invoice: Invoice) -> bool:
    return not _needs_push(invoice) and invoice.status is not None and invoice.status.phase is InvoicePhase.FINALIZED


async def _pushed(store: InvoiceStore, invoice: Invoice, pushed: payments.PushedInvoice, *, now: datetime) -> None:
    paid = pushed.status == "paid"
    where = f" ({pushed.hosted_invoice_url})" if pushed.hosted_invoice_url else ""
    message = f"Finalized as {invoice.spec.number} and sent to Stripe as {pushed.invoice_id}{where}."
    reason = c.PAID if paid else c.FINALIZED
    await store.patch_status(
        str(invoice.metadata["namespace"]),
        str(invoice.metadata["name"]),
        {
            "phase": (InvoicePhase.PAID if paid else InvoicePhase.FINALIZED).value,
            "stripe": pushed.refs.model_dump(mode="json", by_alias=True, exclude_none=True),
            "conditions": [ready_condition(invoice, ok=True, reason=reason, message=message, now=now)],
        },
    )


async def _paid(store: InvoiceStore, invoice: Invoice, state: payments.PaymentState, *, now: datetime) -> None:
    when = f" on {state.paid_at:%Y-%m-%d}" if state.paid_at else ""
    message = f"Stripe invoice {state.invoice_id} was paid{when}."
    await store.patch_status(
        str(invoice.metadata["namespace"]),
        str(invoice.metadata["name"]),
        {
            "phase": InvoicePhase.PAID.value,
            "conditions": [ready_condition(invoice, ok=True, reason=c.PAID, message=message, now=now)],
        },
    )


async def _failed(store: InvoiceStore, invoice: Invoice, message: str, *, now: datetime, result: PassLedger) -> None:
    result.stripe_failed[str(invoice.metadata["name"])] = message
    await store.patch_status(
        str(invoice.metadata["namespace"]),
        str(invoice.metadata["name"]),
        {"conditions": [ready_condition(invoice, ok=False, reason=c.STRIPE_FAILED, message=message, now=now)]},
    )
