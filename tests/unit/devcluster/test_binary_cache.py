"""Binaries are cached by version and source digest, built once with ``go build``, and overridable."""

import io
import os
import stat
import textwrap
from pathlib import Path

import pytest

from chargeops.devcluster import binaries, errors

GO_MOD = textwrap.dedent(
    """\
    module chargeops.io/tools/kube-apiserver

    go 1.26.0

    require (
    \tk8s.io/component-base v0.37.2
    \tk8s.io/kubernetes v1.37.2
    )
    """
)

# Stands in for the Go toolchain: logs its arguments and writes an executable where ``-o`` says.
FAKE_GO = textwrap.dedent(
    """\
    #!/bin/sh
    echo "$@" >> "$FAKE_GO_LOG"
    while [ "$#" -gt 0 ]; do
      if [ "$1" = "-o" ]; then printf '#!/bin/sh\\n' > "$2"; chmod +x "$2"; fi
      shift
    done
    """
)


@pytest.fixture
def tools_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tools = tmp_path / "tools"
    for name, go_mod in [
        ("kube-apiserver", GO_MOD),
        ("etcd", "module chargeops.io/tools/etcd\n\nrequire go.etcd.io/etcd/server/v3 v3.7.3\n"),
    ]:
        (tools / name).mkdir(parents=True)
        (tools / name / "go.mod").write_text(go_mod)
        (tools / name / "go.sum").write_text("k8s.io/kubernetes v1.37.2 h1:abc=\n")
        (tools / name / "main.go").write_text("package main\n\nfunc main() {}\n")
    monkeypatch.setenv("CHARGEOPS_TOOLS_DIR", str(tools))
    monkeypatch.setenv("CHARGEOPS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(binaries.KUBE_APISERVER.env_variable, raising=False)
    monkeypatch.delenv(binaries.ETCD.env_variable, raising=False)
    return tools


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``go`` on PATH that records each call in the returned log file."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(FAKE_GO)
    go.chmod(go.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "go-calls.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    monkeypatch.setenv("FAKE_GO_LOG", str(log))
    return log


def test_version_comes_from_the_require_block_of_go_mod(tools_dir: Path) -> None:
    assert binaries.module_version(binaries.KUBE_APISERVER, tools_dir=tools_dir) == "v1.37.2"


def test_version_comes_from_a_single_line_require(tools_dir: Path) -> None:
    assert binaries.module_version(binaries.ETCD, tools_dir=tools_dir) == "v3.7.3"


def test_cached_name_carries_tool_version_and_eight_hex_digest(tools_dir: Path, tmp_path: Path) -> None:
    path = binaries.cached_path(binaries.KUBE_APISERVER, tools_dir=tools_dir, cache=tmp_path / "c")

    assert path.parent == tmp_path / "c" / "bin"
    name, version, digest = path.name.rsplit("-", 2)
    assert (name, version) == ("kube-apiserver", "v1.37.2")
    assert len(digest) == 8
    int(digest, 16)


@pytest.mark.parametrize("changed", ["go.mod", "go.sum", "main.go"])
def test_cache_key_changes_when_a_source_file_changes(tools_dir: Path, changed: str) -> None:
    before = binaries.source_digest(binaries.KUBE_APISERVER, tools_dir=tools_dir)
    with (tools_dir / "kube-apiserver" / changed).open("a") as source:
        source.write("// edited\n")

    assert binaries.source_digest(binaries.KUBE_APISERVER, tools_dir=tools_dir) != before


def test_cache_key_is_stable_for_unchanged_sources(tools_dir: Path) -> None:
    first = binaries.source_digest(binaries.KUBE_APISERVER, tools_dir=tools_dir)

    assert binaries.source_digest(binaries.KUBE_APISERVER, tools_dir=tools_dir) == first


def test_kube_apiserver_is_stamped_with_its_release_version() -> None:
    flags = binaries.build_ldflags(binaries.KUBE_APISERVER, version="v1.37.2")

    assert "-X k8s.io/component-base/version.gitVersion=v1.37.2" in flags
    assert "-X k8s.io/component-base/version.gitMinor=37" in flags


def test_etcd_needs_no_version_stamp() -> None:
    assert binaries.build_ldflags(binaries.ETCD, version="v3.7.3") == ["-s", "-w"]


def test_a_missing_binary_is_built_once_and_then_reused(tools_dir: Path, fake_go: Path) -> None:
    progress = io.StringIO()

    first = binaries.ensure(binaries.KUBE_APISERVER, progress=progress)
    second = binaries.ensure(binaries.KUBE_APISERVER, progress=progress)

    assert first == second
    assert os.access(first, os.X_OK)
    (call,) = fake_go.read_text().splitlines()
    assert call.startswith(
        "build -trimpath -buildvcs=false -ldflags=-s -w -X k8s.io/component-base/version.gitVersion=v1.37.2"
    )
    assert "Building kube-apiserver v1.37.2 from Go modules" in progress.getvalue()
    assert "Built kube-apiserver v1.37.2 in" in progress.getvalue()
    assert not list(first.parent.glob("*.partial-*"))


def test_a_failed_build_raises_with_the_go_output(
    tools_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "failing-bin"
    bin_dir.mkdir()
    (bin_dir / "go").write_text("#!/bin/sh\necho 'main.go:3: undefined: app.Run' >&2\nexit 1\n")
    (bin_dir / "go").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")

    with pytest.raises(errors.BinaryBuildError, match=r"undefined: app\.Run") as caught:
        binaries.ensure(binaries.ETCD, progress=io.StringIO())

    assert caught.value.tool == "etcd"
    assert caught.value.reason == "BinaryBuildFailed"
    assert list((tmp_path / "cache" / "bin").glob("etcd-*")) == []


def test_without_go_the_error_says_what_to_install(
    tools_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    with pytest.raises(errors.GoToolchainNotFoundError, match=r"Install Go.*CHARGEOPS_ETCD"):
        binaries.ensure(binaries.ETCD, progress=io.StringIO())


def test_an_env_override_is_used_as_is(tools_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prebuilt = tmp_path / "my-etcd"
    prebuilt.write_text("#!/bin/sh\n")
    prebuilt.chmod(0o755)
    monkeypatch.setenv("CHARGEOPS_ETCD", str(prebuilt))

    assert binaries.ensure(binaries.ETCD) == prebuilt


def test_an_env_override_that_names_nothing_is_an_error(tools_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEOPS_KUBE_APISERVER", "/nonexistent/kube-apiserver")

    with pytest.raises(errors.BinaryNotFoundError) as caught:
        binaries.ensure(binaries.KUBE_APISERVER)

    assert caught.value.variable == "CHARGEOPS_KUBE_APISERVER"


def test_stripe_mock_is_stamped_with_its_release_version() -> None:
    assert binaries.build_ldflags(binaries.STRIPE_MOCK, version="v0.203.0") == ["-s", "-w", "-X main.version=v0.203.0"]


def test_a_command_named_on_a_tool_line_is_built_by_its_import_path(
    tools_dir: Path, fake_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tools_dir / "stripe-mock").mkdir()
    (tools_dir / "stripe-mock" / "go.mod").write_text(
        "module chargeops.io/tools/stripe-mock\n\ntool github.com/stripe/stripe-mock\n\n"
        "require github.com/stripe/stripe-mock v0.203.0 // indirect\n"
    )
    monkeypatch.delenv(binaries.STRIPE_MOCK.env_variable, raising=False)

    path = binaries.ensure(binaries.STRIPE_MOCK, progress=io.StringIO())

    assert path.name.startswith("stripe-mock-v0.203.0-")
    (call,) = fake_go.read_text().splitlines()
    assert "-X main.version=v0.203.0" in call
    assert call.split()[-1] == "github.com/stripe/stripe-mock"


def test_helm_is_stamped_with_its_version_and_the_kubernetes_release_of_its_client_go(
    tools_dir: Path, fake_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tools_dir / "helm").mkdir()
    (tools_dir / "helm" / "go.mod").write_text(
        "module chargeops.io/tools/helm\n\ntool helm.sh/helm/v3/cmd/helm\n\n"
        "require (\n\thelm.sh/helm/v3 v3.22.0 // indirect\n\tk8s.io/client-go v0.37.0 // indirect\n)\n"
    )
    monkeypatch.delenv(binaries.HELM.env_variable, raising=False)

    path = binaries.ensure(binaries.HELM, progress=io.StringIO())

    assert path.name.startswith("helm-v3.22.0-")
    (call,) = fake_go.read_text().splitlines()
    # Unstamped, helm would render for Kubernetes 1.20 and refuse the chart's kubeVersion.
    assert "-X helm.sh/helm/v3/internal/version.version=v3.22.0" in call
    assert "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1" in call
    assert "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37" in call
    assert "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37" in call
    assert call.split()[-1] == "helm.sh/helm/v3/cmd/helm"


def test_tools_without_kubernetes_stamps_have_no_kubernetes_version(tools_dir: Path) -> None:
    assert binaries.kube_version(binaries.KUBE_APISERVER, tools_dir=tools_dir) is None
