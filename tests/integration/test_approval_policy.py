"""Only approvers may set, change or remove a Charger's approval: the shipped policy on a real API server.

Each test enforces the shipped ValidatingAdmissionPolicy in its own namespace (``admission.install``),
applies the examples there as the super-admin identity (``garage-north-1`` approved, ``garage-north-2``
waiting) and acts as the static identities: ``editor`` (group chargeops:editors) and ``super-admin``
(chargeops:super-admins), both with full RBAC on chargeops.io, so any refusal here is the policy's.
"""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargeops.api.v1alpha1 import approval
from chargeops.devcluster import identities
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from tests.integration import admission

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ONLY_SUPER_ADMINS = (
    "Only members of chargeops:super-admins may set, change or remove the chargeops.io/approval annotation."
)
APPROVED = "v1-d672bb74844a2eb8"  # garage-north-1's approval in examples/20-chargers.yaml


@pytest.fixture
def policy(control_plane: ControlPlane, namespace: str) -> Iterator[admission.InstalledPolicy]:
    installed = admission.install(control_plane, namespace)
    yield installed
    installed.uninstall()


@pytest.fixture
def examples(kubectl: NamespacedKubectl, policy: admission.InstalledPolicy) -> None:
    kubectl("apply", "-f", str(EXAMPLES), as_identity=identities.SUPER_ADMIN)


def annotation(kubectl: NamespacedKubectl, charger: str) -> str | None:
    annotations = json.loads(kubectl("get", "charger", charger, "-o", "json").stdout)["metadata"].get("annotations")
    return (annotations or {}).get(approval.ANNOTATION)


def refusal(binding: str, message: str) -> str:
    return f"ValidatingAdmissionPolicy 'approval.chargeops.io' with binding '{binding}' denied request: {message}"


@pytest.mark.usefixtures("examples")
def test_editor_setting_the_approval_is_denied_with_who_may(
    kubectl: NamespacedKubectl, policy: admission.InstalledPolicy
) -> None:
    result = kubectl(
        "annotate", "charger", "garage-north-2", f"{approval.ANNOTATION}=v1-b293e484c49a389e",
        as_identity=identities.EDITOR, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error from server (Forbidden): chargers.chargeops.io "garage-north-2" is forbidden: '
        + refusal(policy.binding, ONLY_SUPER_ADMINS)
    )
    assert annotation(kubectl, "garage-north-2") is None


@pytest.mark.usefixtures("examples")
def test_super_admin_sets_the_approval(kubectl: NamespacedKubectl) -> None:
    kubectl(
        "annotate", "charger", "garage-north-2", f"{approval.ANNOTATION}=v1-b293e484c49a389e",
        as_identity=identities.SUPER_ADMIN,
    )  # fmt: skip
    assert annotation(kubectl, "garage-north-2") == "v1-b293e484c49a389e"


@pytest.mark.usefixtures("examples")
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            ["annotate", "--overwrite", "charger", "garage-north-1", f"{approval.ANNOTATION}=v1-0"], id="change"
        ),
        pytest.param(["annotate", "charger", "garage-north-1", f"{approval.ANNOTATION}-"], id="remove"),
        pytest.param(
            ["patch", "charger", "garage-north-1", "--type=json",
             "-p", '[{"op": "remove", "path": "/metadata/annotations"}]'],
            id="remove-all-annotations",
        ),
    ],
)  # fmt: skip
def test_an_existing_approval_is_changed_or_removed_by_super_admins_only(
    kubectl: NamespacedKubectl, policy: admission.InstalledPolicy, change: list[str]
) -> None:
    denied = kubectl(*change, as_identity=identities.EDITOR, check=False)
    assert denied.returncode == 1
    assert refusal(policy.binding, ONLY_SUPER_ADMINS) in denied.stderr
    assert annotation(kubectl, "garage-north-1") == APPROVED
    kubectl(*change, as_identity=identities.SUPER_ADMIN)
    assert annotation(kubectl, "garage-north-1") != APPROVED


@pytest.mark.usefixtures("examples")
def test_editor_may_edit_everything_else_of_an_approved_charger(kubectl: NamespacedKubectl) -> None:
    kubectl(
        "patch", "charger", "garage-north-1", "--type=merge",
        "-p", json.dumps({"metadata": {"labels": {"bay": "7"}, "annotations": {"note": "x"}},
                          "spec": {"heartbeatIntervalS": 120}}),
        as_identity=identities.EDITOR,
    )  # fmt: skip
    stored = json.loads(kubectl("get", "charger", "garage-north-1", "-o", "json").stdout)
    assert stored["spec"]["heartbeatIntervalS"] == 120
    assert stored["metadata"]["annotations"][approval.ANNOTATION] == APPROVED


@pytest.mark.usefixtures("policy")
def test_creating_an_approved_charger_needs_an_approver(kubectl: NamespacedKubectl) -> None:
    denied = kubectl("create", "-f", "-", input=admission.probe_charger(), as_identity=identities.EDITOR, check=False)
    assert denied.returncode == 1
    assert ONLY_SUPER_ADMINS in denied.stderr
    kubectl("create", "-f", "-", input=admission.probe_charger(), as_identity=identities.SUPER_ADMIN)
    assert annotation(kubectl, "approval-probe") == "v1-0000000000000000"


@pytest.mark.usefixtures("policy")
def test_creating_a_charger_without_approval_is_anyones_edit(kubectl: NamespacedKubectl) -> None:
    kubectl("apply", "-f", str(EXAMPLES / "00-site.yaml"), as_identity=identities.EDITOR)
    chargers = (EXAMPLES / "20-chargers.yaml").read_text().split("\n---\n")
    unapproved = "\n---\n".join(doc for doc in chargers if approval.ANNOTATION not in doc)
    kubectl("apply", "-f", "-", input=unapproved, as_identity=identities.EDITOR)
    assert annotation(kubectl, "garage-north-2") is None


def service_account_token(plane: ControlPlane, namespace: str, name: str) -> str:
    """A token of a new service account that may edit everything in ``namespace``, chargeops.io included."""
    plane.kubectl("create", "serviceaccount", name, namespace=namespace)
    for role in ("edit", identities.CRD_ACCESS_CLUSTER_ROLE):
        plane.kubectl(
            "create", "rolebinding", f"{name}-{role}", f"--clusterrole={role}",
            f"--serviceaccount={namespace}:{name}", namespace=namespace,
        )  # fmt: skip
    token = plane.kubectl("create", "token", name, namespace=namespace).stdout.strip()
    admission.eventually(
        lambda: plane.kubectl("auth", "can-i", "patch", "chargers.chargeops.io", f"--token={token}",
                              namespace=namespace, check=False),
        lambda result: result.stdout.strip() == "yes",
    )  # fmt: skip
    return token


@pytest.mark.usefixtures("examples")
def test_a_listed_service_account_approves_and_an_unlisted_one_may_not(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl, policy: admission.InstalledPolicy
) -> None:
    gitops = service_account_token(control_plane, namespace, "gitops")
    other = service_account_token(control_plane, namespace, "other")
    policy.set_approvers({"groups": "chargeops:super-admins", "serviceAccounts": f"\n{namespace}:gitops\n"})
    approve = ["annotate", "charger", "garage-north-2", f"{approval.ANNOTATION}=v1-b293e484c49a389e"]

    denied = admission.eventually(
        lambda: kubectl(*approve, f"--token={other}", check=False),
        lambda result: f"the service account {namespace}:gitops" in result.stderr,
    )
    assert (
        refusal(
            policy.binding,
            f"Only members of chargeops:super-admins or the service account {namespace}:gitops "
            "may set, change or remove the chargeops.io/approval annotation.",
        )
        in denied.stderr
    )
    kubectl(*approve, f"--token={gitops}")
    assert annotation(kubectl, "garage-north-2") == "v1-b293e484c49a389e"


@pytest.mark.usefixtures("examples")
def test_adding_a_group_to_the_approvers_takes_effect(
    kubectl: NamespacedKubectl, policy: admission.InstalledPolicy
) -> None:
    policy.set_approvers({"groups": "chargeops:super-admins, chargeops:editors", "serviceAccounts": ""})
    policy.wait_until_allowed(identities.EDITOR)
    kubectl("annotate", "charger", "garage-north-2", f"{approval.ANNOTATION}=v1-1", as_identity=identities.EDITOR)
    assert annotation(kubectl, "garage-north-2") == "v1-1"


@pytest.mark.usefixtures("examples")
def test_approvers_without_keys_default_to_super_admins(policy: admission.InstalledPolicy) -> None:
    policy.set_approvers({"groups": "chargeops:editors"})
    policy.wait_until_allowed(identities.EDITOR)
    policy.set_approvers(None)
    denied = policy.wait_until_denied(identities.EDITOR)
    assert refusal(policy.binding, ONLY_SUPER_ADMINS) in denied.stderr
    policy.wait_until_allowed(identities.SUPER_ADMIN)


@pytest.mark.usefixtures("examples")
def test_approvers_emptied_leave_nobody_to_approve(policy: admission.InstalledPolicy) -> None:
    policy.set_approvers({"groups": "", "serviceAccounts": ""})
    denied = admission.eventually(
        lambda: admission.dry_run_create(policy.plane, policy.namespace, identities.SUPER_ADMIN),
        admission.denied_by(policy.binding),
    )
    assert (
        refusal(
            policy.binding,
            f"Nobody may set, change or remove the chargeops.io/approval annotation: ConfigMap {policy.namespace}/"
            "chargeops-approvers names no approver groups or service accounts.",
        )
        in denied.stderr
    )


def test_without_its_approvers_config_map_the_policy_fails_closed(control_plane: ControlPlane, namespace: str) -> None:
    installed = admission.install(control_plane, namespace, params="missing-approvers", wait=False)
    try:
        # Even a Charger without an approval is refused: better no writes than approvals for anyone.
        plain = json.loads(admission.probe_charger())
        del plain["metadata"]["annotations"]
        denied = admission.eventually(
            lambda: admission.dry_run_create(control_plane, namespace, identities.SUPER_ADMIN, json.dumps(plain)),
            admission.denied_by(installed.binding),
        )
        assert "no params found for policy binding with `Deny` parameterNotFoundAction" in denied.stderr
    finally:
        installed.uninstall()


def test_the_shipped_files_enforce_the_policy_in_every_namespace(control_plane: ControlPlane, namespace: str) -> None:
    """The binding exactly as shipped, with the shipped approvers: applied, checked, and removed again."""
    namespace_manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "chargeops-system"}}
    control_plane.kubectl("apply", "-f", "-", input=json.dumps(namespace_manifest))
    control_plane.kubectl("apply", "-f", str(admission.APPROVERS_FILE), "-f", str(admission.POLICY_FILE))
    binding = admission.shipped()["ValidatingAdmissionPolicyBinding"]["metadata"]["name"]

    def as_editor() -> "subprocess.CompletedProcess[str]":
        return admission.dry_run_create(control_plane, namespace, identities.EDITOR)

    try:
        denied = admission.eventually(as_editor, admission.denied_by(binding))
        assert refusal(binding, ONLY_SUPER_ADMINS) in denied.stderr
        assert admission.dry_run_create(control_plane, namespace, identities.SUPER_ADMIN).returncode == 0
    finally:
        # Cluster-wide: later tests of the session must not meet it, so wait until it is gone.
        control_plane.kubectl("delete", "validatingadmissionpolicybinding", binding)
        admission.eventually(as_editor, admission.succeeded)
