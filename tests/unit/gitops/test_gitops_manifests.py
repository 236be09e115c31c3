"""The Argo CD and Flux examples in deploy/gitops/ parse, are complete, point at real paths, and name approvers.

No Argo CD or Flux CRDs exist here, so the fields each API requires are checked by hand: the ones their
CRDs mark required, and the ones these examples rely on. The chart values they carry are checked against
the chart's own ``values.schema.json``, which refuses unknown keys, so a misspelt value fails here too.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
GITOPS = REPO / "deploy" / "gitops"
CHART = REPO / "charts" / "chargeops"
REPO_URL = "https://github.com/chargeops/chargeops"

ARGOCD_API = "argoproj.io/v1alpha1"
ARGOCD_CONTROLLER = "argocd-application-controller"  # the account Argo CD's application controller runs as
GIT_REPOSITORY_API = "source.toolkit.fluxcd.io/v1"
HELM_RELEASE_API = "helm.toolkit.fluxcd.io/v2"
KUSTOMIZATION_API = "kustomize.toolkit.fluxcd.io/v1"
KUSTOMIZE_CONTROLLER = "kustomize-controller"  # the account Flux applies as, unless serviceAccountName says

Manifest = dict[str, Any]


def manifests() -> Iterator[tuple[Path, Manifest]]:
    for path in sorted(GITOPS.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                yield path, document


def of_kind(api_version: str, kind: str) -> list[Manifest]:
    found = [m for _, m in manifests() if m["apiVersion"] == api_version and m["kind"] == kind]
    assert found, f"deploy/gitops/ has no {kind} ({api_version})"
    return found


def named(api_version: str, kind: str, name: str) -> Manifest:
    (found,) = [m for m in of_kind(api_version, kind) if m["metadata"]["name"] == name]
    return found


def in_repo(path: str) -> Path:
    """A path from a manifest (``charts/chargeops``, ``./examples``) resolved in this repository."""
    resolved = (REPO / path).resolve()
    assert resolved.is_relative_to(REPO), f"{path} leaves the repository"
    return resolved


def assert_valid_chart_values(values: Manifest) -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(values)


def test_every_file_parses_and_every_object_is_named() -> None:
    found = list(manifests())
    assert {path.parent.name for path, _ in found} >= {"argocd", "flux", "platform"}
    for path, manifest in found:
        assert {"apiVersion", "kind", "metadata"} <= manifest.keys(), path
        assert manifest["metadata"].get("name"), path


@pytest.mark.parametrize("application", of_kind(ARGOCD_API, "Application"), ids=lambda m: m["metadata"]["name"])
def test_argocd_application_has_the_required_fields_and_an_existing_path(application: Manifest) -> None:
    assert application["metadata"]["namespace"] == "argocd"
    spec = application["spec"]
    assert spec["project"]
    source = spec["source"]
    assert source["repoURL"] == REPO_URL
    assert source["targetRevision"]
    assert in_repo(source["path"]).is_dir()
    destination = spec["destination"]
    assert destination["server"] == "https://kubernetes.default.svc"
    assert destination["namespace"]
    assert "CreateNamespace=true" in spec["syncPolicy"]["syncOptions"]


def test_argocd_installs_the_chart_into_chargeops_system_with_valid_values() -> None:
    app = named(ARGOCD_API, "Application", "chargeops")
    assert app["spec"]["source"]["path"] == "charts/chargeops"
    assert (in_repo(app["spec"]["source"]["path"]) / "Chart.yaml").is_file()
    assert app["spec"]["destination"]["namespace"] == "chargeops-system"
    helm = app["spec"]["source"]["helm"]
    assert helm["releaseName"] == "chargeops"  # object names then equal deploy/admission and deploy/rbac
    assert_valid_chart_values(helm["valuesObject"])
    # helm template cannot keep a generated token or key across syncs: the example must bring its own.
    assert helm["valuesObject"]["gatewayToken"]["existingSecret"]
    assert helm["valuesObject"]["signingKey"]["existingSecret"]
    assert helm["valuesObject"]["gateway"]["passwordKey"]["existingSecret"]


def test_argocd_syncs_examples_into_parkside() -> None:
    app = named(ARGOCD_API, "Application", "chargeops-parkside")
    assert app["spec"]["source"]["path"] == "examples"
    assert app["spec"]["destination"]["namespace"] == "parkside"
    assert app["spec"]["source"]["directory"]["recurse"] is False
    assert "SkipDryRunOnMissingResource=true" in app["spec"]["syncPolicy"]["syncOptions"]


def test_argocd_controller_that_syncs_examples_is_an_approver() -> None:
    syncer = named(ARGOCD_API, "Application", "chargeops-parkside")
    values = named(ARGOCD_API, "Application", "chargeops")["spec"]["source"]["helm"]["valuesObject"]
    account = f"{syncer['metadata']['namespace']}:{ARGOCD_CONTROLLER}"
    assert account == "argocd:argocd-application-controller"
    assert account in values["approval"]["serviceAccounts"]


def test_flux_git_repository_has_the_required_fields() -> None:
    (source,) = of_kind(GIT_REPOSITORY_API, "GitRepository")
    assert source["metadata"]["namespace"] == "flux-system"
    assert source["spec"]["url"] == REPO_URL
    assert source["spec"]["interval"]
    assert source["spec"]["ref"]["branch"]


def test_flux_helm_release_installs_the_chart_from_the_git_repository_with_valid_values() -> None:
    (release,) = of_kind(HELM_RELEASE_API, "HelmRelease")
    (source,) = of_kind(GIT_REPOSITORY_API, "GitRepository")
    spec = release["spec"]
    assert spec["interval"]
    chart = spec["chart"]["spec"]
    assert (in_repo(chart["chart"]) / "Chart.yaml").is_file()
    assert chart["sourceRef"] == {"kind": "GitRepository", "name": source["metadata"]["name"]}
    assert release["metadata"]["namespace"] == source["metadata"]["namespace"]  # a sourceRef without namespace
    assert spec["releaseName"] == "chargeops"
    assert spec["targetNamespace"] == "chargeops-system"
    assert spec["upgrade"]["crds"] == "CreateReplace"
    assert_valid_chart_values(spec["values"])


@pytest.mark.parametrize(
    "kustomization", of_kind(KUSTOMIZATION_API, "Kustomization"), ids=lambda m: m["metadata"]["name"]
)
def test_flux_kustomization_has_the_required_fields_and_an_existing_path(kustomization: Manifest) -> None:
    (source,) = of_kind(GIT_REPOSITORY_API, "GitRepository")
    spec = kustomization["spec"]
    assert spec["interval"]
    assert isinstance(spec["prune"], bool)  # required by kustomize.toolkit.fluxcd.io/v1
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": source["metadata"]["name"]}
    assert kustomization["metadata"]["namespace"] == source["metadata"]["namespace"]
    assert in_repo(spec["path"]).is_dir()
    names = {k["metadata"]["name"] for k in of_kind(KUSTOMIZATION_API, "Kustomization")}
    assert {d["name"] for d in spec.get("dependsOn", [])} <= names


def test_flux_applies_the_helm_release_first_then_examples_into_a_namespace_it_creates() -> None:
    platform = named(KUSTOMIZATION_API, "Kustomization", "chargeops")
    sites = named(KUSTOMIZATION_API, "Kustomization", "chargeops-parkside")
    platform_files = [m for path, m in manifests() if path.parent == in_repo(platform["spec"]["path"])]
    assert {m["kind"] for m in platform_files} == {"HelmRelease", "Namespace"}
    assert platform["spec"]["wait"] is True
    assert sites["spec"]["path"] == "./examples"
    assert sites["spec"]["dependsOn"] == [{"name": "chargeops"}]
    namespaces = {m["metadata"]["name"] for m in platform_files if m["kind"] == "Namespace"}
    assert sites["spec"]["targetNamespace"] in namespaces


def test_flux_kustomize_controller_that_syncs_examples_is_an_approver() -> None:
    syncer = named(KUSTOMIZATION_API, "Kustomization", "chargeops-parkside")
    (release,) = of_kind(HELM_RELEASE_API, "HelmRelease")
    account = f"{syncer['metadata']['namespace']}:{syncer['spec'].get('serviceAccountName', KUSTOMIZE_CONTROLLER)}"
    assert account == "flux-system:kustomize-controller"
    assert account in release["spec"]["values"]["approval"]["serviceAccounts"]


def test_approvers_are_the_value_names_the_chart_declares() -> None:
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    assert {"groups", "serviceAccounts"} <= defaults["approval"].keys()
    with pytest.raises(jsonschema.ValidationError, match="serviceAccount"):
        assert_valid_chart_values({"approval": {"serviceAccount": ["argocd:argocd-application-controller"]}})
    with pytest.raises(jsonschema.ValidationError):  # <namespace>:<name>, not the full user name
        assert_valid_chart_values(
            {"approval": {"serviceAccounts": ["system:serviceaccount:argocd:argocd-application-controller"]}}
        )


def test_the_readme_points_at_the_argocd_health_snippet_and_the_guide() -> None:
    readme = (GITOPS / "README.md").read_text()
    for reference in ("deploy/argocd/argocd-cm-health.yaml", "docs/approve-by-merge-request.md"):
        assert reference in readme
        assert (REPO / reference).is_file()
