"""Finalized invoices mirrored to Stripe (stripe-mock behind a recording proxy) by the billing pass.

Stripe failing while an invoice is sent shows in the Invoice's status and Events; the next pass repeats the
same requests with the same idempotency keys, so Stripe creates nothing twice; once sent, later passes only
ask whether it was paid.
"""

import pytest

from chargeops.api.v1alpha1 import Invoice
from chargeops.api.v1alpha1 import conditions as c
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.devcluster.stripe_mock import StripeMock
from chargeops.operator.runtime import SecretReader
from tests.e2e.harness import PASSWORD, Control, RunningGateway
from tests.e2e.test_billing_month import AMSTERDAM, Billing, Calendar, approve_chargers, charge, local, stations
from tests.integration.stripe_proxy import StripeProxy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(180),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

OBJECTS = """
apiVersion: v1
kind: Secret
metadata: {name: stripe}
stringData: {apiKey: sk_test_123}
---
apiVersion: chargeops.io/v1alpha1
kind: Site
metadata: {name: parkside}
spec:
  plan: Business
  currency: EUR
  timeZone: Europe/Amsterdam
  billing:
    gracePeriod: 24h
    stripe: {apiKeySecretRef: {name: stripe, key: apiKey}, apiBase: "PROXY"}
---
apiVersion: chargeops.io/v1alpha1
kind: Tariff
metadata: {name: flat-energy}
spec:
  currency: EUR
  elements:
    - priceComponents: [{type: ENERGY, price: "0.30", vat: "21"}]
  monthlyFee: {price: "5.00", vat: "21"}
---
apiVersion: chargeops.io/v1alpha1
kind: Charger
metadata: {name: park-1}
spec:
  chargePointId: PARK-1
  siteRef: {name: parkside}
  chargingMode: {payPerMonth: true, tariffRef: {name: flat-energy}}
---
apiVersion: chargeops.io/v1alpha1
kind: Subscription
metadata: {name: ada, annotations: {chargeops.io/accepted: "2026-10-01T09:00:00Z"}}
spec:
  siteRef: {name: parkside}
  subscriber: {name: Ada Lovelace, email: ada@example.com}
  idTags: [ADA-0001]
  chargerRefs: [{name: park-1}]
  startDate: "2026-10-01"
"""


def ready(invoice: Invoice) -> tuple[str, str]:
    assert invoice.status is not None
    found = next(cond for cond in invoice.status.conditions or [] if cond.type == c.READY)
    return found.status.value, found.reason


async def test_a_stripe_failure_is_shown_and_the_rerun_creates_nothing_twice(
    control_plane: ControlPlane,
    kubectl: NamespacedKubectl,
    gateway: RunningGateway,
    control: Control,
    stripe_mock: StripeMock,
) -> None:
    proxy = StripeProxy(stripe_mock.api_base)
    await proxy.start()
    try:
        objects = OBJECTS.replace("PROXY", proxy.url)
        kubectl("apply", "-f", "-", input=objects)
        approve_chargers(kubectl, objects)
        await control.put_desired("PARK-1", password=PASSWORD, authorization="Free", heartbeatIntervalS=86_400)
        billing = Billing(control_plane, kubectl, gateway)
        secrets = SecretReader.from_kubeconfig(str(control_plane.kubeconfig))
        calendar = Calendar(local(AMSTERDAM, "2026-10-01T08:00"))
        async with stations(gateway, calendar, "PARK-1") as chargers:
            # 2 h at 6 kW: 12 kWh x 0.30 = 3.60, plus the monthly fee 5.00.
            await charge(
                calendar,
                chargers["PARK-1"],
                "ADA-0001",
                local(AMSTERDAM, "2026-10-12T18:00"),
                local(AMSTERDAM, "2026-10-12T20:00"),
            )
            await chargers["PARK-1"].wait_drained()
        now = local(AMSTERDAM, "2026-11-03T12:00")

        # Stripe fails every invoice item: the customer and the invoice are made, the items are not.
        proxy.inject("POST", "/v1/invoiceitems", times=1000, status=503)
        failed = await billing.run("parkside", now, secrets=secrets)
        invoice = billing.invoice("ada-2026-10")
        assert invoice.spec.finalized
        assert str(invoice.spec.total) == "10.41"
        assert ready(invoice) == ("False", c.STRIPE_FAILED)
        assert "ada-2026-10" in failed.stripe_failed
        first_keys = {r.idempotency_key for r in proxy.requests if r.method == "POST"}

        # Stripe is back: the rerun sends the same keys for what it had sent, and finishes.
        proxy.clear_faults()
        sent = len(proxy.requests)
        await billing.run("parkside", now, secrets=secrets)
        invoice = billing.invoice("ada-2026-10")
        assert ready(invoice) == ("True", c.FINALIZED)
        assert invoice.status is not None
        assert invoice.status.stripe is not None
        assert invoice.status.stripe.invoice_id is not None
        rerun = [r for r in proxy.requests[sent:] if r.method == "POST"]
        # Every earlier key is repeated, none under a new key: Stripe replays them instead of creating again.
        assert first_keys <= {r.idempotency_key for r in rerun}
        creates = [r for r in rerun if r.path in ("/v1/customers", "/v1/invoices")]
        assert all(r.idempotency_key in first_keys for r in creates)

        # Sent: a later pass only asks Stripe about payment.
        sent = len(proxy.requests)
        await billing.run("parkside", now, secrets=secrets)
        assert [r.method for r in proxy.requests[sent:]] == ["GET"] * len(proxy.requests[sent:])
    finally:
        await proxy.stop()
