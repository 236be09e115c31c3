"""Invoice drafts and numbers against the real API server: one invoice per name, gapless numbers under
concurrency, a pass that stopped between reserving and finalizing repaired, finalized specs frozen."""

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from chargeops.api.v1alpha1 import InvoiceSpec, LocalObjectReference, Period
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.operator.invoice_store import InvoiceConflictError, InvoiceStore

pytestmark = pytest.mark.cluster

SITE = """
apiVersion: chargeops.io/v1alpha1
kind: Site
metadata: {name: parkside}
spec: {plan: Business, currency: EUR, timeZone: Europe/Amsterdam}
"""


def store_for(control_plane: ControlPlane) -> InvoiceStore:
    """A store with its own client and connection pool, as a second operator process would have."""
    api_client = k8s_config.new_client_from_config(config_file=str(control_plane.kubeconfig))
    return InvoiceStore(k8s.CustomObjectsApi(api_client))


def draft(subscription: str, month: str = "2026-10", total: str = "12.10") -> InvoiceSpec:
    return InvoiceSpec(
        site_ref=LocalObjectReference(name="parkside"),
        subscription_ref=LocalObjectReference(name=subscription),
        period=Period(
            month=month,
            start=datetime(2026, 9, 30, 22, tzinfo=UTC),
            end=datetime(2026, 10, 31, 23, tzinfo=UTC),
        ),
        currency="EUR",
        subtotal=Decimal("10.00"),
        total=Decimal(total),
    )


def site_status(kubectl: NamespacedKubectl) -> dict[str, object]:
    return json.loads(kubectl("get", "site", "parkside", "-o", "json").stdout).get("status") or {}


async def test_a_draft_is_written_once_and_rewritten_only_when_it_changes(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl
) -> None:
    kubectl("apply", "-f", "-", input=SITE)
    store = store_for(control_plane)

    first = await store.write_draft(namespace, "ada-2026-10", draft("ada"))
    again = await store.write_draft(namespace, "ada-2026-10", draft("ada"))
    changed = await store.write_draft(namespace, "ada-2026-10", draft("ada", total="13.00"))

    assert first is not None
    assert again is not None
    assert changed is not None
    assert again.metadata["resourceVersion"] == first.metadata["resourceVersion"]
    assert changed.spec.total == Decimal("13.00")
    listed = await store.for_site(namespace, "parkside")
    assert list(listed) == ["ada-2026-10"]


async def test_concurrent_writers_of_one_draft_leave_one_object(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl
) -> None:
    kubectl("apply", "-f", "-", input=SITE)
    stores = [store_for(control_plane) for _ in range(6)]

    async def write(store: InvoiceStore) -> str:
        try:
            await store.write_draft(namespace, "ada-2026-10", draft("ada"))
        except InvoiceConflictError:
            return "conflict"
        return "written"

    outcomes = await asyncio.gather(*(write(store) for store in stores))

    assert "written" in outcomes
    assert list(await stores[0].for_site(namespace, "parkside")) == ["ada-2026-10"]


async def test_concurrent_finalizations_number_every_invoice_once_without_gaps(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl
) -> None:
    kubectl("apply", "-f", "-", input=SITE)
    names = [f"sub-{n}-2026-10" for n in range(12)]
    writer = store_for(control_plane)
    for n, name in enumerate(names):
        await writer.write_draft(namespace, name, draft(f"sub-{n}"))
    stores = [store_for(control_plane) for _ in range(4)]

    # Four "processes" finalize every invoice, each in its own order, all at once.
    async def finalize_all(store: InvoiceStore, order: list[str]) -> dict[str, str]:
        return {name: await store.finalize(namespace, "parkside", name, prefix="INV-") for name in order}

    orders = [names, names[::-1], names[6:] + names[:6], names[1::2] + names[::2]]
    results = await asyncio.gather(*(finalize_all(s, o) for s, o in zip(stores, orders, strict=True)))

    stored = await writer.for_site(namespace, "parkside")
    numbers = sorted(invoice.spec.number or "" for invoice in stored.values())
    assert numbers == [f"INV-{n:06d}" for n in range(1, 13)]
    assert all(invoice.spec.finalized for invoice in stored.values())
    # Every caller learned the number the invoice really got.
    for result in results:
        assert result == {name: stored[name].spec.number for name in names}
    assert site_status(kubectl)["lastInvoiceNumber"] == 12


async def test_a_pass_that_stopped_after_reserving_a_number_is_finished_with_that_number(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl
) -> None:
    kubectl("apply", "-f", "-", input=SITE)
    store = store_for(control_plane)
    await store.write_draft(namespace, "ada-2026-10", draft("ada"))
    await store.write_draft(namespace, "bob-2026-10", draft("bob"))
    # As if a pass reserved number 7 for ada's invoice and was killed before writing it on the invoice.
    reserved = {"status": {"lastInvoiceNumber": 7, "lastInvoice": "ada-2026-10"}}
    kubectl("patch", "site", "parkside", "--subresource=status", "--type=merge", "-p", json.dumps(reserved))

    # The next pass finalizes bob first: ada's reservation is completed before bob gets 8.
    bob = await store.finalize(namespace, "parkside", "bob-2026-10", prefix="INV-")
    ada = await store.finalize(namespace, "parkside", "ada-2026-10", prefix="INV-")

    assert (ada, bob) == ("INV-000007", "INV-000008")
    assert site_status(kubectl)["lastInvoice"] == "bob-2026-10"


async def test_a_finalized_invoice_is_not_rewritten_and_its_spec_is_refused_by_the_api_server(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl
) -> None:
    kubectl("apply", "-f", "-", input=SITE)
    store = store_for(control_plane)
    await store.write_draft(namespace, "ada-2026-10", draft("ada"))
    await store.finalize(namespace, "parkside", "ada-2026-10", prefix="GARAGE-")

    assert await store.write_draft(namespace, "ada-2026-10", draft("ada", total="99.00")) is None
    refused = kubectl(
        "patch", "invoice", "ada-2026-10", "--type=merge", "-p", '{"spec": {"total": "1.00"}}', check=False
    )
    assert refused.returncode != 0
    assert "the spec of a finalized Invoice cannot change" in refused.stderr
    stored = await store.get(namespace, "ada-2026-10")
    assert stored is not None
    assert stored.spec.total == Decimal("12.10")
    assert stored.spec.number == "GARAGE-000001"
