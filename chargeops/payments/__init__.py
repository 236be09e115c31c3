"""Payments: finalized Invoices mirrored to Stripe, and their payment read back.

The billing controller opens a client with ``connect(api_key, api_base=site.spec.billing.stripe.apiBase)``,
calls ``push_invoice`` for each finalized Invoice and stores the returned ids in ``status.stripe``, then
polls ``payment_state`` to mark the Invoice ``Paid``. Every request carries an idempotency key made of our
ids, transient failures are retried with backoff, and a rerun after any failure resumes without charging
twice. Billing stays pure: this package is the only one that talks to Stripe. Inside the project, import the
modules and call through them (``from chargeops.payments import invoices``).
"""

from chargeops.payments.amounts import from_minor_units, stripe_currency, to_minor_units
from chargeops.payments.calls import DEFAULT_RETRY, RetryPolicy, connect
from chargeops.payments.errors import (
    AmountNotRepresentableError,
    InvoiceNotReadyError,
    PaymentsError,
    StripeRequestError,
    StripeStateMismatchError,
    StripeUnavailableError,
)
from chargeops.payments.invoices import PaymentState, PushedInvoice, payment_state, push_invoice

__all__ = [
    "DEFAULT_RETRY",
    "AmountNotRepresentableError",
    "InvoiceNotReadyError",
    "PaymentState",
    "PaymentsError",
    "PushedInvoice",
    "RetryPolicy",
    "StripeRequestError",
    "StripeStateMismatchError",
    "StripeUnavailableError",
    "connect",
    "from_minor_units",
    "payment_state",
    "push_invoice",
    "stripe_currency",
    "to_minor_units",
]
