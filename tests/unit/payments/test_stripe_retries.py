"""Transient Stripe failures are retried with bounded exponential backoff; refusals are not retried."""

import pytest
import stripe

from chargeops import payments
from chargeops.payments import calls

QUICK = payments.RetryPolicy(attempts=4, initial_delay_s=0.001, max_delay_s=0.002)


def answered(status: int, *, should_retry: str | None = None) -> stripe.StripeError:
    headers = {"request-id": f"req_{status}"} | ({"stripe-should-retry": should_retry} if should_retry else {})
    body = {"error": {"type": "api_error", "message": f"HTTP {status}", "code": "some_code"}}
    return stripe.StripeError(f"HTTP {status}", http_status=status, json_body=body, headers=headers, code="some_code")


class Flaky:
    """An operation that fails with ``failures`` in turn, then answers ``done``."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


@pytest.mark.parametrize("status", [409, 429, 500, 502, 503])
def test_conflicts_rate_limits_and_server_errors_are_transient(status: int) -> None:
    assert calls.is_transient(answered(status))


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404])
def test_other_client_errors_are_not(status: int) -> None:
    assert not calls.is_transient(answered(status))


def test_stripe_should_retry_overrides_the_status() -> None:
    assert not calls.is_transient(answered(500, should_retry="false"))
    assert calls.is_transient(answered(400, should_retry="true"))


def test_a_connection_error_is_transient_when_the_library_says_so() -> None:
    assert calls.is_transient(stripe.APIConnectionError("reset", should_retry=True))
    assert not calls.is_transient(stripe.APIConnectionError("bad certificate", should_retry=False))


def test_delays_double_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    policy = payments.RetryPolicy(attempts=8, initial_delay_s=0.5, max_delay_s=4.0)

    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (7, 4.0)]:
        delays = [policy.delay_s(retry) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)


def test_a_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        payments.RetryPolicy(attempts=0)


async def test_transient_failures_are_retried_until_success() -> None:
    operation = Flaky(answered(500), stripe.APIConnectionError("reset", should_retry=True), TimeoutError())

    assert await calls.call("POST /v1/x", operation, retry=QUICK) == "done"
    assert operation.calls == 4


async def test_a_refusal_is_raised_at_once_with_the_request_id() -> None:
    operation = Flaky(answered(400))

    with pytest.raises(payments.StripeRequestError, match=r"Stripe refused POST /v1/x \(HTTP 400, request req_400\)"):
        await calls.call("POST /v1/x", operation, retry=QUICK)

    assert operation.calls == 1


async def test_retries_are_bounded() -> None:
    operation = Flaky(*[answered(503)] * 10)

    with pytest.raises(payments.StripeUnavailableError, match="in 4 attempts") as caught:
        await calls.call("POST /v1/x", operation, retry=QUICK)

    assert operation.calls == 4
    assert caught.value.request_id == "req_503"
