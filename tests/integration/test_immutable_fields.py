"""Fields that must never change after creation are guarded by the API server, not by convention."""

import json
from pathlib import Path

import pytest

from chargeops.devcluster.controlplane import NamespacedKubectl

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

INVOICE = {
    "apiVersion": "chargeops.io/v1alpha1",
    "kind": "Invoice",
    "metadata": {"name": "ada-2026-10"},
    "spec": {
        "siteRef": {"name": "parkside"},
        "subscriptionRef": {"name": "ada"},
        "period": {"month": "2026-10", "start": "2026-10-01T00:00:00+02:00", "end": "2026-11-01T00:00:00+01:00"},
        "currency": "EUR",
        "lines": [
            {"kind": "Session", "description": "Charging at garage-north-1", "sessionId": "17", "amount": "4.20"}
        ],
        "subtotal": "4.20",
        "vat": [{"rate": "21", "base": "4.20", "amount": "0.88"}],
        "total": "5.08",
    },
}


def merge_patch(kubectl: NamespacedKubectl, resource: str, patch: object, *subresource: str) -> str:
    result = kubectl("patch", resource, "--type=merge", "-p", json.dumps(patch), *subresource, check=False)
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("resource", "patch", "message"),
    [
        ("charger/visitor-1", {"spec": {"chargePointId": "OTHER"}}, "chargePointId is immutable"),
        ("charger/visitor-1", {"spec": {"siteRef": {"name": "elsewhere"}}}, "siteRef is immutable"),
        ("site/parkside", {"spec": {"currency": "USD"}}, "currency is immutable"),
        ("subscription/ada", {"spec": {"siteRef": {"name": "elsewhere"}}}, "siteRef is immutable"),
    ],
)
def test_identity_fields_cannot_change(kubectl: NamespacedKubectl, resource: str, patch: object, message: str) -> None:
    kubectl("apply", "-f", str(EXAMPLES))
    assert message in merge_patch(kubectl, resource, patch)


def test_a_draft_invoice_may_change(kubectl: NamespacedKubectl) -> None:
    kubectl("create", "-f", "-", input=json.dumps(INVOICE))
    assert "patched" in merge_patch(kubectl, "invoice/ada-2026-10", {"spec": {"total": "6.00"}})


def test_a_finalized_invoice_spec_never_changes_but_its_status_may(kubectl: NamespacedKubectl) -> None:
    kubectl("create", "-f", "-", input=json.dumps(INVOICE))
    finalize = {"spec": {"finalized": True, "number": "PARK-000001"}}
    assert "patched" in merge_patch(kubectl, "invoice/ada-2026-10", finalize)

    refused = merge_patch(kubectl, "invoice/ada-2026-10", {"spec": {"total": "1.00"}})
    assert "the spec of a finalized Invoice cannot change" in refused
    unfinalize = merge_patch(kubectl, "invoice/ada-2026-10", {"spec": {"finalized": False}})
    assert "the spec of a finalized Invoice cannot change" in unfinalize

    status = {"status": {"phase": "Finalized"}}
    assert "patched" in merge_patch(kubectl, "invoice/ada-2026-10", status, "--subresource=status")
    stored = json.loads(kubectl("get", "invoice", "ada-2026-10", "-o", "json").stdout)
    assert stored["spec"]["total"] == "5.08"
    assert stored["status"]["phase"] == "Finalized"


def test_finalizing_needs_a_number(kubectl: NamespacedKubectl) -> None:
    kubectl("create", "-f", "-", input=json.dumps(INVOICE))
    assert "a finalized Invoice needs spec.number" in merge_patch(
        kubectl, "invoice/ada-2026-10", {"spec": {"finalized": True}}
    )
