"""`chargeops invoice show` and `render` read an Invoice, its Site and Subscription from a real API server.

The objects are applied with kubectl, the status through its subresource as the billing controller
writes it, and the commands run as the kubeconfig's admin, exactly as a person runs them.
"""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chargeops.cli.main import cli
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl

# A yen site in Tokyo (UTC+09:00, no DST), a subscriber whose name is markup, one finalized invoice.
OBJECTS = """
apiVersion: chargeops.io/v1alpha1
kind: Site
metadata: {name: minato}
spec: {displayName: Minato Tower Garage, plan: Business, timeZone: Asia/Tokyo, currency: JPY}
---
apiVersion: chargeops.io/v1alpha1
kind: Subscription
metadata: {name: kenji}
spec:
  siteRef: {name: minato}
  subscriber: {name: "<script>alert(1)</script> Kenji", email: kenji@example.com}
  idTags: ["04AABBCCDD0011"]
  chargerRefs: [{name: b2-east-3}]
  startDate: "2026-10-01"
---
apiVersion: chargeops.io/v1alpha1
kind: Invoice
metadata: {name: kenji-2026-10}
spec:
  siteRef: {name: minato}
  subscriptionRef: {name: kenji}
  period: {month: "2026-10", start: "2026-10-01T00:00:00+09:00", end: "2026-11-01T00:00:00+09:00"}
  currency: JPY
  lines:
    - kind: Session
      description: Charging at b2-east-3 & "friends" <b>
      sessionId: s-77
      chargerRef: {name: b2-east-3}
      start: "2026-10-05T13:30:00Z"
      end: "2026-10-05T15:10:00Z"
      energyWh: 21500
      durationS: 6000
      components:
        - {type: ENERGY, quantity: "21.500", unitPrice: "45", amount: "968", vat: "10"}
      amount: "968"
    - kind: MonthlyFee
      description: Monthly fee, October 2026
      amount: "1500"
  subtotal: "2468"
  vat: [{rate: "10", base: "2468", amount: "247"}]
  total: "2715"
  finalized: true
  number: MINATO-000007
"""
STATUS = {
    "status": {
        "phase": "Finalized",
        "finalizedAt": "2026-11-04T00:00:00Z",
        "stripe": {"invoiceId": "in_1MinatoKenji"},
        "review": [{"sessionId": "s-81", "reason": "NegativeEnergy", "message": "The meter went backwards."}],
    }
}


def chargeops(control_plane: ControlPlane, namespace: str, *args: str) -> Result:
    kubeconfig = str(control_plane.kubeconfig)
    return CliRunner().invoke(
        cli, ["invoice", *args, "-n", namespace, "--kubeconfig", kubeconfig], catch_exceptions=False
    )


@pytest.fixture
def invoice(kubectl: NamespacedKubectl) -> str:
    kubectl("apply", "-f", "-", input=OBJECTS)
    kubectl("patch", "invoice", "kenji-2026-10", "--subresource=status", "--type=merge", "-p", json.dumps(STATUS))
    return "kenji-2026-10"


def test_show_prints_the_invoice_in_the_sites_zone_and_currency(
    control_plane: ControlPlane, namespace: str, invoice: str
) -> None:
    result = chargeops(control_plane, namespace, "show", invoice)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Site        Minato Tower Garage\n" in out
    assert "Subscriber  <script>alert(1)</script> Kenji <kenji@example.com>\n" in out  # a terminal runs no markup
    assert "Number      MINATO-000007\n" in out
    assert "Phase       Finalized on 2026-11-04 09:00\n" in out
    assert "2026-10-05 22:30–2026-10-06 00:10" in out  # 13:30Z is 22:30 in Tokyo; it ends after midnight
    assert "21.500  1:40" in out
    assert re.search(r"VAT 10% on 2,468 +247 JPY\n +Total +2,715 JPY\n", out)
    assert "2,715.00" not in out
    assert "s-81" in out
    assert "NegativeEnergy" in out
    assert result.stderr == ""


def test_render_writes_one_escaped_printable_page(
    control_plane: ControlPlane, namespace: str, invoice: str, tmp_path: Path
) -> None:
    target = tmp_path / "kenji.html"
    result = chargeops(control_plane, namespace, "render", invoice, "--html", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {target}\n"
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Kenji" in page
    assert "Charging at b2-east-3 &amp; &#34;friends&#34; &lt;b&gt;" in page
    assert "in_1MinatoKenji" in page
    assert "2,715 JPY" in page
    assert "MINATO-000007" in page


def test_render_to_standard_output(control_plane: ControlPlane, namespace: str, invoice: str) -> None:
    result = chargeops(control_plane, namespace, "render", invoice, "--html", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert result.stdout.rstrip().endswith("</html>")


def test_a_missing_invoice_is_a_clear_error(control_plane: ControlPlane, namespace: str) -> None:
    for command in (["show", "nope-2026-10"], ["render", "nope-2026-10", "--html", "-"]):
        result = chargeops(control_plane, namespace, *command)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == f"Error: invoice/nope-2026-10 does not exist in namespace {namespace}.\n"


def test_an_invoice_outlives_its_subscription(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl, invoice: str
) -> None:
    kubectl("delete", "subscription", "kenji")
    result = chargeops(control_plane, namespace, "show", invoice)
    assert result.exit_code == 0, result.output
    assert "Subscriber  kenji\n" in result.stdout
    assert "Note: Subscription kenji does not exist" in result.stdout
    assert result.stderr == f"Warning: subscription/kenji does not exist in namespace {namespace}.\n"
