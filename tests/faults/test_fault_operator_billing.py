"""The operator SIGKILLed in the middle of billing passes, started again, repeated.

Its Site timer drafts and finalizes the invoices of a closed month (October 2026: the operator reads the
real time) for many subscriptions; each cycle waits for the pass to make progress, kills the operator
there, and starts it again. Afterwards: exactly one invoice per subscription and month, all finalized,
numbered without a gap or a repeat, and the Site's counter at the last number.

The operator killed during *reconciliation* of Chargers and Subscriptions is
``tests/e2e/test_operator_faults.py::test_an_operator_killed_mid_change_and_restarted_loses_and_repeats_nothing``.
"""

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from chargeops.api.v1alpha1 import Invoice
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from tests.e2e.harness import RunningGateway
from tests.e2e.operator_harness import OperatorProcess, operator_kubeconfig, poll
from tests.e2e.test_billing_month import approve_chargers
from tests.faults.conftest import fault_cycles, subscription

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(180 + 30 * fault_cycles()),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

OBJECTS = """
apiVersion: chargeops.io/v1alpha1
kind: Site
metadata: {name: parkside}
spec: {plan: Business, currency: EUR, timeZone: Europe/Amsterdam, billing: {gracePeriod: 24h}}
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
"""


def subscriptions(count: int) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [subscription(n) for n in range(count)]})


def invoices(kubectl: NamespacedKubectl) -> list[Invoice]:
    listed = json.loads(kubectl("get", "invoices", "-o", "json").stdout)["items"]
    return [Invoice.model_validate(item) for item in listed]


def progress(kubectl: NamespacedKubectl) -> tuple[int, int]:
    """(invoices, finalized invoices) as the API server has them now."""
    found = invoices(kubectl)
    return len(found), sum(1 for invoice in found if invoice.spec.finalized)


@pytest.fixture
async def billing_operator(
    control_plane: ControlPlane, gateway: RunningGateway, namespace: str, tmp_path: Path
) -> AsyncIterator[OperatorProcess]:
    """The operator (not started: each cycle starts it) with a billing pass every second."""
    kubeconfig = await asyncio.to_thread(operator_kubeconfig, control_plane, tmp_path / "operator.kubeconfig")
    operator = OperatorProcess(
        kubeconfig=kubeconfig,
        gateway_url=gateway.control_url,
        token=gateway.token,
        namespace=namespace,
        log=tmp_path / "operator.log",
        env={"CHARGEOPS_BILLING_INTERVAL_S": "1"},
    )
    yield operator
    await operator.stop()
    print(f"--- operator log (tail) ---\n{operator.log_tail()}")  # shown by pytest when the test fails


async def test_an_operator_killed_during_billing_passes_leaves_one_invoice_each_numbered_without_gaps(
    kubectl: NamespacedKubectl, billing_operator: OperatorProcess, figure: Callable[[str], None]
) -> None:
    cycles = fault_cycles()
    # More subscriptions than kills, so that every kill can land with invoices still to finalize.
    count = max(8, cycles + 4)
    kubectl("apply", "-f", "-", input=OBJECTS)
    approve_chargers(kubectl, OBJECTS)
    kubectl("apply", "-f", "-", input=subscriptions(count))

    landed = 0
    seen = (0, 0)
    at_kills: list[str] = []  # invoices/finalized when each kill came
    for _ in range(cycles):
        billing_operator.start()
        # Kill as soon as the pass has written something new (and is not done): mid-pass.
        now = await poll(lambda before=seen: (p := progress(kubectl)) != before and p, interval_s=0.05)
        await billing_operator.kill()
        seen = now
        at_kills.append(f"{now[0]}/{now[1]}")
        if now[1] == count:
            break  # the pass finished before the kill; nothing left to interrupt
        landed += 1
    billing_operator.start()
    await poll(lambda: progress(kubectl) == (count, count))
    await billing_operator.stop()

    found = invoices(kubectl)
    per_subscription = Counter((i.spec.subscription_ref.name, i.spec.period.month) for i in found)
    duplicates = sum(times - 1 for times in per_subscription.values())
    numbers = sorted(i.spec.number or "" for i in found)
    wanted = [f"INV-{n:06d}" for n in range(1, count + 1)]
    gaps = len(set(wanted) - set(numbers))
    site = json.loads(kubectl("get", "site", "parkside", "-o", "json").stdout)
    figure(
        f"operator SIGKILL during billing: {landed} of {cycles} kills mid-pass (invoices/finalized at each: "
        f"{' '.join(at_kills)}), {count} subscriptions, "
        f"{len(found)} invoices, {duplicates} duplicates, {gaps} gaps in numbers, "
        f"{len(numbers) - len(set(numbers))} numbers repeated"
    )
    assert landed >= 1
    assert duplicates == 0
    assert sorted(per_subscription) == sorted((f"sub-{n}", "2026-10") for n in range(count))
    assert numbers == wanted
    assert site["status"]["lastInvoiceNumber"] == count
