"""Stripe unavailable (stripe-mock behind the recording proxy, every request dropped), then back.

Each cycle adds a subscription, so the pass has one new finalized invoice to send, and cuts Stripe off at
a later request each time: the outage ends either within the pass's own retries or only after the pass
gave up, when the next pass finds the invoice marked ``StripeFailed`` and sends it again. stripe-mock
keeps no state, so a double charge shows as a second *new* idempotency key for the same object (found by
our ids in its metadata): every customer, invoice and invoice item must have been created under one key,
and every invoice must end finalized in Stripe with gapless numbers.

``test_billing_stripe.py`` shows one 503 outage and the rerun in detail; this counts over cycles.
"""

import json
from collections.abc import Callable
from datetime import datetime

import pytest

from chargeops.api.v1alpha1 import conditions as c
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.devcluster.stripe_mock import StripeMock
from chargeops.operator.runtime import SecretReader
from chargeops.payments import calls, params
from tests.e2e.harness import RunningGateway
from tests.e2e.test_billing_month import AMSTERDAM, Billing, approve_chargers, local
from tests.e2e.test_billing_stripe import OBJECTS, ready
from tests.faults.conftest import fault_cycles, subscription
from tests.integration.stripe_proxy import Recorded, StripeProxy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(120 + 30 * fault_cycles()),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

CREATES = ("/v1/customers", "/v1/invoices", "/v1/invoiceitems")
# Tries per request (calls.DEFAULT_RETRY): an outage of fewer dropped requests ends within the pass.
ATTEMPTS = calls.DEFAULT_RETRY.attempts


def created_under(requests: list[Recorded], path: str) -> dict[tuple[str, str], set[str | None]]:
    """The idempotency keys each object (our invoice, and line for items) was created under at ``path``:
    one key is Stripe replaying the same request; two would be two objects, a double charge."""
    found: dict[tuple[str, str], set[str | None]] = {}
    for r in requests:
        if r.path == path:
            owner = params.META_SUBSCRIPTION_UID if path == "/v1/customers" else params.META_INVOICE_UID
            ours = (r.form.get(f"metadata[{owner}]", ""), r.form.get(f"metadata[{params.META_LINE}]", ""))
            found.setdefault(ours, set()).add(r.idempotency_key)
    return found


async def test_stripe_outages_then_recovery_charge_nothing_twice(
    *,
    control_plane: ControlPlane,
    kubectl: NamespacedKubectl,
    gateway: RunningGateway,
    stripe_mock: StripeMock,
    figure: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The retries' waits only stretch the test; how many tries there are is what matters.
    monkeypatch.setattr(calls.RetryPolicy, "delay_s", lambda self, retry: 0.01)
    cycles = fault_cycles()
    proxy = StripeProxy(stripe_mock.api_base)
    await proxy.start()
    try:
        # The site, tariff and charger of test_billing_stripe; the subscriptions come one per cycle.
        documents = [d for d in OBJECTS.split("---\n") if "kind: Subscription" not in d]
        kubectl("apply", "-f", "-", input="---\n".join(documents).replace("PROXY", proxy.url))
        approve_chargers(kubectl, OBJECTS)
        billing = Billing(control_plane, kubectl, gateway)
        secrets = SecretReader.from_kubeconfig(str(control_plane.kubeconfig))
        now: datetime = local(AMSTERDAM, "2026-11-03T12:00")
        passes_failed = 0
        for n in range(cycles):
            kubectl("apply", "-f", "-", input=json.dumps(subscription(n)))
            # Cut off after n requests of this pass; odd cycles outlast the pass's tries.
            dropped = ATTEMPTS - 2 if n % 2 == 0 else ATTEMPTS * 3
            for method in ("GET", "POST"):
                proxy.inject(method, "/v1/", times=dropped, after=n, kind="drop")
            result = await billing.run("parkside", now, secrets=secrets)
            passes_failed += bool(result.stripe_failed)
            proxy.clear_faults()
        await billing.run("parkside", now, secrets=secrets)  # Stripe is back for good
        invoices = billing.invoices()
    finally:
        await proxy.stop()

    forwarded = [r for r in proxy.requests if r.method == "POST" and r.outcome == "forwarded"]
    keyless = [r for r in forwarded if not r.idempotency_key]
    created = {path: created_under(forwarded, path) for path in CREATES}
    doubles = sum(len(keys) - 1 for objects in created.values() for keys in objects.values())
    lines = sum(len(invoice.spec.lines) for invoice in invoices.values())
    numbers = sorted(invoice.spec.number or "" for invoice in invoices.values())
    dropped_total = sum(1 for r in proxy.requests if r.outcome == "dropped")
    figure(
        f"stripe outage: {cycles} cycles, {dropped_total} requests dropped, {passes_failed} passes gave up, "
        f"{len(invoices)} invoices ({lines} lines): {len(created['/v1/invoices'])} Stripe invoices and "
        f"{len(created['/v1/invoiceitems'])} items created, {doubles} double charges, "
        f"{len(keyless)} POSTs without a key"
    )
    assert len(invoices) == cycles
    assert all(ready(invoice) == ("True", c.FINALIZED) for invoice in invoices.values()), invoices
    assert all(i.status and i.status.stripe and i.status.stripe.invoice_id for i in invoices.values())
    assert numbers == [f"INV-{n:06d}" for n in range(1, cycles + 1)]
    assert doubles == 0
    assert len(created["/v1/invoices"]) == cycles
    assert len(created["/v1/invoiceitems"]) >= lines >= cycles  # every line, and the VAT items
    assert len(created["/v1/customers"]) <= cycles
    assert keyless == []
    if cycles > 1:
        assert passes_failed >= 1  # an outage outlasted a pass at least once: the rerun path was taken
