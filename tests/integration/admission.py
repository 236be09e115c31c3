"""The shipped approval policy (``deploy/admission/``), installed for one test's namespace.

A ValidatingAdmissionPolicy is cluster-wide and the control plane serves a whole test session, so a
test installs the shipped policy unchanged with a copy of the shipped binding that differs in three
fields only: its name, a ``namespaceSelector`` for the test's namespace, and ``paramRef.namespace``,
pointing at a copy of the shipped approvers ConfigMap in that namespace. The session's other tests never
meet it. The API server enforces a new binding or parameter a moment after storing it, so every change
here waits (bounded) until it shows, instead of sleeping.
"""

import copy
import dataclasses
import json
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from chargeops.api.v1alpha1 import approval
from chargeops.devcluster.controlplane import ControlPlane

ADMISSION = Path(__file__).resolve().parents[2] / "deploy" / "admission"
POLICY_FILE = ADMISSION / "approval-policy.yaml"
APPROVERS_FILE = ADMISSION / "approvers.yaml"
# Label that selects a test's namespace for its copy of the binding.
TEST_LABEL = "approval-policy.chargeops.io/test"
# Informers usually catch up in well under a second; this is how long "never" takes.
ENFORCEMENT_TIMEOUT_S = 30.0
_POLL_S = 0.2


def shipped() -> dict[str, dict[str, Any]]:
    """The shipped objects by kind: ValidatingAdmissionPolicy, …Binding and the approvers ConfigMap."""
    objects = [*yaml.safe_load_all(POLICY_FILE.read_text()), *yaml.safe_load_all(APPROVERS_FILE.read_text())]
    return {obj["kind"]: obj for obj in objects if obj}


def probe_charger(name: str = "approval-probe") -> str:
    """A valid Charger manifest that carries an approval, to dry-run against the policy."""
    return json.dumps(
        {
            "apiVersion": "chargeops.io/v1alpha1",
            "kind": "Charger",
            "metadata": {"name": name, "annotations": {approval.ANNOTATION: "v1-0000000000000000"}},
            "spec": {
                "chargePointId": "PROBE-1",
                "siteRef": {"name": "parkside"},
                "chargingMode": {"payPerMonth": True, "tariffRef": {"name": "energy-standard"}},
            },
        }
    )


def dry_run_create(
    plane: ControlPlane, namespace: str, identity: str, manifest: str | None = None
) -> "subprocess.CompletedProcess[str]":
    """``kubectl create --dry-run=server`` of ``manifest`` (the probe Charger): admission runs, nothing is stored."""
    return plane.kubectl(
        "create", "--dry-run=server", "-f", "-",
        as_identity=identity, namespace=namespace, input=manifest or probe_charger(), check=False,
    )  # fmt: skip


def succeeded(result: "subprocess.CompletedProcess[str]") -> bool:
    return result.returncode == 0


def eventually(attempt: Callable[[], "subprocess.CompletedProcess[str]"], done: Callable[[Any], bool]) -> Any:
    """Repeat ``attempt`` until ``done`` accepts its result; return it (or fail after the timeout)."""
    deadline = time.monotonic() + ENFORCEMENT_TIMEOUT_S
    while True:
        result = attempt()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {ENFORCEMENT_TIMEOUT_S} s: {result.stdout}{result.stderr}")
        time.sleep(_POLL_S)


def denied_by(binding: str) -> Callable[["subprocess.CompletedProcess[str]"], bool]:
    """Whether a kubectl result is a refusal by the approval policy through ``binding``."""
    marker = f"ValidatingAdmissionPolicy 'approval.chargeops.io' with binding '{binding}' denied request"
    return lambda result: result.returncode != 0 and marker in result.stderr


@dataclasses.dataclass(frozen=True)
class InstalledPolicy:
    """The policy enforced in ``namespace`` through ``binding``, with its parameters in ``namespace``."""

    plane: ControlPlane
    namespace: str
    binding: str
    params: str

    def set_approvers(self, data: Mapping[str, str] | None) -> None:
        """Replace the approvers ConfigMap's data (``None``: no data at all)."""
        config_map = copy.deepcopy(shipped()["ConfigMap"])
        config_map["metadata"] = {"name": self.params, "namespace": self.namespace}
        if data is None:
            config_map.pop("data", None)
        else:
            config_map["data"] = dict(data)
        self.plane.kubectl("replace", "--force", "-f", "-", input=json.dumps(config_map))

    def wait_until_denied(self, identity: str) -> "subprocess.CompletedProcess[str]":
        """Wait until ``identity`` creating an approved Charger is refused by this binding; the refusal."""
        return eventually(lambda: dry_run_create(self.plane, self.namespace, identity), denied_by(self.binding))

    def wait_until_allowed(self, identity: str) -> "subprocess.CompletedProcess[str]":
        """Wait until ``identity`` may create an approved Charger (a server-side dry run)."""
        return eventually(lambda: dry_run_create(self.plane, self.namespace, identity), succeeded)

    def uninstall(self) -> None:
        self.plane.kubectl("delete", "validatingadmissionpolicybinding", self.binding, "--ignore-not-found")


def install(
    plane: ControlPlane,
    namespace: str,
    *,
    approvers: Mapping[str, str] | None = None,
    params: str | None = None,
    wait: bool = True,
) -> InstalledPolicy:
    """Enforce the shipped policy in ``namespace`` with the shipped approvers (or ``approvers``).

    ``params`` names a different ConfigMap for the binding (one that may not exist); ``wait`` returns
    only once the binding refuses the editor identity.
    """
    objects = shipped()
    binding = copy.deepcopy(objects["ValidatingAdmissionPolicyBinding"])
    name = f"{binding['metadata']['name']}.{namespace}"
    binding["metadata"] = {"name": name}
    binding["spec"]["matchResources"] = {"namespaceSelector": {"matchLabels": {TEST_LABEL: namespace}}}
    binding["spec"]["paramRef"]["namespace"] = namespace
    binding["spec"]["paramRef"]["name"] = params or binding["spec"]["paramRef"]["name"]
    installed = InstalledPolicy(plane, namespace, name, objects["ConfigMap"]["metadata"]["name"])
    plane.kubectl("label", "namespace", namespace, f"{TEST_LABEL}={namespace}", "--overwrite")
    plane.kubectl("apply", "-f", "-", input=json.dumps(objects["ValidatingAdmissionPolicy"]))
    installed.set_approvers(approvers if approvers is not None else objects["ConfigMap"]["data"])
    plane.kubectl("apply", "-f", "-", input=json.dumps(binding))
    if wait:
        installed.wait_until_denied("editor")
    return installed
