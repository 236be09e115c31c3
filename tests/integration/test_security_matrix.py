"""What each of the chart's ServiceAccounts may do, asked of the real authorizer with its own token.

The Helm chart is rendered (release ``secmatrix``) and its ServiceAccounts, ClusterRoles and bindings are
applied to the real API server; ``kubectl auth can-i`` then answers for a token of each account. Three
views of least privilege:

- the gateway's account may do nothing at all beyond what every authenticated identity may (it never
  calls the Kubernetes API; its Pod mounts no token);
- ``can-i --list`` of the operator and the portal is exactly the expected grant, nothing more;
- a list of things no component may do: Secrets in other namespaces (listed, or read by the portal and
  gateway), deleting CRDs, creating Pods, impersonating, escalating, minting tokens;
- and the operator, which may patch Chargers, still cannot approve one: the approval policy refuses it.

Rendered with ``operator.watchNamespaces``, the operator may read Secrets only in the served namespaces.

``test_operator_rbac.py`` and ``test_portal_rbac.py`` check ``deploy/rbac`` the same way verb by verb;
``test_helm_chart.py`` checks the chart's ClusterRoles equal those files.
"""

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chargeops.api.v1alpha1 import approval
from chargeops.devcluster import binaries
from chargeops.devcluster.controlplane import ControlPlane
from tests.integration import admission

pytestmark = pytest.mark.cluster

CHART = Path(__file__).resolve().parents[2] / "charts" / "chargeops"
RELEASE = "secmatrix"
RELEASE_NAMESPACE = "secmatrix-system"
ACCOUNTS = {component: f"{RELEASE}-chargeops-{component}" for component in ("operator", "portal", "gateway")}
KINDS = ("sites", "tariffs", "chargers", "subscriptions", "invoices")

# What every authenticated identity may do (system:basic-user, system:discovery, system:public-info-viewer),
# and every ServiceAccount besides: read ClusterTrustBundles, the public CA certificates projected volumes use.
EVERYONE = {
    ("selfsubjectaccessreviews.authorization.k8s.io", "create"),
    ("selfsubjectrulesreviews.authorization.k8s.io", "create"),
    ("selfsubjectreviews.authentication.k8s.io", "create"),
    *{("clustertrustbundles.certificates.k8s.io", verb) for verb in ("get", "list", "watch")},
}

# (resource as ``can-i --list`` names it, verb) granted beyond EVERYONE.
GRANTED = {
    "gateway": set(),
    "portal": {
        *{(f"{kind}.chargeops.io", verb) for kind in KINDS for verb in ("get", "list", "watch")},
        ("subscriptions.chargeops.io", "patch"),
    },
    "operator": {
        *{(f"{kind}.chargeops.io", verb) for kind in KINDS for verb in ("get", "list", "watch", "patch")},
        ("invoices.chargeops.io", "create"),
        ("invoices.chargeops.io", "update"),
        *{(f"{kind}.chargeops.io/status", verb) for kind in KINDS for verb in ("get", "patch", "update")},
        ("chargers.chargeops.io/finalizers", "update"),
        ("subscriptions.chargeops.io/finalizers", "update"),
        ("events", "create"),
        ("events", "patch"),
        ("events.events.k8s.io", "create"),
        ("events.events.k8s.io", "patch"),
        ("secrets", "get"),  # by name: charger passwords, Stripe and SMTP keys, wherever a Charger names them
        ("namespaces", "list"),
        ("namespaces", "watch"),
        ("customresourcedefinitions.apiextensions.k8s.io", "list"),
        ("customresourcedefinitions.apiextensions.k8s.io", "watch"),
    },
}

# (verb, resource, subresource) no component may do, in a tenant's namespace and in its own.
DENIED_TO_ALL = [
    ("list", "secrets", ""),
    ("watch", "secrets", ""),
    ("create", "secrets", ""),
    ("delete", "secrets", ""),
    ("delete", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("create", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("patch", "customresourcedefinitions.apiextensions.k8s.io", ""),
    *[("delete", f"{kind}.chargeops.io", "") for kind in KINDS],
    ("create", "chargers.chargeops.io", ""),
    ("update", "chargers.chargeops.io", ""),
    ("create", "pods", ""),
    ("create", "pods", "exec"),
    ("create", "deployments.apps", ""),
    ("patch", "deployments.apps", ""),
    ("get", "configmaps", ""),
    ("update", "configmaps", ""),  # the approvers ConfigMap decides who approves
    ("patch", "validatingadmissionpolicies.admissionregistration.k8s.io", ""),
    ("delete", "validatingadmissionpolicybindings.admissionregistration.k8s.io", ""),
    ("create", "serviceaccounts", "token"),
    ("impersonate", "users", ""),
    ("impersonate", "serviceaccounts", ""),
    ("escalate", "clusterroles.rbac.authorization.k8s.io", ""),
    ("bind", "clusterroles.rbac.authorization.k8s.io", ""),
    ("create", "rolebindings.rbac.authorization.k8s.io", ""),
    ("create", "leases.coordination.k8s.io", ""),
]
DENIED = {
    "gateway": [
        *DENIED_TO_ALL,
        ("get", "secrets", ""),
        *[(verb, f"{kind}.chargeops.io", "") for kind in KINDS for verb in ("get", "list", "patch")],
        ("create", "events", ""),
        ("list", "namespaces", ""),
    ],
    "portal": [
        *DENIED_TO_ALL,
        ("get", "secrets", ""),
        *[("patch", f"{kind}.chargeops.io", "") for kind in KINDS if kind != "subscriptions"],
        *[(verb, f"{kind}.chargeops.io", "status") for kind in KINDS for verb in ("patch", "update")],
        ("create", "events", ""),
    ],
    "operator": [
        *DENIED_TO_ALL,
        ("create", "subscriptions.chargeops.io", ""),
        ("update", "sites.chargeops.io", "finalizers"),
        ("get", "namespaces", ""),
    ],
}
MATRIX = [(component, row) for component, rows in DENIED.items() for row in rows]


@pytest.fixture(scope="module")
def chart_rbac(control_plane: ControlPlane) -> Iterator[dict[str, str]]:
    """The chart's accounts and their roles applied; a token of each account by component."""
    with applied_chart_rbac(control_plane, RELEASE, RELEASE_NAMESPACE) as tokens:
        admission.eventually(
            lambda: control_plane.kubectl("auth", "can-i", "patch", "subscriptions.chargeops.io", "-A",
                                          f"--token={tokens['portal']}", check=False),
            lambda result: result.stdout.strip() == "yes",
        )  # fmt: skip
        yield tokens


@contextlib.contextmanager
def applied_chart_rbac(
    control_plane: ControlPlane, release: str, namespace: str, *helm_args: str
) -> Iterator[dict[str, str]]:
    """The ServiceAccounts, roles and bindings of the chart rendered as ``release`` in ``namespace``
    (with ``helm_args``), applied until the block ends; a token of each account by component."""
    rendered = subprocess.run(
        [str(binaries.ensure(binaries.HELM)), "template", release, str(CHART), "--namespace", namespace, *helm_args],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    objects = [
        obj
        for obj in yaml.safe_load_all(rendered.stdout)
        if obj
        and obj["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
        and obj["metadata"]["name"].startswith(f"{release}-")  # the user roles are test_helm_chart's
    ]
    accounts = {component: f"{release}-chargeops-{component}" for component in ACCOUNTS}
    assert {obj["metadata"]["name"] for obj in objects if obj["kind"] == "ServiceAccount"} == set(accounts.values())
    for each in {namespace} | {obj["metadata"]["namespace"] for obj in objects if obj["kind"] == "Role"}:
        control_plane.kubectl("create", "namespace", each, check=False)
    manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    control_plane.kubectl("apply", "-f", "-", input=manifest)
    try:
        yield {
            component: control_plane.kubectl(
                "create", "token", account, "-n", namespace, "--duration=1h"
            ).stdout.strip()
            for component, account in accounts.items()
        }
    finally:
        control_plane.kubectl("delete", "-f", "-", "--ignore-not-found", input=manifest, check=False)


def granted(control_plane: ControlPlane, token: str, namespace: str) -> set[tuple[str, str]]:
    """(resource, verb) pairs ``can-i --list`` reports for ``token`` in ``namespace``; URLs left out."""
    listed = control_plane.kubectl(
        "auth", "can-i", "--list", f"--token={token}", f"--namespace={namespace}", "--no-headers"
    ).stdout
    pairs = set()
    for line in listed.splitlines():
        resource, urls_and_names, verbs = _columns(line)
        if not resource or urls_and_names:
            continue
        pairs.update((resource, verb) for verb in verbs)
    return pairs


def _columns(line: str) -> tuple[str, str, list[str]]:
    """``Resources  Non-Resource URLs  Resource Names  Verbs`` of one row; columns are space padded and
    the verbs are a bracketed list."""
    head, _, verbs = line.rpartition("[")
    fields = head.split()
    resource = fields[0] if fields and not fields[0].startswith("/") and not fields[0].startswith("[") else ""
    rest = " ".join(fields[1:]) if resource else " ".join(fields)
    return resource, rest.replace("[]", "").strip(), verbs.rstrip("]").split()


@pytest.mark.parametrize("component", sorted(GRANTED))
@pytest.mark.parametrize("namespace", ["any-team", RELEASE_NAMESPACE])
def test_each_account_is_granted_exactly_its_list(
    control_plane: ControlPlane, chart_rbac: dict[str, str], component: str, namespace: str
) -> None:
    assert granted(control_plane, chart_rbac[component], namespace) - EVERYONE == GRANTED[component]


@pytest.mark.parametrize(("component", "request_"), MATRIX, ids=[f"{c}-{'-'.join(filter(None, r))}" for c, r in MATRIX])
def test_no_account_may(
    control_plane: ControlPlane, chart_rbac: dict[str, str], component: str, request_: tuple[str, str, str]
) -> None:
    verb, resource, subresource = request_
    for namespace in ("any-team", RELEASE_NAMESPACE, "kube-system"):
        args = ["auth", "can-i", verb, resource, f"--token={chart_rbac[component]}", f"--namespace={namespace}"]
        if subresource:
            args.append(f"--subresource={subresource}")
        assert control_plane.kubectl(*args, check=False).stdout.strip() == "no", namespace


def test_the_gateway_pod_mounts_no_token() -> None:
    rendered = subprocess.run(
        [str(binaries.ensure(binaries.HELM)), "template", RELEASE, str(CHART), "--namespace", RELEASE_NAMESPACE],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    by_name: dict[tuple[str, str], Any] = {
        (obj["kind"], obj["metadata"]["name"]): obj for obj in yaml.safe_load_all(rendered.stdout) if obj
    }
    pod = by_name[("Deployment", f"{RELEASE}-chargeops-gateway")]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == ACCOUNTS["gateway"]
    assert pod["automountServiceAccountToken"] is False
    assert by_name[("ServiceAccount", ACCOUNTS["gateway"])]["automountServiceAccountToken"] is False


def test_the_operator_may_patch_a_charger_but_not_approve_it(
    control_plane: ControlPlane, chart_rbac: dict[str, str], namespace: str
) -> None:
    policy = admission.install(control_plane, namespace)
    try:
        probe = json.loads(admission.probe_charger("unapproved"))
        del probe["metadata"]["annotations"]
        control_plane.kubectl("create", "-f", "-", namespace=namespace, input=json.dumps(probe))
        token = f"--token={chart_rbac['operator']}"
        patched = control_plane.kubectl(
            "annotate", "charger", "unapproved", "example.com/note=operator-may", token, namespace=namespace
        )
        assert patched.returncode == 0
        approving = control_plane.kubectl(
            "annotate", "charger", "unapproved", f"{approval.ANNOTATION}=v1-0000000000000000", token,
            namespace=namespace, check=False,
        )  # fmt: skip
        assert approving.returncode == 1
        assert f"ValidatingAdmissionPolicy 'approval.chargeops.io' with binding '{policy.binding}'" in approving.stderr
    finally:
        policy.uninstall()


def test_served_namespaces_narrow_the_operators_secrets_to_them(control_plane: ControlPlane) -> None:
    served = "served-team"
    narrowed = ("--set", f"operator.watchNamespaces={{{served}}}")
    with applied_chart_rbac(control_plane, "secnarrow", "secnarrow-system", *narrowed) as tokens:

        def get_secrets(namespace: str) -> "subprocess.CompletedProcess[str]":
            args = ["auth", "can-i", "get", "secrets", f"--token={tokens['operator']}", f"--namespace={namespace}"]
            return control_plane.kubectl(*args, check=False)

        admission.eventually(lambda: get_secrets(served), lambda result: result.stdout.strip() == "yes")
        for elsewhere in ("any-team", "secnarrow-system", "kube-system"):
            assert get_secrets(elsewhere).stdout.strip() == "no", elsewhere
        # Everything else of the operator's grant is as before.
        wider = granted(control_plane, tokens["operator"], "any-team") - EVERYONE
        assert wider == GRANTED["operator"] - {("secrets", "get")}
