"""One Stripe request: retried while the failure is transient, translated into our errors when it is not.

``invoices`` sends every request through ``call``. The ``stripe`` library's own retries are off
(``max_network_retries=0``), so there is one retry loop, ours, and it is the one that reuses the request's
idempotency key: the operation passed in is the same request with the same key each time.

Transient: no connection or a dropped one, a timeout, HTTP 409 (a request with the same key still in
flight), 429 and 5xx, unless Stripe's ``Stripe-Should-Retry`` header says otherwise. Everything else is
Stripe refusing the request, which another try would not change.
"""

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import stripe

from chargeops.payments.errors import StripeRequestError, StripeUnavailableError

T = TypeVar("T")

Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]

# One request waits this long at most; Stripe answers in well under a second, so this only cuts a hang.
DEFAULT_TIMEOUT_S = 30.0

_CONFLICT = 409
_TOO_MANY_REQUESTS = 429
_SERVER_ERROR = 500

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one request is retried: exponential backoff with jitter, bounded."""

    attempts: int = 5
    """Tries in all, the first included. If unset, 5: about 8 s of waiting at worst with the defaults."""

    initial_delay_s: float = 0.5
    """Wait before the first retry; each later wait doubles it."""

    max_delay_s: float = 8.0
    """The longest single wait."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, not {self.attempts}")

    def delay_s(self, retry: int) -> float:
        """The wait before the ``retry``-th retry (1-based): a random point in the upper half of the
        doubled delay, so clients that failed together do not come back together."""
        ceiling = min(self.initial_delay_s * 2.0 ** (retry - 1), self.max_delay_s)
        return ceiling * (0.5 + random.random() / 2)  # noqa: S311 -- jitter, not a secret


DEFAULT_RETRY = RetryPolicy()


@asynccontextmanager
async def connect(
    api_key: str, *, api_base: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> AsyncIterator[stripe.StripeClient]:
    """A ``StripeClient`` for async calls on its own aiohttp session, closed on exit.

    ``api_base`` replaces Stripe's public API (``Site.spec.billing.stripe.apiBase``; tests point it at
    stripe-mock). The library's retries are off: ``call`` retries.
    """
    http_client = stripe.AIOHTTPClient(timeout=timeout_s)
    client = stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=0,
        http_client=http_client,
    )
    try:
        yield client
    finally:
        await http_client.close_async()  # type: ignore[no-untyped-call]  # unannotated in the library


async def call(
    request: str,
    operation: Callable[[], Awaitable[T]],
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    logger: Logger = _log,
) -> T:
    """Await ``operation()`` until it succeeds, retrying transient failures as ``retry`` allows.

    ``request`` names it in logs and errors, e.g. ``POST /v1/invoiceitems (line 3)``. Raises
    ``StripeRequestError`` at once for a refusal and ``StripeUnavailableError`` once the tries run out.
    """
    for attempt in range(1, retry.attempts + 1):
        try:
            return await operation()
        except (stripe.StripeError, aiohttp.ClientError, TimeoutError) as exc:
            if isinstance(exc, stripe.StripeError) and not is_transient(exc):
                raise refusal(request, exc) from exc
            if attempt == retry.attempts:
                raise StripeUnavailableError(
                    f"Stripe did not complete {request} in {retry.attempts} attempts; the last one failed with "
                    f"{describe(exc)}. Retrying later with the same idempotency keys is safe.",
                    request=request,
                    attempts=retry.attempts,
                    request_id=_request_id(exc),
                ) from exc
            delay = retry.delay_s(attempt)
            logger.warning(
                "Stripe %s failed with %s; retry %d of %d in %.1f s.",
                request,
                describe(exc),
                attempt,
                retry.attempts - 1,
                delay,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def is_transient(exc: stripe.StripeError) -> bool:
    """Whether the same request, with the same idempotency key, may well succeed later."""
    if isinstance(exc, stripe.APIConnectionError):
        return exc.should_retry
    should_retry = (exc.headers or {}).get("stripe-should-retry")
    if should_retry in ("true", "false"):
        return should_retry == "true"
    status = exc.http_status
    return status is not None and (status in (_CONFLICT, _TOO_MANY_REQUESTS) or status >= _SERVER_ERROR)


def refusal(request: str, exc: stripe.StripeError) -> StripeRequestError:
    """Our error for a request Stripe refused, naming the request, its Stripe request id and the cause."""
    param = getattr(exc, "param", None)
    details = ", ".join(
        f"{label} {value}" for label, value in (("code", exc.code), ("param", param)) if value is not None
    )
    message = f"Stripe refused {request} ({describe(exc)}): {exc.user_message or 'no message'}"
    return StripeRequestError(
        message + (f" [{details}]" if details else "") + ".",
        request=request,
        http_status=exc.http_status,
        request_id=exc.request_id,
        code=exc.code,
        param=param,
    )


def describe(exc: BaseException) -> str:
    """``HTTP 500, request req_123`` for an answer, the exception's class for a connection failure."""
    if isinstance(exc, stripe.StripeError) and exc.http_status is not None:
        return f"HTTP {exc.http_status}, request {exc.request_id or 'without id'}"
    return f"{type(exc).__name__} (no answer)"


def _request_id(exc: BaseException) -> str | None:
    return exc.request_id if isinstance(exc, stripe.StripeError) else None
