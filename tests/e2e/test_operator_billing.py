"""The operator bills: its Site timer runs the billing pass as its ServiceAccount (least privilege), and its
Tariff handler keeps the revisions billing prices with.

The sessions are charged on a manual clock in October 2026; the operator reads the real time, by which
October is closed and past its grace period, so its first pass drafts and finalizes October's invoices.
"""

import json
from pathlib import Path

import pytest

from chargeops.api.v1alpha1 import Invoice
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from tests.e2e.harness import PASSWORD, Control, RunningGateway
from tests.e2e.operator_harness import operator_process, poll
from tests.e2e.test_billing_month import (
    ADA,
    AMSTERDAM,
    OBJECTS,
    Calendar,
    approve_chargers,
    charge,
    local,
    stations,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def invoice_if_final(kubectl: NamespacedKubectl, name: str) -> Invoice | None:
    found = kubectl("get", "invoice", name, "-o", "json", check=False)
    if found.returncode != 0:
        return None
    invoice = Invoice.model_validate(json.loads(found.stdout))
    return invoice if invoice.spec.finalized and invoice.status is not None and invoice.status.phase else None


async def test_the_operator_finalizes_a_closed_month_and_keeps_tariff_revisions(
    *,
    control_plane: ControlPlane,
    kubectl: NamespacedKubectl,
    gateway: RunningGateway,
    control: Control,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kubectl("apply", "-f", "-", input=OBJECTS)
    approve_chargers(kubectl)
    await control.put_desired("PARK-1", password=PASSWORD, authorization="Free", heartbeatIntervalS=86_400)
    calendar = Calendar(local(AMSTERDAM, "2026-10-12T08:00"))
    async with stations(gateway, calendar, "PARK-1") as chargers:
        # Peak, 2 h at 6 kW: 12 kWh x 0.40 = 4.80, 2 h x 1.20 = 2.40, flat 0.50 -> 7.70.
        start, stop = local(AMSTERDAM, "2026-10-12T18:00"), local(AMSTERDAM, "2026-10-12T20:00")
        await charge(calendar, chargers["PARK-1"], ADA, start, stop)
        await chargers["PARK-1"].wait_drained()

    monkeypatch.setenv("CHARGEOPS_BILLING_INTERVAL_S", "2")
    async with operator_process(control_plane, gateway.control_url, gateway.token, kubectl.namespace, tmp_path):
        october = await poll(lambda: invoice_if_final(kubectl, "ada-2026-10"))
        tariff = json.loads(kubectl("get", "tariff", "time-of-day", "-o", "json").stdout)

    # Fee: 22 of 31 days x 10.00 = 7.10; 14.80 at 21% = 3.108 -> 3.11; total 17.91.
    assert [str(line.amount) for line in october.spec.lines] == ["7.10", "7.70"]
    assert str(october.spec.total) == "17.91"
    assert october.spec.number == "INV-000001"
    revisions = tariff["status"]["revisions"]
    assert len(revisions) == 1
    assert revisions[0]["generation"] == 1
    assert revisions[0]["spec"] == tariff["spec"]
    listed = kubectl("get", "invoices").stdout
    assert "ada-2026-10" in listed
    assert "INV-000001" in listed
