"""The Helm chart ``charts/chargeops`` lints, renders what it promises, refuses bad values, and applies.

Everything runs the real ``helm`` (v3, built from ``tools/helm`` like the control plane's binaries). The
chart repeats four things the repository ships elsewhere, and these tests hold them equal: the CRDs
(byte copies of ``crds/``), the operator's and the portal's ClusterRoles (``deploy/rbac/operator.yaml``,
``deploy/rbac/portal.yaml``) and the approval policy with its parameters (``deploy/admission/``). The
rendered output is applied to the real API server with a server-side dry run, so every object passes the
server's own validation without changing the cluster the other tests share. What the chart decides with
``lookup`` (keep the Secrets it made, refuse a short signing key or password key) is rendered against that
server too.
"""

import base64
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from chargeops.devcluster import aggregation
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.invitations.tokens import MIN_KEY_BYTES
from chargeops.ocpp_gateway.store import credentials

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "chargeops"
RBAC = REPO / "deploy" / "rbac"
ADMISSION = REPO / "deploy" / "admission"

# deploy/ installs into chargeops-system; a release named chargeops there gives the same object names.
RELEASE = "chargeops"
NAMESPACE = "chargeops-system"

# A release that changes what the defaults leave out: PostgreSQL (so three replicas), ServiceMonitors,
# more approvers, no NetworkPolicy, a served-namespaces list, TLS, existing token, signing key and password
# key Secrets, and a portal of two replicas behind an Ingress.
NON_DEFAULT_VALUES: dict[str, Any] = {
    "database": {"type": "postgresql", "postgresql": {"existingSecret": "chargeops-db", "key": "url"}},
    "gateway": {
        "replicas": 3,
        "service": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
        "tls": {"existingSecret": "gateway-tls"},
        "podDisruptionBudget": {"maxUnavailable": "34%"},
        "passwordKey": {"existingSecret": "chargeops-verifiers", "key": "hmac"},
    },
    "operator": {"watchNamespaces": ["parkside", "garage"], "metricsPort": 9090},
    "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
    "networkPolicy": {"enabled": False},
    "approval": {
        "groups": ["chargeops:super-admins", "acme:billing-owners"],
        "serviceAccounts": ["argocd:argocd-application-controller"],
    },
    "gatewayToken": {"existingSecret": "chargeops-token", "key": "api-token", "readKey": "portal-token"},
    "signingKey": {"existingSecret": "chargeops-links", "key": "hmac"},
    "portal": {
        "replicas": 2,
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "hosts": ["pay.parkside.example"],
            "tls": [{"hosts": ["pay.parkside.example"], "secretName": "pay-parkside-tls"}],
        },
    },
}

# The portal off: the operator still signs links (someone may serve the portal elsewhere).
PORTAL_OFF_VALUES: dict[str, Any] = {"portal": {"enabled": False}}

# The portal's egress narrowed to DNS, the control API and an API server address.
PORTAL_EGRESS_VALUES: dict[str, Any] = {
    "networkPolicy": {"portalEgress": {"enabled": True, "apiServer": [{"ipBlock": {"cidr": "10.0.0.1/32"}}]}}
}
VALUES = {"non-default": NON_DEFAULT_VALUES, "portal-off": PORTAL_OFF_VALUES, "portal-egress": PORTAL_EGRESS_VALUES}

KINDS_BY_DEFAULT = {
    "ClusterRole": 5,  # the operator's, the portal's, super-admin, editor, viewer
    "ClusterRoleBinding": 3,  # the operator's, the portal's, super-admins
    "ConfigMap": 1,  # the approvers
    "Deployment": 3,  # operator, gateway, portal
    "NetworkPolicy": 3,
    "PersistentVolumeClaim": 1,  # SQLite
    "PodDisruptionBudget": 1,
    "Secret": 3,  # the control API token, the signing key, the gateway's password key
    "Service": 4,  # OCPP, control API, operator metrics, portal
    "ServiceAccount": 3,
    "ValidatingAdmissionPolicy": 1,
    "ValidatingAdmissionPolicyBinding": 1,
}

Manifest = dict[str, Any]


def run_helm(helm: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([str(helm), *args], capture_output=True, text=True, check=False, timeout=60)


def render(helm: Path, *args: str, namespace: str = NAMESPACE) -> list[Manifest]:
    """``helm template`` of the chart as parsed documents; fails the test with helm's message if it fails."""
    result = run_helm(helm, "template", RELEASE, str(CHART), "--namespace", namespace, *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def one(manifests: Sequence[Manifest], kind: str, name: str) -> Manifest:
    (found,) = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    return found


def container(deployment: Manifest) -> Manifest:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def kind_counts(manifests: Sequence[Manifest]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for manifest in manifests:
        counts[manifest["kind"]] = counts.get(manifest["kind"], 0) + 1
    return counts


def shipped_file(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def shipped(directory: Path) -> list[Manifest]:
    return [doc for path in sorted(directory.glob("*.yaml")) for doc in shipped_file(path)]


@pytest.fixture(scope="module")
def defaults(helm: Path) -> list[Manifest]:
    return render(helm)


@pytest.fixture(scope="module")
def values_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A values file per entry of ``VALUES``, by the same name."""
    folder = tmp_path_factory.mktemp("values")
    for name, values in VALUES.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(values))
    return {name: folder / f"{name}.yaml" for name in VALUES}


@pytest.fixture(scope="module")
def non_default_values(values_files: dict[str, Path]) -> Path:
    return values_files["non-default"]


@pytest.fixture(scope="module")
def non_defaults(helm: Path, non_default_values: Path) -> list[Manifest]:
    return render(helm, "--values", str(non_default_values))


@pytest.fixture(scope="module")
def portal_off(helm: Path, values_files: dict[str, Path]) -> list[Manifest]:
    return render(helm, "--values", str(values_files["portal-off"]))


def test_chart_crds_are_byte_copies_of_the_generated_crds() -> None:
    generated = {path.name: path.read_bytes() for path in (REPO / "crds").glob("*.yaml")}
    in_chart = {path.name: path.read_bytes() for path in (CHART / "crds").glob("*.yaml")}

    assert in_chart == generated, "charts/chargeops/crds/ is stale: run `chargeops crds -o charts/chargeops/crds`"


def value_paths(values: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of the settable values; a mapping the user sets as a whole (resources…) counts as one."""
    paths = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in WHOLE_VALUES:
            paths += value_paths(value, f"{path}.")
        else:
            paths.append(path)
    return paths


WHOLE_VALUES = {"resources", "podSecurityContext", "securityContext"}


def test_every_value_is_documented_in_the_chart_readme() -> None:
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    # A row may list siblings after the first full path ("`operator.serviceAccount.create` / `.name`").
    undocumented = [
        path
        for path in value_paths(values)
        if f"`{path}`" not in readme
        and not (f"`{path.rpartition('.')[0]}." in readme and path.rpartition(".")[2] in readme)
    ]
    assert undocumented == []


@pytest.mark.parametrize("strict", [False, True], ids=["lint", "lint-strict"])
@pytest.mark.parametrize("values", ["default", "non-default"])
def test_helm_lint_passes(helm: Path, non_default_values: Path, strict: bool, values: str) -> None:
    args = ["lint", str(CHART), *(["--strict"] if strict else [])]
    args += ["--values", str(non_default_values)] if values == "non-default" else []

    result = run_helm(helm, *args)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_default_render_has_every_part_and_no_service_monitor(defaults: list[Manifest]) -> None:
    assert kind_counts(defaults) == KINDS_BY_DEFAULT
    namespaced = [m for m in defaults if not m["kind"].startswith(("Cluster", "ValidatingAdmission"))]
    assert {m["metadata"]["namespace"] for m in namespaced} == {NAMESPACE}


def test_operator_is_one_recreated_replica_calling_the_gateway_control_service(defaults: list[Manifest]) -> None:
    deployment = one(defaults, "Deployment", "chargeops-operator")
    operator = container(deployment)

    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert operator["args"] == [
        "operator",
        "--gateway-url=http://chargeops-gateway-control.chargeops-system.svc:9001",
        "--gateway-token-file=/var/run/chargeops/token",
        "--signing-key-file=/var/run/chargeops-signing/key",
        "--metrics-port=8080",
        "--observe-interval=30",
        "--log-level=INFO",
    ]
    assert operator["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert operator["ports"] == [{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}]
    assert one(defaults, "Service", "chargeops-gateway-control")["spec"]["ports"][0]["port"] == 9001
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "chargeops-operator"


def test_gateway_has_no_api_token_probes_its_control_api_and_keeps_sqlite_on_a_volume(
    defaults: list[Manifest],
) -> None:
    deployment = one(defaults, "Deployment", "chargeops-gateway")
    pod = deployment["spec"]["template"]["spec"]
    gateway = container(deployment)

    assert pod["automountServiceAccountToken"] is False
    assert one(defaults, "ServiceAccount", "chargeops-gateway")["automountServiceAccountToken"] is False
    assert gateway["args"] == [
        "gateway",
        "--listen=0.0.0.0:9000",
        "--control-listen=0.0.0.0:9001",
        "--database-url=sqlite+aiosqlite:////var/lib/chargeops/gateway.db",
        "--token-file=/var/run/chargeops/token",
        "--read-token-file=/var/run/chargeops/read-token",
        "--password-key-file=/var/run/chargeops-password-key/key",
        "--response-timeout=30",
        "--overload-lag=0.25",
        "--log-level=INFO",
    ]
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "control"}
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "control"}
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "chargeops-gateway-data"}} in pod["volumes"]
    assert gateway["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_each_pod_gets_only_the_tokens_it_needs_and_nothing_else_from_the_environment(
    defaults: list[Manifest],
) -> None:
    secret = one(defaults, "Secret", "chargeops-gateway-token")
    api_token = {"key": "token", "path": "token"}
    read_token = {"key": "readToken", "path": "read-token"}
    # The portal only shows sessions: it holds the token that may only read, never the API token.
    needs = {
        "chargeops-operator": [api_token],
        "chargeops-gateway": [api_token, read_token],
        "chargeops-portal": [read_token],
    }

    assert sorted(secret["data"]) == ["readToken", "token"]
    assert secret["data"]["readToken"] != secret["data"]["token"]
    for name, items in needs.items():
        pod = one(defaults, "Deployment", name)["spec"]["template"]["spec"]
        assert pod["volumes"][0]["secret"]["secretName"] == "chargeops-gateway-token"
        assert pod["volumes"][0]["secret"]["items"] == items
        # Service links would add CHARGEOPS_GATEWAY_* variables, the prefix chargeops reads settings from.
        assert pod["enableServiceLinks"] is False
        assert "env" not in pod["containers"][0]


def key_volume(name: str, secret_name: str) -> dict[str, Any]:
    """A volume of one key file, ``key``, from the chart's Secret ``secret_name``, readable by the group."""
    return {
        "name": name,
        "secret": {"secretName": secret_name, "defaultMode": 0o440, "items": [{"key": "key", "path": "key"}]},
    }


def test_the_signing_key_is_made_once_and_mounted_in_the_operator_and_the_portal_only(
    defaults: list[Manifest],
) -> None:
    secret = one(defaults, "Secret", "chargeops-signing-key")
    (key,) = secret["data"].values()
    signing_volume = key_volume("signing-key", "chargeops-signing-key")

    assert list(secret["data"]) == ["key"]
    assert len(base64.b64decode(key)) >= MIN_KEY_BYTES
    for name in ("chargeops-operator", "chargeops-portal"):
        deployment = one(defaults, "Deployment", name)
        assert signing_volume in deployment["spec"]["template"]["spec"]["volumes"]
        assert {"name": "signing-key", "mountPath": "/var/run/chargeops-signing", "readOnly": True} in container(
            deployment
        )["volumeMounts"]
        assert "--signing-key-file=/var/run/chargeops-signing/key" in container(deployment)["args"]
    gateway = one(defaults, "Deployment", "chargeops-gateway")["spec"]["template"]["spec"]
    assert "signing-key" not in {volume["name"] for volume in gateway["volumes"]}


def test_the_password_key_is_made_once_and_mounted_in_the_gateway_only(defaults: list[Manifest]) -> None:
    secret = one(defaults, "Secret", "chargeops-gateway-password-key")
    (key,) = secret["data"].values()
    password_volume = key_volume("password-key", "chargeops-gateway-password-key")
    gateway = one(defaults, "Deployment", "chargeops-gateway")

    assert list(secret["data"]) == ["key"]
    assert len(base64.b64decode(key)) >= credentials.MIN_KEY_BYTES
    # A key of its own: not the signing key's value.
    assert key != one(defaults, "Secret", "chargeops-signing-key")["data"]["key"]
    assert secret["metadata"]["labels"]["app.kubernetes.io/component"] == "gateway"
    assert password_volume in gateway["spec"]["template"]["spec"]["volumes"]
    assert {"name": "password-key", "mountPath": "/var/run/chargeops-password-key", "readOnly": True} in container(
        gateway
    )["volumeMounts"]
    assert "--password-key-file=/var/run/chargeops-password-key/key" in container(gateway)["args"]
    for name in ("chargeops-operator", "chargeops-portal"):
        deployment = one(defaults, "Deployment", name)
        secrets = {
            v["secret"]["secretName"] for v in deployment["spec"]["template"]["spec"]["volumes"] if "secret" in v
        }
        assert "chargeops-gateway-password-key" not in secrets
        assert [arg for arg in container(deployment)["args"] if "password-key" in arg] == []


def test_network_policies_let_chargers_in_and_only_the_operator_and_portal_reach_the_control_api(
    defaults: list[Manifest],
) -> None:
    gateway = one(defaults, "NetworkPolicy", "chargeops-gateway")["spec"]
    operator = one(defaults, "NetworkPolicy", "chargeops-operator")["spec"]
    portal = one(defaults, "NetworkPolicy", "chargeops-portal")["spec"]

    ocpp, control = gateway["ingress"]
    assert ocpp == {"ports": [{"port": "ocpp", "protocol": "TCP"}]}  # from anywhere
    assert control["ports"] == [{"port": "control", "protocol": "TCP"}]
    assert control["from"] == [
        {"podSelector": {"matchLabels": operator["podSelector"]["matchLabels"]}},
        {"podSelector": {"matchLabels": portal["podSelector"]["matchLabels"]}},
    ]
    assert operator["ingress"] == []
    assert portal["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "portal"
    assert portal["policyTypes"] == ["Ingress"]  # egress open unless networkPolicy.portalEgress
    assert portal["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]  # the pages, from anywhere


def test_portal_egress_reaches_only_dns_the_control_api_and_the_api_server(
    helm: Path, values_files: dict[str, Path]
) -> None:
    manifests = render(helm, "--values", str(values_files["portal-egress"]))
    portal = one(manifests, "NetworkPolicy", "chargeops-portal")["spec"]
    gateway = one(manifests, "NetworkPolicy", "chargeops-gateway")["spec"]

    assert portal["policyTypes"] == ["Ingress", "Egress"]
    dns, control, api_server = portal["egress"]
    assert dns == {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
    assert control == {
        "ports": [{"port": 9001, "protocol": "TCP"}],
        "to": [{"podSelector": gateway["podSelector"]}],
    }
    assert api_server == {
        "ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}],
    }


def test_portal_is_a_non_root_read_only_pod_probed_on_healthz_and_served_over_http(defaults: list[Manifest]) -> None:
    deployment = one(defaults, "Deployment", "chargeops-portal")
    pod = deployment["spec"]["template"]["spec"]
    portal = container(deployment)
    service = one(defaults, "Service", "chargeops-portal")["spec"]

    assert portal["args"] == [
        "portal",
        "--listen=0.0.0.0:8000",
        "--signing-key-file=/var/run/chargeops-signing/key",
        "--gateway-url=http://chargeops-gateway-control.chargeops-system.svc:9001",
        "--gateway-token-file=/var/run/chargeops/read-token",
        "--log-level=INFO",
    ]
    assert portal["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert portal["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert portal["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert portal["resources"]["requests"]
    assert portal["resources"]["limits"]["memory"]
    assert portal["securityContext"]["readOnlyRootFilesystem"] is True
    assert portal["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["serviceAccountName"] == "chargeops-portal"
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    assert (service["type"], service["ports"]) == (
        "ClusterIP",
        [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
    )
    assert service["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert "Ingress" not in kind_counts(defaults)


def test_portal_cluster_role_has_the_rules_of_deploy_rbac(defaults: list[Manifest]) -> None:
    (shipped_role,) = [m for m in shipped_file(RBAC / "portal.yaml") if m["kind"] == "ClusterRole"]

    assert one(defaults, "ClusterRole", "chargeops-portal")["rules"] == shipped_role["rules"]
    binding = one(defaults, "ClusterRoleBinding", "chargeops-portal")
    assert binding["roleRef"]["name"] == "chargeops-portal"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "chargeops-portal", "namespace": "chargeops-system"}
    ]


def test_portal_off_renders_no_portal_yet_the_operator_still_signs(
    defaults: list[Manifest], portal_off: list[Manifest]
) -> None:
    def names(manifests: Sequence[Manifest]) -> set[tuple[str, str]]:
        return {(m["kind"], m["metadata"]["name"]) for m in manifests}

    assert names(defaults) - names(portal_off) == {
        ("Deployment", "chargeops-portal"),
        ("Service", "chargeops-portal"),
        ("ServiceAccount", "chargeops-portal"),
        ("ClusterRole", "chargeops-portal"),
        ("ClusterRoleBinding", "chargeops-portal"),
        ("NetworkPolicy", "chargeops-portal"),
    }
    assert names(portal_off) <= names(defaults)
    _, control = one(portal_off, "NetworkPolicy", "chargeops-gateway")["spec"]["ingress"]
    assert [peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in control["from"]] == [
        "operator"
    ]
    assert (
        "--signing-key-file=/var/run/chargeops-signing/key"
        in container(one(portal_off, "Deployment", "chargeops-operator"))["args"]
    )


def test_operator_cluster_role_has_the_rules_of_deploy_rbac(defaults: list[Manifest]) -> None:
    (shipped_role,) = [m for m in shipped_file(RBAC / "operator.yaml") if m["kind"] == "ClusterRole"]

    assert one(defaults, "ClusterRole", "chargeops-operator")["rules"] == shipped_role["rules"]
    binding = one(defaults, "ClusterRoleBinding", "chargeops-operator")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "chargeops-operator", "namespace": "chargeops-system"}
    ]


def test_default_approval_policy_binding_and_approvers_equal_deploy_admission(defaults: list[Manifest]) -> None:
    for expected in shipped(ADMISSION):
        rendered = one(defaults, expected["kind"], expected["metadata"]["name"])
        assert rendered["metadata"].get("namespace") == expected["metadata"].get("namespace")
        body = "data" if expected["kind"] == "ConfigMap" else "spec"
        assert rendered[body] == expected[body], f"{expected['kind']} {expected['metadata']['name']} differs"


def test_editor_and_viewer_aggregate_into_the_built_in_roles_but_super_admin_into_none(
    defaults: list[Manifest],
) -> None:
    def aggregates_to(name: str) -> set[str]:
        labels = one(defaults, "ClusterRole", name)["metadata"]["labels"]
        prefix = "rbac.authorization.k8s.io/aggregate-to-"
        return {key.removeprefix(prefix) for key, value in labels.items() if key.startswith(prefix) and value == "true"}

    assert aggregates_to("chargeops-viewer") == {"view"}
    assert aggregates_to("chargeops-editor") == {"edit", "admin"}
    assert aggregates_to("chargeops-super-admin") == set()
    binding = one(defaults, "ClusterRoleBinding", "chargeops-super-admins")
    assert binding["roleRef"]["name"] == "chargeops-super-admin"
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "chargeops:super-admins"}
    ]


def test_built_in_roles_gain_chargeops_access_by_the_servers_own_aggregation_rules(
    control_plane: ControlPlane, defaults: list[Manifest]
) -> None:
    listed = json.loads(control_plane.kubectl("get", "clusterroles", "admin", "edit", "view", "-o", "json").stdout)
    # The built-in roles as the server defines them (their aggregationRule), before anything was aggregated.
    built_in = [{**role, "rules": []} for role in listed["items"]]
    components = {"chargeops-operator", "chargeops-portal"}
    ours = [m for m in defaults if m["kind"] == "ClusterRole" and m["metadata"]["name"] not in components]

    rules = aggregation.aggregate([*built_in, *ours])

    def verbs(role: str, resource: str) -> set[str]:
        return {verb for rule in rules[role] if resource in rule["resources"] for verb in rule["verbs"]}

    assert verbs("view", "chargers") == {"get", "list", "watch"}
    assert verbs("edit", "chargers") >= {"create", "update", "patch", "delete"}
    assert verbs("admin", "chargers") == verbs("edit", "chargers")
    assert verbs("edit", "invoices") == {"get", "list", "watch"}


def test_non_default_values_render_postgresql_monitors_and_more_approvers(non_defaults: list[Manifest]) -> None:
    gateway_deployment = one(non_defaults, "Deployment", "chargeops-gateway")
    gateway = container(gateway_deployment)
    operator = container(one(non_defaults, "Deployment", "chargeops-operator"))

    assert gateway_deployment["spec"]["replicas"] == 3
    assert gateway_deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert "--database-url=$(CHARGEOPS_DATABASE_URL)" in gateway["args"]
    assert gateway["env"] == [
        {"name": "CHARGEOPS_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "chargeops-db", "key": "url"}}}
    ]
    assert {"--tls-cert=/etc/chargeops/tls/tls.crt", "--tls-key=/etc/chargeops/tls/tls.key"} <= set(gateway["args"])
    assert operator["args"][-2:] == ["--namespace=parkside", "--namespace=garage"]
    assert "--metrics-port=9090" in operator["args"]
    counts = kind_counts(non_defaults)
    assert counts["ServiceMonitor"] == 2
    assert "NetworkPolicy" not in counts
    assert "PersistentVolumeClaim" not in counts
    # gatewayToken.existingSecret, signingKey.existingSecret and gateway.passwordKey.existingSecret
    assert "Secret" not in counts
    token = gateway_deployment["spec"]["template"]["spec"]["volumes"][0]["secret"]
    assert (token["secretName"], token["items"]) == (
        "chargeops-token",
        [{"key": "api-token", "path": "token"}, {"key": "portal-token", "path": "read-token"}],
    )
    portal_deployment = one(non_defaults, "Deployment", "chargeops-portal")
    (signing,) = [
        v["secret"] for v in portal_deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "signing-key"
    ]
    assert (signing["secretName"], signing["items"]) == ("chargeops-links", [{"key": "hmac", "path": "key"}])
    (password,) = [
        v["secret"] for v in gateway_deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "password-key"
    ]
    assert (password["secretName"], password["items"]) == ("chargeops-verifiers", [{"key": "hmac", "path": "key"}])
    assert portal_deployment["spec"]["replicas"] == 2
    ingress = one(non_defaults, "Ingress", "chargeops-portal")["spec"]
    assert ingress["ingressClassName"] == "nginx"
    assert ingress["tls"] == [{"hosts": ["pay.parkside.example"], "secretName": "pay-parkside-tls"}]
    assert ingress["rules"] == [
        {
            "host": "pay.parkside.example",
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": "chargeops-portal", "port": {"name": "http"}}},
                    }
                ]
            },
        }
    ]
    assert one(non_defaults, "ConfigMap", "chargeops-approvers")["data"] == {
        "groups": "chargeops:super-admins,acme:billing-owners",
        "serviceAccounts": "argocd:argocd-application-controller",
    }
    assert one(non_defaults, "ClusterRoleBinding", "chargeops-super-admins")["subjects"][-1] == {
        "kind": "ServiceAccount",
        "namespace": "argocd",
        "name": "argocd-application-controller",
    }
    monitor = one(non_defaults, "ServiceMonitor", "chargeops-gateway")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"] == [{"port": "control", "path": "/metrics", "interval": "30s"}]


def test_served_namespaces_get_the_operators_secret_reads_and_the_cluster_role_none(
    defaults: list[Manifest], non_defaults: list[Manifest]
) -> None:
    secrets_rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}
    cluster_role = one(non_defaults, "ClusterRole", "chargeops-operator")
    roles = [m for m in non_defaults if m["kind"] == "Role" and m["metadata"]["name"] == "chargeops-operator-secrets"]
    bindings = [m for m in non_defaults if m["kind"] == "RoleBinding"]

    assert secrets_rule not in cluster_role["rules"]
    assert secrets_rule in one(defaults, "ClusterRole", "chargeops-operator")["rules"]
    assert {role["metadata"]["namespace"] for role in roles} == {"parkside", "garage"}
    assert all(role["rules"] == [secrets_rule] for role in roles)
    assert {(b["metadata"]["namespace"], b["roleRef"]["name"]) for b in bindings} == {
        ("parkside", "chargeops-operator-secrets"),
        ("garage", "chargeops-operator-secrets"),
    }
    assert all(
        b["subjects"] == [{"kind": "ServiceAccount", "name": "chargeops-operator", "namespace": "chargeops-system"}]
        for b in bindings
    )


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("gateway.replicas=three", "at '/gateway/replicas': got string, want integer"),
        ("networkPolicy.enabled=yes", "at '/networkPolicy/enabled': got string, want boolean"),
        ("database.type=mysql", "at '/database/type': value must be one of 'sqlite', 'postgresql'"),
        ("gateway.replica=2", "at '/gateway': additional properties 'replica' not allowed"),
        ("gateway.ocppPort=70000", "at '/gateway/ocppPort': maximum: got 70,000, want 65,535"),
        ("approval.serviceAccounts[0]=argocd", "at '/approval/serviceAccounts/0': 'argocd' does not match pattern"),
        ("portal.enabled=maybe", "at '/portal/enabled': got string, want boolean"),
        ("portal.port=0", "at '/portal/port': minimum: got 0, want 1"),
        ("signingKey.existingSecret=Links_Key", "at '/signingKey/existingSecret': 'Links_Key' does not match pattern"),
        ("portal.ingress.path=portal", "at '/portal/ingress/path': 'portal' does not match pattern"),
    ],
)
def test_the_schema_refuses_a_wrong_value_naming_it(helm: Path, setting: str, message: str) -> None:
    result = run_helm(helm, "template", RELEASE, str(CHART), "--set", setting)

    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["gateway.replicas=2"], "gateway.replicas is 2, but database.type=sqlite serves one replica"),
        (["database.type=postgresql"], "database.type=postgresql needs database.postgresql.existingSecret"),
        (
            ["networkPolicy.portalEgress.enabled=true"],
            "networkPolicy.portalEgress.enabled needs networkPolicy.portalEgress.apiServer",
        ),
    ],
)
def test_settings_that_cannot_work_are_refused_with_the_reason(helm: Path, settings: list[str], message: str) -> None:
    args = [arg for setting in settings for arg in ("--set", setting)]

    result = run_helm(helm, "template", RELEASE, str(CHART), *args)

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("values", ["default", *VALUES])
def test_rendered_chart_applies_to_the_real_api_server(
    helm: Path, control_plane: ControlPlane, namespace: str, values_files: dict[str, Path], values: str
) -> None:
    args = ["--include-crds", *(["--values", str(values_files[values])] if values != "default" else [])]
    manifests = render(helm, *args, namespace=namespace)
    # The API server here has no prometheus-operator CRDs; the ServiceMonitors' shape is checked above.
    applied = [m for m in manifests if m["kind"] != "ServiceMonitor"]
    # The operator's Secret reads go into each served namespace, which exists before the chart (README).
    for served in {m["metadata"]["namespace"] for m in applied if m["kind"] in ("Role", "RoleBinding")}:
        control_plane.kubectl("create", "namespace", served, check=False)

    # Server-side dry run: full validation and admission, nothing stored. --force-conflicts because other
    # tests apply deploy/admission's policy of the same name with another field manager.
    result = control_plane.kubectl(
        "apply", "--server-side", "--dry-run=server", "--force-conflicts", "--field-manager=helm-chart-test",
        "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": applied}), check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(applied)
    assert all(line.endswith("(server dry run)") for line in lines)


def render_against(helm: Path, kubectl: NamespacedKubectl, *args: str) -> "subprocess.CompletedProcess[str]":
    """``helm template --dry-run=server`` into kubectl's namespace: ``lookup`` answers from the real API server."""
    return run_helm(
        helm, "template", RELEASE, str(CHART), "--namespace", kubectl.namespace, "--dry-run=server",
        "--kubeconfig", str(kubectl.plane.kubeconfig), *args,
    )  # fmt: skip


def test_chart_made_secrets_are_kept_when_the_release_is_rendered_again(helm: Path, kubectl: NamespacedKubectl) -> None:
    # What an earlier install left; an upgrade must not make new ones (a new signing key voids every mailed
    # link, a new password key costs each charger a scrypt at its next login).
    kubectl("create", "secret", "generic", "chargeops-gateway-token", "--from-literal=token=earlier-token-0123456789")
    kubectl("create", "secret", "generic", "chargeops-signing-key", "--from-literal=key=" + "k" * 40)
    kubectl("create", "secret", "generic", "chargeops-gateway-password-key", "--from-literal=key=" + "p" * 40)

    result = render_against(helm, kubectl)

    assert result.returncode == 0, result.stderr
    manifests = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    tokens = one(manifests, "Secret", "chargeops-gateway-token")["data"]
    assert tokens["token"] == b64("earlier-token-0123456789")
    # An install from before the read token gains one on upgrade, and keeps it from then on.
    assert len(base64.b64decode(tokens["readToken"])) == 48
    assert one(manifests, "Secret", "chargeops-signing-key")["data"] == {"key": b64("k" * 40)}
    assert one(manifests, "Secret", "chargeops-gateway-password-key")["data"] == {"key": b64("p" * 40)}


class KeySecret(NamedTuple):
    """A key the chart makes, or checks when an existing Secret is named (its values block is the dict key)."""

    needs: str  # who needs the 32 bytes, as the refusal says
    made: str  # the Secret the chart makes unless one is named
    volume: str
    pods: list[str]  # the Deployments it is mounted into


KEYS = {
    "signingKey": KeySecret(
        "links need", "chargeops-signing-key", "signing-key", ["chargeops-operator", "chargeops-portal"]
    ),
    "gateway.passwordKey": KeySecret(
        "the gateway needs", "chargeops-gateway-password-key", "password-key", ["chargeops-gateway"]
    ),
}


@pytest.mark.parametrize("value", list(KEYS))
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("short-key", "{value}.existingSecret: the key in Secret mine is 9 bytes; {needs} at least 32"),
        # The programs strip trailing line breaks, so the chart counts without them.
        ("k" * 31 + "\n", "{value}.existingSecret: the key in Secret mine is 31 bytes; {needs} at least 32"),
        (None, '{value}.existingSecret: Secret mine has no key "key" ({value}.key)'),
    ],
    ids=["short", "short-with-newline", "missing"],
)
def test_an_existing_key_too_short_is_refused_where_lookup_sees_it(
    helm: Path, kubectl: NamespacedKubectl, value: str, key: str | None, message: str
) -> None:
    data = {"key": b64(key)} if key is not None else {"other": b64("x" * 40)}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mine"}, "data": data}
    kubectl("apply", "-f", "-", input=json.dumps(secret))

    refused = render_against(helm, kubectl, "--set", f"{value}.existingSecret=mine")
    # helm template alone cannot read the Secret: there the programs refuse it at start-up.
    offline = run_helm(helm, "template", RELEASE, str(CHART), "--set", f"{value}.existingSecret=mine")

    assert refused.returncode != 0
    assert message.format(value=value, needs=KEYS[value].needs) in refused.stderr
    assert offline.returncode == 0, offline.stderr


@pytest.mark.parametrize("value", list(KEYS))
def test_an_existing_key_of_32_bytes_and_a_line_break_is_taken(
    helm: Path, kubectl: NamespacedKubectl, value: str
) -> None:
    made_here = KEYS[value]
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mine"}, "data": {"key": b64("k" * 32 + "\n")}}
    kubectl("apply", "-f", "-", input=json.dumps(secret))

    result = render_against(helm, kubectl, "--set", f"{value}.existingSecret=mine")

    assert result.returncode == 0, result.stderr
    manifests = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    made_by_chart = {key.made for key in KEYS.values()} | {"chargeops-gateway-token"}
    assert {m["metadata"]["name"] for m in manifests if m["kind"] == "Secret"} == made_by_chart - {made_here.made}
    for name in made_here.pods:
        pod = one(manifests, "Deployment", name)["spec"]["template"]["spec"]
        (mounted,) = [v["secret"] for v in pod["volumes"] if v["name"] == made_here.volume]
        assert (mounted["secretName"], mounted["items"]) == ("mine", [{"key": "key", "path": "key"}])


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
