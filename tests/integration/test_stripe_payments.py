"""Finalized Invoices go to Stripe through the real ``stripe`` library, against stripe-mock.

stripe-mock refuses any request its OpenAPI spec does not allow, so a push that succeeds sent only
well-formed requests. It keeps no state, so idempotency is checked on what the client sent, recorded by
``StripeProxy`` between the two, which also injects failures: 5xx, 429 and dropped connections are
retried with the same key, a 4xx fails at once naming Stripe's request id, and a rerun after a failure
repeats the keys of everything already sent, so Stripe would replay rather than charge twice.
"""

from collections.abc import AsyncIterator
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import stripe

from chargeops import payments
from chargeops.api import v1alpha1
from chargeops.devcluster import stripe_mock as stripe_mock_runner
from chargeops.payments import calls, params
from tests.integration.stripe_proxy import StripeProxy

INVOICE_UID = "5b0e6c1a-8a4b-4d8e-9a51-0c1f3f7e2a10"
SUBSCRIPTION_UID = "0f6f3e0c-2a7d-4d38-a1b4-9e3c2b1d4c55"
# Retries as the controller makes them, minus the waiting.
QUICK = payments.RetryPolicy(attempts=3, initial_delay_s=0.01, max_delay_s=0.02)

SITE = v1alpha1.Site.model_validate(
    {
        "metadata": {"name": "parkside", "namespace": "garage", "uid": "c3a1f7d2-0000-4000-8000-000000000001"},
        "spec": {
            "displayName": "Parkside Garage",
            "plan": "Business",
            "timeZone": "Europe/Amsterdam",
            "currency": "EUR",
            "billing": {"stripe": {"apiKeySecretRef": {"name": "stripe", "key": "apiKey"}}},
        },
    }
)
SUBSCRIPTION = v1alpha1.Subscription.model_validate(
    {
        "metadata": {"name": "ada", "namespace": "garage", "uid": SUBSCRIPTION_UID},
        "spec": {
            "siteRef": {"name": "parkside"},
            "subscriber": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "idTags": ["04A2B3C4D5E6F7"],
            "chargerRefs": [{"name": "garage-north-1"}],
            "startDate": "2026-10-01",
        },
    }
)


def make_invoice(
    *, currency: str = "EUR", amounts: tuple[str, ...] = ("12.40", "5.00", "-3.10"), vat: str = "3.00", **spec: Any
) -> v1alpha1.Invoice:
    """A finalized October invoice: a session, the monthly fee and an adjustment, VAT at 21 %."""
    kinds = ["Session", "MonthlyFee", "Adjustment"]
    lines = [
        {
            "kind": kinds[index % 3],
            "description": f"{kinds[index % 3]} {index}",
            "amount": amount,
            **(
                {
                    "sessionId": f"s-{index}",
                    "chargerRef": {"name": "garage-north-1"},
                    "start": "2026-10-03T18:00:00+02:00",
                    "end": "2026-10-03T19:30:00+02:00",
                }
                if kinds[index % 3] != "MonthlyFee"
                else {}
            ),
        }
        for index, amount in enumerate(amounts)
    ]
    subtotal = sum((Decimal(amount) for amount in amounts), Decimal(0))
    return v1alpha1.Invoice.model_validate(
        {
            "metadata": {
                "name": "ada-2026-10",
                "namespace": "garage",
                "uid": INVOICE_UID,
                "creationTimestamp": "2026-11-01T00:05:00Z",
            },
            "spec": {
                "siteRef": {"name": "parkside"},
                "subscriptionRef": {"name": "ada"},
                "period": {
                    "month": "2026-10",
                    "start": "2026-10-01T00:00:00+02:00",
                    "end": "2026-11-01T00:00:00+01:00",
                },
                "currency": currency,
                "lines": lines,
                "subtotal": str(subtotal),
                "vat": [{"rate": "21", "base": str(subtotal), "amount": vat}],
                "total": str(subtotal + Decimal(vat)),
                "finalized": True,
                "number": "PARK-000042",
            }
            | spec,
        }
    )


@pytest.fixture
async def proxy(stripe_mock: stripe_mock_runner.StripeMock) -> AsyncIterator[StripeProxy]:
    recorder = StripeProxy(stripe_mock.api_base)
    await recorder.start()
    yield recorder
    await recorder.stop()


@pytest.fixture
async def client(stripe_mock: stripe_mock_runner.StripeMock, proxy: StripeProxy) -> AsyncIterator[stripe.StripeClient]:
    async with payments.connect(stripe_mock.api_key, api_base=proxy.url) as stripe_client:
        yield stripe_client


async def push(client: stripe.StripeClient, invoice: v1alpha1.Invoice, **options: Any) -> payments.PushedInvoice:
    return await payments.push_invoice(client, invoice, subscription=SUBSCRIPTION, site=SITE, retry=QUICK, **options)


def posts(proxy: StripeProxy) -> list[tuple[str, str | None]]:
    """(path, idempotency key) of every POST, in order."""
    return [(sent.path, sent.idempotency_key) for sent in proxy.sent("POST")]


def keys(proxy: StripeProxy) -> list[str | None]:
    """The idempotency key of every POST, in order (stripe-mock makes new ids each time, so paths vary)."""
    return [sent.idempotency_key for sent in proxy.sent("POST")]


async def test_a_push_creates_customer_invoice_items_and_finalizes(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    pushed = await push(client, make_invoice())

    assert pushed.customer_id.startswith("cus_")
    assert pushed.invoice_id.startswith("in_")
    assert pushed.refs == v1alpha1.StripeRefs(customer_id=pushed.customer_id, invoice_id=pushed.invoice_id)
    assert [path for path, _ in posts(proxy)] == [
        "/v1/customers",
        "/v1/invoices",
        *["/v1/invoiceitems"] * 4,
        f"/v1/invoices/{pushed.invoice_id}/finalize",
    ]
    assert all(sent.outcome == "forwarded" for sent in proxy.requests)


async def test_the_customer_carries_the_subscriber_and_our_ids(client: stripe.StripeClient, proxy: StripeProxy) -> None:
    await push(client, make_invoice())

    (customer,) = proxy.sent("POST", "/v1/customers")
    assert customer.form["email"] == "ada@example.com"
    assert customer.form["name"] == "Ada Lovelace"
    assert customer.form["metadata[chargeops_namespace]"] == "garage"
    assert customer.form["metadata[chargeops_subscription]"] == "ada"
    assert customer.form["metadata[chargeops_subscription_uid]"] == SUBSCRIPTION_UID
    assert customer.form["metadata[chargeops_site]"] == "parkside"
    assert customer.idempotency_key is not None
    assert customer.idempotency_key.startswith(f"chargeops:{SUBSCRIPTION_UID}:customer:")


async def test_the_invoice_takes_only_its_own_items_and_carries_our_ids(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    pushed = await push(client, make_invoice())

    (created,) = proxy.sent("POST", "/v1/invoices")[:1]
    assert created.form["customer"] == pushed.customer_id
    assert created.form["currency"] == "eur"
    assert created.form["pending_invoice_items_behavior"] == "exclude"
    assert created.form["auto_advance"] == "false"
    assert created.form["metadata[chargeops_invoice]"] == "ada-2026-10"
    assert created.form["metadata[chargeops_invoice_uid]"] == INVOICE_UID
    assert created.form["metadata[chargeops_number]"] == "PARK-000042"
    assert created.form["metadata[chargeops_period]"] == "2026-10"
    assert created.idempotency_key is not None
    assert created.idempotency_key.startswith(f"chargeops:{INVOICE_UID}:invoice:")
    (finalize,) = proxy.sent("POST", f"/v1/invoices/{pushed.invoice_id}/finalize")
    assert finalize.form == {"auto_advance": "true"}


async def test_each_line_and_each_vat_rate_is_an_item_in_minor_units(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    pushed = await push(client, make_invoice())

    items = proxy.sent("POST", "/v1/invoiceitems")
    assert [item.form["amount"] for item in items] == ["1240", "500", "-310", "300"]
    assert {item.form["currency"] for item in items} == {"eur"}
    assert {item.form["invoice"] for item in items} == {pushed.invoice_id}
    assert [item.form["metadata[chargeops_line]"] for item in items] == ["line:0", "line:1", "line:2", "vat:0"]
    assert items[0].form["metadata[chargeops_session_id]"] == "s-0"
    assert items[0].form["metadata[chargeops_charger]"] == "garage-north-1"
    assert items[0].form["description"] == "Session 0"
    assert items[3].form["description"] == "VAT 21% on 14.30 EUR"
    assert [item.idempotency_key for item in items] == [item.form["metadata[chargeops_key]"] for item in items]
    assert [str(item.idempotency_key).rsplit(":", 1)[0] for item in items] == [
        f"chargeops:{INVOICE_UID}:item:0",
        f"chargeops:{INVOICE_UID}:item:1",
        f"chargeops:{INVOICE_UID}:item:2",
        f"chargeops:{INVOICE_UID}:vat:0",
    ]


async def test_a_zero_decimal_currency_is_sent_in_whole_units(client: stripe.StripeClient, proxy: StripeProxy) -> None:
    await push(client, make_invoice(currency="JPY", amounts=("1240", "500", "-310"), vat="300"))

    items = proxy.sent("POST", "/v1/invoiceitems")
    assert [item.form["amount"] for item in items] == ["1240", "500", "-310", "300"]
    assert {item.form["currency"] for item in items} == {"jpy"}


async def test_every_post_has_its_own_key_and_a_rerun_sends_the_same_keys(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    await push(client, make_invoice())
    first = keys(proxy)
    proxy.requests.clear()

    await push(client, make_invoice())

    assert all(key is not None and key.startswith("chargeops:") for key in first)
    assert len(set(first)) == len(first) == 7
    assert keys(proxy) == first


async def test_changed_content_gets_a_new_key_only_where_it_changed(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    await push(client, make_invoice())
    first = [item.idempotency_key for item in proxy.sent("POST", "/v1/invoiceitems")]
    proxy.requests.clear()

    await push(client, make_invoice(amounts=("12.40", "5.00", "-3.20"), vat="2.98"))

    second = [item.idempotency_key for item in proxy.sent("POST", "/v1/invoiceitems")]
    assert [a == b for a, b in zip(first, second, strict=True)] == [True, True, False, False]


@pytest.mark.parametrize(
    ("kind", "status"),
    [("status", 500), ("status", 503), ("status", 429), ("status", 409), ("drop", 0)],
    ids=["500", "503", "429", "409", "dropped-connection"],
)
async def test_a_transient_failure_is_retried_with_the_same_key(
    client: stripe.StripeClient, proxy: StripeProxy, kind: Any, status: int
) -> None:
    proxy.inject("POST", "/v1/invoiceitems", after=1, times=2, kind=kind, status=status)

    pushed = await push(client, make_invoice())

    items = proxy.sent("POST", "/v1/invoiceitems")
    assert [item.outcome for item in items[1:4]] == ["dropped" if kind == "drop" else str(status)] * 2 + ["forwarded"]
    assert len({item.idempotency_key for item in items[1:4]}) == 1
    assert len({item.idempotency_key for item in items}) == 4
    assert pushed.invoice_id.startswith("in_")


async def test_a_refused_request_fails_at_once_naming_the_stripe_request_id(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    refusal = {
        "error": {
            "type": "invalid_request_error",
            "message": "No such customer: 'cus_gone'",
            "param": "customer",
            "code": "resource_missing",
        }
    }
    proxy.inject("POST", "/v1/invoices", times=1, status=400, body=refusal)

    with pytest.raises(payments.StripeRequestError) as caught:
        await push(client, make_invoice())

    error = caught.value
    assert (error.http_status, error.request_id, error.code, error.param) == (
        400,
        "req_injected_400",
        "resource_missing",
        "customer",
    )
    assert error.reason == "StripeRequestRejected"
    assert "POST /v1/invoices" in str(error)
    assert "req_injected_400" in str(error)
    assert "No such customer" in str(error)
    assert len(proxy.sent("POST", "/v1/invoices")) == 1
    assert proxy.sent("POST", "/v1/invoiceitems") == []


async def test_stripe_mock_refuses_what_its_spec_does_not_allow(client: stripe.StripeClient) -> None:
    create = partial(client.v1.invoice_items.create_async, {"customer": "cus_1", "no_such_param": "1"})

    with pytest.raises(payments.StripeRequestError) as caught:
        await calls.call("POST /v1/invoiceitems", create, retry=QUICK)

    assert caught.value.http_status == 400
    assert caught.value.request_id == "req_123"  # stripe-mock's fixed id
    assert "additional properties are not allowed" in str(caught.value)


async def test_failures_that_outlast_the_retries_leave_a_rerun_that_repeats_every_key(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    proxy.inject("POST", "/v1/invoiceitems", after=2, times=QUICK.attempts, status=502)

    with pytest.raises(payments.StripeUnavailableError) as caught:
        await push(client, make_invoice())

    assert caught.value.reason == "StripeUnavailable"
    assert caught.value.attempts == QUICK.attempts
    assert caught.value.request_id == "req_injected_502"
    assert "POST /v1/invoiceitems (line 2)" in str(caught.value)
    crashed = set(keys(proxy))
    assert proxy.sent("POST", "/v1/invoices/") == []  # nothing was finalized
    proxy.requests.clear()

    await push(client, make_invoice())

    # Stripe replays a repeated key: the customer, invoice and first two items are not made again.
    assert crashed <= set(keys(proxy))
    assert len(crashed) == 5


async def test_stored_ids_resume_without_a_new_customer_or_invoice(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    known = v1alpha1.StripeRefs(customer_id="cus_stored", invoice_id="in_stored")

    pushed = await push(client, make_invoice(), known=known)

    assert pushed.refs == known
    assert proxy.sent("POST", "/v1/customers") == []
    assert [sent.path for sent in proxy.sent("GET", "/v1/invoices")] == ["/v1/invoices/in_stored"]
    assert {item.form["invoice"] for item in proxy.sent("POST", "/v1/invoiceitems")} == {"in_stored"}
    assert {item.form["customer"] for item in proxy.sent("POST", "/v1/invoiceitems")} == {"cus_stored"}
    assert [path for path, _ in posts(proxy)][-1] == "/v1/invoices/in_stored/finalize"


async def test_ids_stored_on_the_invoice_status_are_used(client: stripe.StripeClient, proxy: StripeProxy) -> None:
    status = v1alpha1.InvoiceStatus(stripe=v1alpha1.StripeRefs(customer_id="cus_stored"))
    invoice = make_invoice().model_copy(update={"status": status})

    pushed = await push(client, invoice)

    assert pushed.customer_id == "cus_stored"
    assert proxy.sent("POST", "/v1/customers") == []


async def test_an_existing_customer_is_found_by_our_ids(client: stripe.StripeClient, proxy: StripeProxy) -> None:
    ours = {"id": "cus_earlier", "object": "customer", "metadata": {params.META_SUBSCRIPTION_UID: SUBSCRIPTION_UID}}
    proxy.inject("GET", "/v1/customers", times=1, status=200, body=stripe_list("/v1/customers", ours))

    pushed = await push(client, make_invoice())

    assert pushed.customer_id == "cus_earlier"
    assert proxy.sent("POST", "/v1/customers") == []
    assert proxy.sent("POST", "/v1/invoices")[0].form["customer"] == "cus_earlier"


async def test_a_finalized_stripe_invoice_of_an_earlier_run_is_left_as_it_is(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    earlier = {
        "id": "in_earlier",
        "object": "invoice",
        "status": "open",
        "hosted_invoice_url": "https://invoice.example/in_earlier",
        "metadata": {params.META_INVOICE_UID: INVOICE_UID},
    }
    proxy.inject("GET", "/v1/invoices", times=1, status=200, body=stripe_list("/v1/invoices", earlier))

    pushed = await push(client, make_invoice())

    assert (pushed.invoice_id, pushed.status) == ("in_earlier", "open")
    assert pushed.hosted_invoice_url == "https://invoice.example/in_earlier"
    assert [path for path, _ in posts(proxy)] == ["/v1/customers"]
    (listing,) = proxy.sent("GET", "/v1/invoices")
    assert listing.form["customer"] == pushed.customer_id
    assert listing.form["created[gte]"] == "1793487900"  # creationTimestamp less an hour of clock skew


async def test_an_unfinalized_invoice_sends_nothing(client: stripe.StripeClient, proxy: StripeProxy) -> None:
    with pytest.raises(payments.InvoiceNotReadyError, match="not finalized"):
        await push(client, make_invoice(finalized=False, number=None))

    assert proxy.requests == []


async def test_lines_that_do_not_add_up_to_the_total_send_nothing(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    with pytest.raises(payments.InvoiceNotReadyError, match=r"come to 17\.30 EUR but its total is 17\.31"):
        await push(client, make_invoice(total="17.31"))

    assert proxy.requests == []


async def test_payment_state_reads_an_unpaid_invoice(client: stripe.StripeClient, proxy: StripeProxy) -> None:
    state = await payments.payment_state(client, "in_unpaid", retry=QUICK)

    assert state.invoice_id == "in_unpaid"
    assert not state.paid
    assert state.paid_at is None
    assert [(sent.method, sent.path) for sent in proxy.requests] == [("GET", "/v1/invoices/in_unpaid")]


async def test_payment_state_reads_a_paid_invoice_after_a_transient_failure(
    client: stripe.StripeClient, proxy: StripeProxy
) -> None:
    paid = {
        "id": "in_paid",
        "object": "invoice",
        "status": "paid",
        "amount_due": 1730,
        "amount_paid": 1730,
        "currency": "eur",
        "status_transitions": {"paid_at": 1793836800},
    }
    proxy.inject("GET", "/v1/invoices/in_paid", times=1, kind="drop")
    proxy.inject("GET", "/v1/invoices/in_paid", times=1, status=200, body=paid)

    state = await payments.payment_state(client, "in_paid", retry=QUICK)

    assert state.paid
    assert state.status == "paid"
    assert state.paid_at is not None
    assert state.paid_at.isoformat() == "2026-11-05T00:00:00+00:00"
    assert (state.amount_due, state.amount_paid, state.currency) == (1730, 1730, "EUR")


def test_stripe_mock_logs_each_request_it_served(stripe_mock: stripe_mock_runner.StripeMock) -> None:
    assert stripe_mock.api_base.startswith("http://127.0.0.1:")
    assert "Request: GET /v1/customers" in stripe_mock.log_path.read_text()


def stripe_list(url: str, *objects: dict[str, Any]) -> dict[str, Any]:
    return {"object": "list", "url": url, "has_more": False, "data": list(objects)}
