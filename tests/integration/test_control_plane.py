"""The development control plane behaves like a small real cluster: version, TLS, RBAC, tokens, VAP."""

import base64
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from chargeops.devcluster import binaries, checkout, clients, components, controlplane, errors, identities

pytestmark = pytest.mark.cluster


def _jwt_claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def test_api_server_reports_the_pinned_kubernetes_version(control_plane: controlplane.ControlPlane) -> None:
    pinned = binaries.module_version(binaries.KUBE_APISERVER, tools_dir=checkout.tools_dir())

    version = json.loads(control_plane.kubectl("get", "--raw", "/version").stdout)

    assert version["gitVersion"] == pinned
    assert control_plane.versions["kube-apiserver"] == pinned
    assert control_plane.versions["etcd"] == binaries.module_version(binaries.ETCD, tools_dir=checkout.tools_dir())


def test_serving_certificate_verifies_against_the_cluster_ca(
    control_plane: controlplane.ControlPlane,
) -> None:
    context = ssl.create_default_context(cafile=str(control_plane.ca_file))

    url = f"{control_plane.server}/readyz"
    with urllib.request.urlopen(url, context=context, timeout=5) as response:  # noqa: S310 -- our https URL
        assert response.read() == b"ok"

    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(url, context=ssl.create_default_context(), timeout=5)  # noqa: S310 -- our https URL
    config = yaml.safe_load(control_plane.kubeconfig.read_text())
    (cluster,) = config["clusters"]
    assert "insecure-skip-tls-verify" not in cluster["cluster"]
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == control_plane.ca_file.read_bytes()


@pytest.mark.parametrize(
    ("identity", "group"),
    [
        (identities.ADMIN, identities.MASTERS_GROUP),
        (identities.SUPER_ADMIN, identities.SUPER_ADMINS_GROUP),
        (identities.EDITOR, identities.EDITORS_GROUP),
        (identities.VIEWER, identities.VIEWERS_GROUP),
    ],
)
def test_each_kubeconfig_context_authenticates_as_its_identity(
    control_plane: controlplane.ControlPlane, identity: str, group: str
) -> None:
    review = json.loads(control_plane.kubectl("auth", "whoami", "-o", "json", as_identity=identity).stdout)

    assert review["status"]["userInfo"]["username"] == identity
    assert group in review["status"]["userInfo"]["groups"]


def test_viewer_is_forbidden_to_create_a_configmap(kubectl: controlplane.NamespacedKubectl) -> None:
    result = kubectl("create", "configmap", "settings", "--from-literal=a=1", as_identity="viewer", check=False)

    assert result.returncode != 0
    assert 'User "viewer" cannot create resource "configmaps"' in result.stderr
    assert "forbidden" in result.stderr


@pytest.mark.parametrize("identity", [identities.EDITOR, identities.SUPER_ADMIN])
def test_editors_create_configmaps_that_viewers_can_read(
    kubectl: controlplane.NamespacedKubectl, identity: str
) -> None:
    kubectl("create", "configmap", "settings", "--from-literal=a=1", as_identity=identity)

    read = kubectl("get", "configmap", "settings", "-o", "jsonpath={.data.a}", as_identity="viewer")

    assert read.stdout == "1"


@pytest.mark.parametrize(
    ("identity", "answer"),
    [(identities.EDITOR, "yes"), (identities.SUPER_ADMIN, "yes"), (identities.VIEWER, "no")],
)
def test_editors_may_write_chargeops_resources_and_viewers_may_not(
    kubectl: controlplane.NamespacedKubectl, identity: str, answer: str
) -> None:
    result = kubectl("auth", "can-i", "create", "chargers.chargeops.io", as_identity=identity, check=False)

    assert result.stdout.strip() == answer


def test_roles_labelled_aggregate_to_view_reach_viewers_once_aggregated(
    control_plane: controlplane.ControlPlane, kubectl: controlplane.NamespacedKubectl
) -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": f"widgets-view-{kubectl.namespace}",
            "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"},
        },
        "rules": [{"apiGroups": ["example.test"], "resources": [f"widgets-{kubectl.namespace}"], "verbs": ["get"]}],
    }
    control_plane.kubectl("create", "-f", "-", input=json.dumps(role))
    # A review rather than ``kubectl auth can-i``, which asks about nothing for a resource not served.
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "group": "example.test",
                "resource": f"widgets-{kubectl.namespace}",
                "verb": "get",
                "namespace": kubectl.namespace,
            }
        },
    }

    def allowed(identity: str) -> str:
        # --validate=false: kubectl's schema check would list CRDs, which a viewer may not.
        command = ["create", "--validate=false", "-f", "-", "-o", "jsonpath={.status.allowed}"]
        return kubectl(*command, as_identity=identity, input=json.dumps(review)).stdout

    assert allowed("viewer") == "false"

    updated = control_plane.aggregate_cluster_roles()

    assert updated == ["admin", "edit", "view"]
    # The authorizer sees the new rules through an informer, a moment after they are stored.
    deadline = time.monotonic() + 10
    while allowed("viewer") != "true" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert allowed("viewer") == "true"
    assert allowed("editor") == "true"


def test_a_service_account_token_authenticates_as_that_service_account(
    kubectl: controlplane.NamespacedKubectl,
) -> None:
    kubectl("create", "serviceaccount", "gitops")

    token = kubectl("create", "token", "gitops").stdout.strip()
    review = json.loads(kubectl("auth", "whoami", "--token", token, "-o", "json").stdout)

    assert _jwt_claims(token)["iss"] == components.SERVICE_ACCOUNT_ISSUER
    assert review["status"]["userInfo"]["username"] == f"system:serviceaccount:{kubectl.namespace}:gitops"
    assert f"system:serviceaccounts:{kubectl.namespace}" in review["status"]["userInfo"]["groups"]


def test_a_pod_is_admitted_with_the_namespace_default_service_account(
    kubectl: controlplane.NamespacedKubectl,
) -> None:
    kubectl("run", "idle", "--image=registry.k8s.io/pause:3.10", "--restart=Never")

    account = kubectl("get", "pod", "idle", "-o", "jsonpath={.spec.serviceAccountName}").stdout

    assert account == "default"


def test_validating_admission_policy_is_served_and_enforced(
    control_plane: controlplane.ControlPlane, kubectl: controlplane.NamespacedKubectl
) -> None:
    resources = control_plane.kubectl("api-resources", "--api-group=admissionregistration.k8s.io", "-o", "name")
    assert "validatingadmissionpolicies.admissionregistration.k8s.io" in resources.stdout.split()
    name = f"deny-frozen-{kubectl.namespace}"
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["configmaps"],
                    }
                ]
            },
            "validations": [{"expression": "!has(object.data) || !('frozen' in object.data)", "message": "frozen"}],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": kubectl.namespace}}
            },
        },
    }
    control_plane.kubectl(
        "create",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [policy, binding]}),
    )

    # The API server loads new policies through an informer, so enforcement starts a moment later.
    deadline = time.monotonic() + 30
    while True:
        result = kubectl("create", "configmap", "probe", "--from-literal=frozen=1", "--dry-run=server", check=False)
        if result.returncode != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert "denied request: frozen" in result.stderr
    kubectl("create", "configmap", "thawed", "--from-literal=warm=1")


@pytest.mark.parametrize("run", [1, 2])
def test_every_test_gets_a_fresh_empty_namespace(
    control_plane: controlplane.ControlPlane, kubectl: controlplane.NamespacedKubectl, run: int
) -> None:
    other = control_plane.create_namespace()

    assert kubectl.namespace.startswith("t-")
    assert other != kubectl.namespace
    assert kubectl("get", "configmaps", "-o", "name").stdout == ""
    assert control_plane.kubectl("get", "namespace", kubectl.namespace, other, "-o", "name").stdout.split() == [
        f"namespace/{kubectl.namespace}",
        f"namespace/{other}",
    ]


def test_a_stopped_control_plane_leaves_no_process_or_folder(
    control_plane: controlplane.ControlPlane,
) -> None:
    plane = controlplane.ControlPlane.start()
    pids = plane.pids
    workdir = plane.workdir

    plane.stop()

    assert set(pids) == {"etcd", "kube-apiserver"}
    assert not workdir.exists()
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_failing_etcd_start_reports_its_log(
    control_plane: controlplane.ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "etcd"
    broken.write_text("#!/bin/sh\necho 'etcdmain: listener failed: disk on fire' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv(binaries.ETCD.env_variable, str(broken))

    with pytest.raises(errors.ControlPlaneStartError) as caught:
        controlplane.ControlPlane.start(workdir=tmp_path / "cluster")

    assert caught.value.component == "etcd"
    assert "exited with code 3" in str(caught.value)
    assert "disk on fire" in str(caught.value)


def test_dev_cluster_command_serves_until_sigterm_then_cleans_up(
    control_plane: controlplane.ControlPlane, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "dev.kubeconfig"
    command = [sys.executable, "-c", "from chargeops.cli.main import cli; cli()", "dev", "cluster"]
    command += ["--kubeconfig", str(kubeconfig), "--crds", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as cli:
        assert cli.stdout is not None
        ready = cli.stdout.readline()
        server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        whoami = subprocess.run(
            [
                str(clients.find()),
                f"--kubeconfig={kubeconfig}",
                "--context=editor",
                "auth",
                "whoami",
                "-o",
                "jsonpath={.status.userInfo.username}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )

        cli.send_signal(signal.SIGTERM)
        _, stderr = cli.communicate(timeout=30)

    assert re.fullmatch(
        rf"Control plane ready: {re.escape(server)} \(kube-apiserver v1\.\d+\.\d+, etcd v3\.\d+\.\d+\); "
        rf"kubeconfig {re.escape(str(kubeconfig))}; Ctrl-C to stop\.\n",
        ready,
    )
    assert whoami.stdout == "editor", whoami.stderr
    assert cli.returncode == 0, stderr
    assert "Control plane stopped." in stderr
    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(f"{server}/readyz", timeout=2)  # noqa: S310 -- our https URL
