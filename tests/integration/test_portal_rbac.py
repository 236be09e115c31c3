"""The portal's ServiceAccount may read what its pages show and patch Subscriptions, and nothing more.

``deploy/rbac/portal.yaml`` is applied to the real API server as shipped; the real authorizer answers
``kubectl auth can-i --as`` the portal's ServiceAccount. The portal faces the internet, so every "no"
here is a door an attacker who took it over would find shut.
"""

import json
from pathlib import Path

import pytest

from chargeops.devcluster.controlplane import ControlPlane
from tests.integration import admission

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac" / "portal.yaml"
SERVICE_ACCOUNT = "system:serviceaccount:chargeops-system:chargeops-portal"
KINDS = ("sites", "tariffs", "chargers", "subscriptions", "invoices")

# (verb, resource as kubectl names it, subresource or "") the portal needs.
ALLOWED = [
    *[(verb, f"{kind}.chargeops.io", "") for kind in KINDS for verb in ("get", "list", "watch")],
    ("patch", "subscriptions.chargeops.io", ""),
]

DENIED = [
    # The answer is the only write: no other kind, no status (the operator's), no create/update/delete.
    *[("patch", f"{kind}.chargeops.io", "") for kind in KINDS if kind != "subscriptions"],
    *[(verb, f"{kind}.chargeops.io", "") for kind in KINDS for verb in ("create", "update", "delete")],
    ("deletecollection", "subscriptions.chargeops.io", ""),
    *[(verb, f"{kind}.chargeops.io", "status") for kind in KINDS for verb in ("patch", "update")],
    ("update", "subscriptions.chargeops.io", "finalizers"),
    # Nothing outside chargeops.io: no Secrets (charger passwords, SMTP, Stripe), no Events, no Pods.
    ("get", "secrets", ""),
    ("list", "secrets", ""),
    ("get", "configmaps", ""),
    ("create", "events", ""),
    ("list", "pods", ""),
    ("list", "namespaces", ""),
    ("create", "serviceaccounts", "token"),
    ("impersonate", "users", ""),
    ("escalate", "clusterroles.rbac.authorization.k8s.io", ""),
]


@pytest.fixture(scope="module")
def portal_role(control_plane: ControlPlane) -> None:
    """The shipped RBAC, once the authorizer enforces it."""
    control_plane.kubectl("apply", "-f", str(RBAC))
    admission.eventually(
        lambda: control_plane.kubectl("auth", "can-i", "patch", "subscriptions.chargeops.io", "-A",
                                      f"--as={SERVICE_ACCOUNT}", check=False),
        lambda result: result.stdout.strip() == "yes",
    )  # fmt: skip


def can_i(control_plane: ControlPlane, verb: str, resource: str, subresource: str) -> str:
    args = ["auth", "can-i", verb, resource, f"--as={SERVICE_ACCOUNT}", "--namespace=any-team"]
    if subresource:
        args.append(f"--subresource={subresource}")
    return control_plane.kubectl(*args, check=False).stdout.strip()


@pytest.mark.parametrize(("verb", "resource", "subresource"), ALLOWED)
@pytest.mark.usefixtures("portal_role")
def test_the_portal_may(control_plane: ControlPlane, verb: str, resource: str, subresource: str) -> None:
    assert can_i(control_plane, verb, resource, subresource) == "yes"


@pytest.mark.parametrize(("verb", "resource", "subresource"), DENIED)
@pytest.mark.usefixtures("portal_role")
def test_the_portal_may_not(control_plane: ControlPlane, verb: str, resource: str, subresource: str) -> None:
    assert can_i(control_plane, verb, resource, subresource) == "no"


@pytest.mark.usefixtures("portal_role")
def test_the_portal_role_grants_nothing_beyond_the_matrix(control_plane: ControlPlane) -> None:
    """Every rule of the shipped ClusterRole is one the matrix above checks; a new rule needs a new row."""
    role = json.loads(control_plane.kubectl("get", "clusterrole", "chargeops-portal", "-o", "json").stdout)
    granted = {
        (verb, resource, group)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    checked = {(verb, *resource.split(".", 1)) for verb, resource, _ in ALLOWED}
    assert granted == checked
