"""A GitOps agent listed in the chart's values syncs an approved Charger; the agent that is not listed may not.

For each example in deploy/gitops/ (Argo CD, Flux) the real ``helm`` renders the chart with that example's
values, and the shipped admission policy is enforced in the test's namespace with the approvers ConfigMap
exactly as rendered (``admission.install``). The agent's service account, in its real namespace
(``argocd``, ``flux-system``) with edit rights in the test's namespace, then applies ``examples/`` as the
agent's sync would: the approved charger from git is admitted. The other agent, not listed there, is
refused when it tries to approve. That is the promise of docs/approve-by-merge-request.md: the approval
reaches the cluster through the listed agent only.
"""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from chargeops.api.v1alpha1 import approval
from chargeops.devcluster import identities
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from tests.integration import admission

REPO = Path(__file__).resolve().parents[2]
GITOPS = REPO / "deploy" / "gitops"
EXAMPLES = REPO / "examples"
CHART = REPO / "charts" / "chargeops"
APPROVED_IN_GIT = ("garage-north-1", "v1-d672bb74844a2eb8")  # as examples/20-chargers.yaml holds it
WAITING = ("garage-north-2", "v1-b293e484c49a389e")  # the fingerprint `chargeops approve` writes for it

# The service account each agent applies as, and the chart values of its example.
AGENTS: dict[str, tuple[str, str]] = {
    "argocd": ("argocd", "argocd-application-controller"),
    "flux": ("flux-system", "kustomize-controller"),
}


def example_values(agent: str) -> dict[str, Any]:
    """The chart values the example for ``agent`` gives: Argo CD's valuesObject, Flux's spec.values."""
    for path in sorted((GITOPS / agent).rglob("*.yaml")):
        for manifest in filter(None, yaml.safe_load_all(path.read_text())):
            source = manifest["spec"].get("source", {})
            if manifest["kind"] == "Application" and source["path"] == "charts/chargeops":
                return dict(source["helm"]["valuesObject"])
            if manifest["kind"] == "HelmRelease":
                return dict(manifest["spec"]["values"])
    raise AssertionError(f"deploy/gitops/{agent} installs no chart")


def rendered_approvers(helm: Path, values: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """The data of the approvers ConfigMap ``helm template`` renders with ``values``."""
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    command = [str(helm), "template", "chargeops", str(CHART), "--namespace", "chargeops-system"]
    result = subprocess.run(
        [*command, "--values", str(values_file)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    (config_map,) = [
        m for m in yaml.safe_load_all(result.stdout)
        if m and m["kind"] == "ConfigMap" and m["metadata"]["name"] == "chargeops-approvers"
    ]  # fmt: skip
    return dict(config_map["data"])


def agent_token(plane: ControlPlane, namespace: str, agent: str) -> str:
    """A token of ``agent``'s service account, in its own namespace, that may edit ``namespace``."""
    home, name = AGENTS[agent]
    account = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": home}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": home}},
    ]
    plane.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": account}))
    for role in ("edit", identities.CRD_ACCESS_CLUSTER_ROLE):
        plane.kubectl(
            "create", "rolebinding", f"{agent}-{role}", f"--clusterrole={role}",
            f"--serviceaccount={home}:{name}", namespace=namespace,
        )  # fmt: skip
    token = plane.kubectl("create", "token", name, namespace=home).stdout.strip()
    admission.eventually(
        lambda: plane.kubectl("auth", "can-i", "patch", "chargers.chargeops.io", f"--token={token}",
                              namespace=namespace, check=False),
        lambda result: result.stdout.strip() == "yes",
    )  # fmt: skip
    return token


def annotation(kubectl: NamespacedKubectl, charger: str) -> str | None:
    annotations = json.loads(kubectl("get", "charger", charger, "-o", "json").stdout)["metadata"].get("annotations")
    return (annotations or {}).get(approval.ANNOTATION)


@pytest.mark.parametrize(("agent", "other"), [("argocd", "flux"), ("flux", "argocd")])
def test_listed_agent_syncs_the_approval_from_git_and_the_other_agent_may_not_approve(
    *, control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl, helm: Path, tmp_path: Path,
    agent: str, other: str,
) -> None:  # fmt: skip
    approvers = rendered_approvers(helm, example_values(agent), tmp_path)
    listed = ":".join(AGENTS[agent])
    assert approvers["serviceAccounts"] == listed
    policy = admission.install(control_plane, namespace, approvers=approvers)
    try:
        syncing, refused = agent_token(control_plane, namespace, agent), agent_token(control_plane, namespace, other)

        kubectl("apply", "-f", str(EXAMPLES), f"--token={syncing}")
        assert annotation(kubectl, APPROVED_IN_GIT[0]) == APPROVED_IN_GIT[1]

        approve = ["annotate", "charger", WAITING[0], f"{approval.ANNOTATION}={WAITING[1]}", f"--token={refused}"]
        denied = kubectl(*approve, check=False)
        assert admission.denied_by(policy.binding)(denied), denied.stderr
        assert f"the service account {listed} may set, change or remove" in denied.stderr
        assert annotation(kubectl, WAITING[0]) is None
    finally:
        policy.uninstall()
