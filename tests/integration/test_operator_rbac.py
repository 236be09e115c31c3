"""The operator's ServiceAccount may do what a cluster-wide kopf operator of chargeops needs, and no more.

``deploy/rbac/operator.yaml`` is applied to the real API server as shipped; the real authorizer then
answers ``kubectl auth can-i`` for a token of ``chargeops-operator``. The CRDs are applied, so the
chargeops.io resources are served and a "no" for them is RBAC's, not an unknown resource's.
"""

import json
from pathlib import Path

import pytest

from chargeops.devcluster.controlplane import ControlPlane
from tests.integration import admission

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac" / "operator.yaml"
SERVICE_ACCOUNT = "chargeops-operator"
NAMESPACE = "chargeops-system"
KINDS = ("sites", "tariffs", "chargers", "subscriptions", "invoices")

# (verb, resource as kubectl names it, subresource or "") the operator needs.
ALLOWED = [
    *[(verb, f"{kind}.chargeops.io", "") for kind in KINDS for verb in ("get", "list", "watch", "patch")],
    ("create", "invoices.chargeops.io", ""),
    ("update", "invoices.chargeops.io", ""),
    *[(verb, f"{kind}.chargeops.io", "status") for kind in KINDS for verb in ("get", "patch", "update")],
    ("update", "chargers.chargeops.io", "finalizers"),
    ("update", "subscriptions.chargeops.io", "finalizers"),
    ("create", "events", ""),
    ("patch", "events", ""),
    ("create", "events.events.k8s.io", ""),
    ("patch", "events.events.k8s.io", ""),
    ("get", "secrets", ""),
    ("list", "namespaces", ""),
    ("watch", "namespaces", ""),
    ("list", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("watch", "customresourcedefinitions.apiextensions.k8s.io", ""),
]

# What a least-privilege operator must not be able to do.
DENIED = [
    ("list", "secrets", ""),
    ("watch", "secrets", ""),
    ("create", "secrets", ""),
    *[("delete", f"{kind}.chargeops.io", "") for kind in KINDS],
    *[
        (verb, f"{kind}.chargeops.io", "")
        for kind in ("sites", "tariffs", "chargers", "subscriptions")
        for verb in ("create", "update")
    ],
    ("deletecollection", "invoices.chargeops.io", ""),
    ("update", "sites.chargeops.io", "finalizers"),
    ("create", "configmaps", ""),
    ("get", "configmaps", ""),
    ("list", "pods", ""),
    ("create", "pods", ""),
    ("delete", "events", ""),
    ("get", "namespaces", ""),
    ("create", "namespaces", ""),
    ("get", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("update", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("create", "leases.coordination.k8s.io", ""),
    ("patch", "validatingadmissionpolicies.admissionregistration.k8s.io", ""),
    ("create", "serviceaccounts", "token"),
    ("impersonate", "users", ""),
    ("escalate", "clusterroles.rbac.authorization.k8s.io", ""),
]


@pytest.fixture(scope="module")
def operator_token(control_plane: ControlPlane) -> str:
    """A token of the operator's ServiceAccount, once its ClusterRoleBinding is in force."""
    control_plane.kubectl("apply", "-f", str(RBAC))
    token = control_plane.kubectl("create", "token", SERVICE_ACCOUNT, "-n", NAMESPACE).stdout.strip()
    admission.eventually(
        lambda: control_plane.kubectl("auth", "can-i", "watch", "chargers.chargeops.io", "-A", f"--token={token}",
                                      check=False),
        lambda result: result.stdout.strip() == "yes",
    )  # fmt: skip
    return token


def can_i(
    control_plane: ControlPlane, token: str, verb: str, resource: str, subresource: str, *, namespace: str
) -> str:
    args = ["auth", "can-i", verb, resource, f"--token={token}", f"--namespace={namespace}"]
    if subresource:
        args.append(f"--subresource={subresource}")
    return control_plane.kubectl(*args, check=False).stdout.strip()


@pytest.mark.parametrize(("verb", "resource", "subresource"), ALLOWED)
def test_the_operator_may(
    control_plane: ControlPlane, operator_token: str, verb: str, resource: str, subresource: str
) -> None:
    # Any namespace: the operator serves all of them.
    assert can_i(control_plane, operator_token, verb, resource, subresource, namespace="any-team") == "yes"


@pytest.mark.parametrize(("verb", "resource", "subresource"), DENIED)
def test_the_operator_may_not(
    control_plane: ControlPlane, operator_token: str, verb: str, resource: str, subresource: str
) -> None:
    assert can_i(control_plane, operator_token, verb, resource, subresource, namespace="any-team") == "no"


def test_the_operator_role_grants_nothing_beyond_the_matrix(control_plane: ControlPlane, operator_token: str) -> None:
    """Every rule of the shipped ClusterRole is one the matrix above checks; a new rule needs a new row."""
    role = json.loads(control_plane.kubectl("get", "clusterrole", SERVICE_ACCOUNT, "-o", "json").stdout)
    granted = {
        (verb, resource, group)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    checked = set()
    for verb, resource, subresource in ALLOWED:
        name, _, group = resource.partition(".")
        checked.add((verb, f"{name}/{subresource}" if subresource else name, group))
    assert granted == checked


def test_the_operator_reads_a_secret_by_name_but_cannot_list_them(
    control_plane: ControlPlane, namespace: str, operator_token: str
) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "charger-passwords"},
              "stringData": {"cp-1": "example-password-1234"}}  # fmt: skip
    control_plane.kubectl("create", "-f", "-", namespace=namespace, input=json.dumps(secret))
    read = control_plane.kubectl(
        "get", "secret", "charger-passwords", "-o", "jsonpath={.data.cp-1}",
        f"--token={operator_token}", namespace=namespace,
    )  # fmt: skip
    assert read.stdout == "ZXhhbXBsZS1wYXNzd29yZC0xMjM0"
    listed = control_plane.kubectl("get", "secrets", f"--token={operator_token}", namespace=namespace, check=False)
    assert listed.returncode == 1
    assert (
        f'secrets is forbidden: User "system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}" cannot list resource '
        f'"secrets" in API group "" in the namespace "{namespace}"'
    ) in listed.stderr
