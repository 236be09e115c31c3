"""Errors of the Stripe mirror, raised to the billing controller, which turns each into a condition.

A transient failure (no connection, HTTP 5xx, 429) is retried inside ``calls`` first; what reaches the
caller has either outlasted the retries (``StripeUnavailableError``: try again later) or will fail the
same way every time (everything else: a person must look)::

    ChargeOpsError
     └── PaymentsError
          ├── InvoiceNotReadyError          the Invoice is not finalized or lacks what keys are made of
          ├── AmountNotRepresentableError   an amount Stripe cannot take exactly in that currency
          ├── StripeRequestError            Stripe refused a request (HTTP 4xx); names its request id
          ├── StripeUnavailableError        transient failures outlasted the retries
          └── StripeStateMismatchError      Stripe holds an object of ours with other content
"""

from decimal import Decimal

from chargeops.errors import ChargeOpsError


class PaymentsError(ChargeOpsError):
    """The invoice could not be mirrored to Stripe, or its payment not read."""

    reason = "StripeFailed"


class InvoiceNotReadyError(PaymentsError):
    """Only a finalized Invoice with a uid and a number goes to Stripe; this one is not."""

    reason = "InvoiceNotFinalized"


class AmountNotRepresentableError(PaymentsError):
    """An amount has more decimals than Stripe takes in its currency; it is refused, never rounded here."""

    reason = "AmountNotRepresentable"

    def __init__(self, amount: Decimal, currency: str, *, detail: str) -> None:
        super().__init__(f"{format(amount, 'f')} {currency} cannot be sent to Stripe exactly: {detail}.")
        self.amount = amount
        self.currency = currency


class StripeRequestError(PaymentsError):
    """Stripe answered a request with a 4xx error; repeating it would fail the same way."""

    reason = "StripeRequestRejected"

    def __init__(
        self,
        message: str,
        *,
        request: str,
        http_status: int | None,
        request_id: str | None,
        code: str | None,
        param: str | None,
    ) -> None:
        super().__init__(message)
        self.request = request
        self.http_status = http_status
        self.request_id = request_id
        self.code = code
        self.param = param


class StripeUnavailableError(PaymentsError):
    """Every attempt of a request failed transiently; the same call later, with the same keys, is safe."""

    reason = "StripeUnavailable"

    def __init__(self, message: str, *, request: str, attempts: int, request_id: str | None) -> None:
        super().__init__(message)
        self.request = request
        self.attempts = attempts
        self.request_id = request_id


class StripeStateMismatchError(PaymentsError):
    """Stripe holds an object made for this Invoice whose content differs from the Invoice's."""

    reason = "StripeStateMismatch"
