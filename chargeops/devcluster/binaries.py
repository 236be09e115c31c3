"""etcd, kube-apiserver, stripe-mock and helm binaries: built once from the Go modules under ``tools/`` and cached.

``controlplane`` asks for a binary with ``ensure(KUBE_APISERVER)``, ``stripe_mock`` with
``ensure(STRIPE_MOCK)``, the Helm chart's tests with ``ensure(HELM)``; ``chargeops dev build`` and
``python -m chargeops.devcluster.binaries`` build all of them up front (``.ci/run`` does that before the
tests, so a test timeout never includes a compile).

A cached binary lives outside the clone, in ``${CHARGEOPS_CACHE_DIR:-~/.cache/chargeops}/bin/``, named by
the pinned version and a digest of the tool's ``go.mod``, ``go.sum`` and ``main.go``
(``kube-apiserver-v1.37.2-1a2b3c4d``), so editing a pin builds afresh and several checkouts share builds.
A file lock keeps two processes (pytest-xdist workers, CI and a developer) from building the same thing
twice. ``CHARGEOPS_KUBE_APISERVER``, ``CHARGEOPS_ETCD``, ``CHARGEOPS_STRIPE_MOCK`` and ``CHARGEOPS_HELM``
name prebuilt binaries instead.
"""

import dataclasses
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from chargeops.devcluster import checkout, errors

CACHE_DIR_VARIABLE = "CHARGEOPS_CACHE_DIR"

# Bumped when a change to the build command below changes the binary in a way the Go sources do not
# show (new ldflags stamps, say), so binaries built the old way are not reused.
_BUILD_RECIPE = "go-build-trimpath-stamped-v1"

# The files whose content decides what gets built; their digest is part of the cached file name.
_SOURCE_FILES = ("go.mod", "go.sum", "main.go")

# How often a long build says it is still alive, so a CI log does not look hung for minutes.
_HEARTBEAT_S = 60.0

# How much of a failed build's output goes into the error message.
_BUILD_OUTPUT_TAIL_LINES = 40


@dataclasses.dataclass(frozen=True)
class Tool:
    """One binary built from ``tools/<name>/``."""

    name: str
    """The binary and folder name, e.g. ``kube-apiserver``."""

    module: str
    """The Go module whose pinned version (in ``go.mod``) is the binary's version."""

    env_variable: str
    """The environment variable that names a prebuilt binary to use instead of building one."""

    version_package: str | None = None
    """A Go package whose ``gitVersion``-style variables are stamped at link time, as Kubernetes'
    release build does; without it ``/version`` would say ``v0.0.0-master``."""

    version_variable: str | None = None
    """A string variable set to the version at link time, e.g. ``main.version``."""

    package: str = "."
    """What ``go build`` builds: the wrapper's own ``main.go``, or the import path of a command that
    ``go.mod`` names on a ``tool`` line (a module's root ``package main`` cannot be imported)."""

    kube_version_packages: tuple[str, ...] = ()
    """Packages whose ``k8sVersionMajor``/``k8sVersionMinor`` are stamped with the Kubernetes release of the
    ``k8s.io/client-go`` that ``go.mod`` pins, as Helm's release build does; unstamped, Helm assumes
    Kubernetes 1.20 for ``.Capabilities.KubeVersion`` and a chart's ``kubeVersion``."""


KUBE_APISERVER = Tool(
    name="kube-apiserver",
    module="k8s.io/kubernetes",
    env_variable="CHARGEOPS_KUBE_APISERVER",
    version_package="k8s.io/component-base/version",
)
ETCD = Tool(
    # etcd's version is a constant in go.etcd.io/etcd/api/v3/version, so nothing needs stamping.
    name="etcd",
    module="go.etcd.io/etcd/server/v3",
    env_variable="CHARGEOPS_ETCD",
)
STRIPE_MOCK = Tool(
    name="stripe-mock",
    module="github.com/stripe/stripe-mock",
    env_variable="CHARGEOPS_STRIPE_MOCK",
    # Upstream's GoReleaser stamps the same variable; unstamped, the binary calls itself "master".
    version_variable="main.version",
    package="github.com/stripe/stripe-mock",
)
HELM = Tool(
    name="helm",
    module="helm.sh/helm/v3",
    env_variable="CHARGEOPS_HELM",
    version_variable="helm.sh/helm/v3/internal/version.version",
    package="helm.sh/helm/v3/cmd/helm",
    kube_version_packages=("helm.sh/helm/v3/pkg/chartutil", "helm.sh/helm/v3/pkg/lint/rules"),
)
TOOLS = (ETCD, KUBE_APISERVER, STRIPE_MOCK, HELM)

# Helm (like client-go) pins k8s.io/client-go v0.X.Y for Kubernetes 1.X.
_CLIENT_GO = "k8s.io/client-go"


def cache_dir() -> Path:
    """The root of chargeops' cache; binaries go into its ``bin/`` folder."""
    override = os.environ.get(CACHE_DIR_VARIABLE)
    return Path(override) if override else Path.home() / ".cache" / "chargeops"


def module_version(tool: Tool, *, tools_dir: Path) -> str:
    """The version ``tools/<name>/go.mod`` pins for the tool's module, e.g. ``v1.37.2``."""
    return _pinned_version(tool, tool.module, tools_dir=tools_dir)


def kube_version(tool: Tool, *, tools_dir: Path) -> str | None:
    """The Kubernetes release (``v1.37.0``) of the client-go a tool with ``kube_version_packages`` pins."""
    if not tool.kube_version_packages:
        return None
    minor = _pinned_version(tool, _CLIENT_GO, tools_dir=tools_dir).removeprefix("v0.").split(".")[0]
    return f"v1.{minor}.0"


def _pinned_version(tool: Tool, module: str, *, tools_dir: Path) -> str:
    go_mod = (tools_dir / tool.name / "go.mod").read_text()
    # Matches both ``require k8s.io/kubernetes v1.37.2`` and a line inside a ``require ( … )`` block.
    pattern = rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)"
    match = re.search(pattern, go_mod, flags=re.MULTILINE)
    if match is None:
        raise errors.BinaryBuildError(
            f"{tools_dir / tool.name / 'go.mod'} does not require {module}; cannot tell which "
            f"version of {tool.name} to build.",
            tool=tool.name,
            output="",
        )
    return match.group(1)


def source_digest(tool: Tool, *, tools_dir: Path) -> str:
    """Eight hex digits that change whenever the tool's go.mod, go.sum, main.go or build recipe do."""
    digest = hashlib.sha256(_BUILD_RECIPE.encode())
    for name in _SOURCE_FILES:
        path = tools_dir / tool.name / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"")
        digest.update(b"\0")
    return digest.hexdigest()[:8]


def cached_path(tool: Tool, *, tools_dir: Path, cache: Path) -> Path:
    """Where the build of the tool's current sources is (or will be) cached."""
    version = module_version(tool, tools_dir=tools_dir)
    return cache / "bin" / f"{tool.name}-{version}-{source_digest(tool, tools_dir=tools_dir)}"


def ensure(tool: Tool, *, progress: TextIO | None = None) -> Path:
    """The path of a runnable binary for ``tool``: the env override, the cached build, or a new build."""
    override = os.environ.get(tool.env_variable)
    if override:
        return _checked_override(tool, override)
    tools_dir = checkout.tools_dir()
    destination = cached_path(tool, tools_dir=tools_dir, cache=cache_dir())
    if _is_executable(destination):
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    out = progress if progress is not None else sys.stderr
    with _build_lock(destination.parent / f".{tool.name}.lock", tool=tool, progress=out):
        # Another process may have finished the same build while we waited for the lock.
        if not _is_executable(destination):
            build(tool, tools_dir=tools_dir, destination=destination, progress=out)
    return destination


def ensure_all(*, progress: TextIO | None = None) -> dict[str, Path]:
    """Every tool's binary, by name, building what is missing."""
    return {tool.name: ensure(tool, progress=progress) for tool in TOOLS}


def build(tool: Tool, *, tools_dir: Path, destination: Path, progress: TextIO) -> None:
    """Run ``go build`` for one tool and move the result to ``destination`` atomically."""
    go = shutil.which("go")
    if go is None:
        raise errors.GoToolchainNotFoundError(
            f"Building {tool.name} needs the Go toolchain (go 1.26 or newer, https://go.dev/dl/), and "
            f"'go' is not on PATH. Install Go, or set {tool.env_variable} to a prebuilt {tool.name}."
        )
    version = module_version(tool, tools_dir=tools_dir)
    # A temporary name in the same folder, so the final rename is atomic and a crash leaves no
    # half-written file under the real name.
    partial = destination.with_name(f"{destination.name}.partial-{os.getpid()}")
    # -buildvcs=false: the binary is defined by the go.mod pins, not by the state of chargeops' own git
    # checkout (and stamping fails outright in a repository without commits).
    command = [
        go, "build", "-trimpath", "-buildvcs=false",
        f"-ldflags={' '.join(build_ldflags(tool, version=version, kube=kube_version(tool, tools_dir=tools_dir)))}",
        "-o", str(partial), tool.package,
    ]  # fmt: skip
    print(
        f"Building {tool.name} {version} from Go modules (first run only, a few minutes)…",
        file=progress,
        flush=True,
    )
    started = time.monotonic()
    returncode, output = _run_with_heartbeat(
        command,
        cwd=tools_dir / tool.name,
        env=_build_environment(os.environ),
        label=tool.name,
        progress=progress,
    )
    elapsed = time.monotonic() - started
    if returncode != 0:
        partial.unlink(missing_ok=True)
        tail = "\n".join(output.splitlines()[-_BUILD_OUTPUT_TAIL_LINES:])
        raise errors.BinaryBuildError(
            f"go build of {tool.name} {version} failed after {elapsed:.0f} s (in {tools_dir / tool.name}):\n{tail}",
            tool=tool.name,
            output=output,
        )
    partial.replace(destination)
    print(f"Built {tool.name} {version} in {elapsed:.0f} s: {destination}", file=progress, flush=True)


def build_ldflags(tool: Tool, *, version: str, kube: str | None = None) -> list[str]:
    """Linker flags: strip debug info (smaller, faster link) and stamp the version (and the Kubernetes
    release ``kube`` for ``kube_version_packages``) where needed."""
    flags = ["-s", "-w"]
    if tool.version_package is not None:
        major, minor = version.removeprefix("v").split(".")[:2]
        stamps = {"gitVersion": version, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
        flags += [f"-X {tool.version_package}.{name}={value}" for name, value in stamps.items()]
    if tool.version_variable is not None:
        flags.append(f"-X {tool.version_variable}={version}")
    if kube is not None:
        major, minor = kube.removeprefix("v").split(".")[:2]
        for package in tool.kube_version_packages:
            flags += [f"-X {package}.k8sVersionMajor={major}", f"-X {package}.k8sVersionMinor={minor}"]
    return flags


def _build_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment (GOFLAGS, GOPROXY, GOCACHE… are honoured) with static linking by default."""
    env = dict(environ)
    # Upstream release binaries are built without cgo: static, and no C compiler needed on CI.
    env.setdefault("CGO_ENABLED", "0")
    return env


def _run_with_heartbeat(
    command: list[str], *, cwd: Path, env: Mapping[str, str], label: str, progress: TextIO
) -> tuple[int, str]:
    """Run ``command`` to the end, saying every minute that it still runs; return its code and output."""
    started = time.monotonic()
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        while True:
            try:
                output, _ = process.communicate(timeout=_HEARTBEAT_S)
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - started
                print(f"  … still building {label} ({elapsed:.0f} s)", file=progress, flush=True)
            else:
                return process.returncode, output


@contextmanager
def _build_lock(path: Path, *, tool: Tool, progress: TextIO) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, saying so if another process holds it first."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Waiting for another process that is building {tool.name}…", file=progress, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _checked_override(tool: Tool, value: str) -> Path:
    """The prebuilt binary an env variable names, if it exists and can run."""
    path = Path(value).expanduser()
    if not _is_executable(path):
        raise errors.BinaryNotFoundError(
            f"{tool.env_variable}={value} is not an executable file; point it at a {tool.name} binary "
            f"or unset it to build one from {checkout.tools_dir() / tool.name}.",
            variable=tool.env_variable,
            path=value,
        )
    return path


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def main() -> None:
    """Build every binary if needed and print their paths (``python -m chargeops.devcluster.binaries``)."""
    for name, path in ensure_all().items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
