"""``ControlPlane``: etcd and kube-apiserver running on loopback until stopped.

The session fixture in ``tests/conftest.py`` and ``chargeops dev cluster`` start one::

    with controlplane.ControlPlane.start() as cp:
        cp.kubectl("get", "namespaces", as_identity="viewer")

Start-up builds or finds the binaries, writes keys, tokens and a kubeconfig into a work folder, starts
etcd, then kube-apiserver, waits until the API is fully served and grants the static identities their
RBAC (aggregating ``edit`` and ``view``, which kube-controller-manager would do in a real cluster).
Without kube-controller-manager there is no garbage collection or namespace deletion either, so callers
make fresh namespaces instead of cleaning up.
"""

import atexit
import json
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self, TextIO

from chargeops.devcluster import (
    aggregation,
    binaries,
    clients,
    components,
    errors,
    identities,
    kubeconfigs,
    pki,
    ports,
    processes,
    readiness,
)

# Cold start takes about ten seconds on 2 cores; six times that only passes if something is wrong.
DEFAULT_START_TIMEOUT_S = 60.0

# kube-apiserver exits about 1.5 s after SIGTERM and etcd at once; past this they are stuck.
_STOP_GRACE_S = 10.0

# A port another program took between our probe and the child's bind; fresh ports fix it.
_PORT_TAKEN = "address already in use"
_START_ATTEMPTS = 3


class ControlPlane:
    """A running etcd + kube-apiserver pair with static identities; stop it, or use it as a context."""

    def __init__(
        self,
        *,
        workdir: Path,
        owns_workdir: bool,
        etcd: components.EtcdConfig,
        apiserver: components.ApiServerConfig,
        users: Mapping[str, identities.Identity],
        kubectl_binary: Path,
    ) -> None:
        # Use ``ControlPlane.start``; this only holds what it made.
        self.workdir = workdir
        self._owns_workdir = owns_workdir
        self._etcd = etcd
        self._apiserver = apiserver
        self._users = dict(users)
        self._kubectl = kubectl_binary
        self._processes: list[processes.ManagedProcess] = []
        self.versions: dict[str, str] = {}
        """What the servers say they are: ``{"kube-apiserver": "v1.37.2", "etcd": "v3.7.3"}``."""
        self.startup_s = 0.0
        """Seconds from spawning etcd to a ready API with RBAC applied (binaries already built)."""

    @classmethod
    def start(
        cls,
        *,
        workdir: Path | None = None,
        timeout_s: float = DEFAULT_START_TIMEOUT_S,
        progress: TextIO | None = None,
    ) -> Self:
        """Build or find the binaries, start both servers and return once the API is ready.

        With ``workdir`` the logs, keys and kubeconfig go there and stay after ``stop``; without it
        they go to a temporary folder that ``stop`` removes.
        """
        etcd_binary = binaries.ensure(binaries.ETCD, progress=progress)
        apiserver_binary = binaries.ensure(binaries.KUBE_APISERVER, progress=progress)
        kubectl_binary = clients.find()
        for attempt in range(1, _START_ATTEMPTS + 1):
            owns_workdir = workdir is None
            folder = Path(tempfile.mkdtemp(prefix="chargeops-cluster-")) if workdir is None else workdir
            plane = cls._prepare(folder, owns_workdir=owns_workdir, kubectl_binary=kubectl_binary)
            try:
                plane._run(etcd_binary=etcd_binary, apiserver_binary=apiserver_binary, timeout_s=timeout_s)
            except errors.ControlPlaneStartError as exc:
                plane.stop()
                if _PORT_TAKEN not in exc.log_tail or attempt == _START_ATTEMPTS:
                    raise
            except BaseException:
                plane.stop()
                raise
            else:
                return plane
        raise AssertionError("unreachable: the last attempt returns or raises")

    @classmethod
    def _prepare(cls, folder: Path, *, owns_workdir: bool, kubectl_binary: Path) -> Self:
        """Write keys, tokens and choose ports; nothing runs yet."""
        folder.mkdir(parents=True, exist_ok=True)
        # A fresh cluster every time, even in a reused workdir: old data would not match the new keys.
        shutil.rmtree(folder / "etcd-data", ignore_errors=True)
        users = identities.generate()
        token_file = folder / "tokens.csv"
        token_file.touch(mode=0o600, exist_ok=True)
        token_file.write_text(identities.token_file(users.values()))
        etcd_client_port, etcd_peer_port, secure_port = ports.free_ports(3)
        etcd = components.EtcdConfig(
            data_dir=folder / "etcd-data", client_port=etcd_client_port, peer_port=etcd_peer_port
        )
        apiserver = components.ApiServerConfig(
            etcd_url=etcd.client_url,
            secure_port=secure_port,
            pki=pki.write_cluster_pki(folder / "pki"),
            token_file=token_file,
        )
        return cls(
            workdir=folder,
            owns_workdir=owns_workdir,
            etcd=etcd,
            apiserver=apiserver,
            users=users,
            kubectl_binary=kubectl_binary,
        )

    def _run(self, *, etcd_binary: Path, apiserver_binary: Path, timeout_s: float) -> None:
        """Start etcd, then kube-apiserver, wait for both, then write the kubeconfig and RBAC."""
        # Registered before anything runs, so even a failure half-way leaves no process behind.
        atexit.register(self.stop)
        started = time.monotonic()
        deadline = started + timeout_s
        etcd = processes.spawn(
            "etcd", components.etcd_command(etcd_binary, self._etcd), log_path=self.workdir / "etcd.log"
        )
        self._processes.append(etcd)
        readiness.wait_for_etcd(etcd, client_url=self._etcd.client_url, deadline=deadline)

        apiserver = processes.spawn(
            "kube-apiserver",
            components.apiserver_command(apiserver_binary, self._apiserver),
            log_path=self.workdir / "kube-apiserver.log",
        )
        # Stopped first: kube-apiserver shuts down cleanly only while etcd still answers.
        self._processes.insert(0, apiserver)
        admin_token = self.token_for(identities.ADMIN)
        readiness.wait_for_apiserver(
            apiserver, server_url=self.server, ca_file=self.ca_file, token=admin_token, deadline=deadline
        )
        kubeconfigs.write(
            self.kubeconfig,
            kubeconfigs.render(server=self.server, ca_pem=self.ca_file.read_bytes(), users=self._users.values()),
        )
        self.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(identities.rbac_manifest()))
        self.aggregate_cluster_roles()
        # The authorizer learns roles and bindings through informers, a moment after they are stored.
        # Listing ConfigMaps needs the aggregated ``view`` (viewer) and ``edit`` (editor) rules.
        for identity in (identities.VIEWER, identities.EDITOR):
            readiness.wait_for_apiserver(
                apiserver,
                server_url=self.server,
                ca_file=self.ca_file,
                token=self.token_for(identity),
                deadline=deadline,
                paths=("/api/v1/namespaces/default/configmaps",),
            )
        self.startup_s = time.monotonic() - started
        apiserver_version = readiness.apiserver_version(self.server, ca_file=self.ca_file, token=admin_token)
        self.versions = {
            "kube-apiserver": apiserver_version,
            "etcd": readiness.etcd_version(self._etcd.client_url),
        }

    @property
    def server(self) -> str:
        """The API server URL, ``https://127.0.0.1:<port>``."""
        return self._apiserver.server_url

    @property
    def ca_file(self) -> Path:
        """PEM of the CA that signed the serving certificate."""
        return self._apiserver.pki.ca_cert

    @property
    def kubeconfig(self) -> Path:
        """A kubeconfig with one context per identity; ``admin`` is current."""
        return self.workdir / "kubeconfig"

    @property
    def users(self) -> dict[str, identities.Identity]:
        """The static identities by name (``admin``, ``super-admin``, ``editor``, ``viewer``)."""
        return dict(self._users)

    def token_for(self, identity: str) -> str:
        """The bearer token of a static identity."""
        try:
            return self._users[identity].token
        except KeyError:
            known = ", ".join(self._users)
            raise errors.UnknownIdentityError(
                f"No identity {identity!r} in this control plane; known: {known}.", identity=identity
            ) from None

    def kubectl(
        self,
        *args: str,
        as_identity: str = identities.ADMIN,
        namespace: str | None = None,
        input: str | None = None,
        check: bool = True,
        timeout_s: float = clients.DEFAULT_TIMEOUT_S,
    ) -> "subprocess.CompletedProcess[str]":
        """Run ``kubectl <args>`` as one of the identities; text in, text out."""
        self.token_for(as_identity)  # a clear error for a typo, rather than kubectl's "context not found"
        return clients.run(
            self._kubectl,
            args,
            kubeconfig=self.kubeconfig,
            context=as_identity,
            cache_dir=self.workdir / "kubectl-cache",
            namespace=namespace,
            input=input,
            check=check,
            timeout_s=timeout_s,
        )

    def apply_crds(self, directory: Path) -> list[Path]:
        """Apply every ``*.yaml`` in ``directory`` server-side and wait until the CRDs are Established."""
        manifests = sorted(directory.glob("*.yaml"))
        if not manifests:
            return []
        files = [arg for path in manifests for arg in ("-f", str(path))]
        self.kubectl("apply", "--server-side", *files)
        self.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        return manifests

    def aggregate_cluster_roles(self) -> list[str]:
        """Fill in aggregated ClusterRoles (``admin``, ``edit``, ``view``…) as kube-controller-manager would.

        Runs once at start. Call it again after creating ClusterRoles labelled
        ``rbac.authorization.k8s.io/aggregate-to-<role>``; returns the names of the roles it updated.
        """
        listed = json.loads(self.kubectl("get", "clusterroles", "-o", "json").stdout)
        updates = aggregation.aggregate(listed["items"])
        if updates:
            roles = [
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRole",
                    "metadata": {"name": name},
                    "rules": rules,
                }
                for name, rules in updates.items()
            ]
            self.kubectl(
                "apply",
                "--server-side",
                f"--field-manager={aggregation.FIELD_MANAGER}",
                "--force-conflicts",
                "-f",
                "-",
                input=json.dumps({"apiVersion": "v1", "kind": "List", "items": roles}),
            )
        return sorted(updates)

    def create_namespace(self, name: str | None = None, *, prefix: str = "t-") -> str:
        """Create a namespace (``<prefix><random>`` unless named) with its ``default`` ServiceAccount.

        kube-controller-manager would add that ServiceAccount in a real cluster; without it, the
        ServiceAccount admission plugin rejects every Pod that does not name an account.
        """
        name = name or f"{prefix}{secrets.token_hex(4)}"
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        account = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": name},
        }
        manifest = {"apiVersion": "v1", "kind": "List", "items": [namespace, account]}
        self.kubectl("create", "-f", "-", input=json.dumps(manifest))
        return name

    @property
    def pids(self) -> dict[str, int]:
        """Process ids of the running servers by name (``etcd``, ``kube-apiserver``)."""
        return {process.name: process.popen.pid for process in self._processes}

    def exited(self) -> list[processes.ManagedProcess]:
        """The servers that are no longer running; a healthy control plane has none."""
        return [process for process in self._processes if not process.running()]

    def stop_apiserver(self) -> None:
        """Stop kube-apiserver alone (SIGKILL: no graceful drain), leaving etcd and its data as they are.

        For fault tests: clients see the API go away mid-request; ``start_apiserver`` brings it back.
        """
        apiserver = self._apiserver_process()
        if apiserver.running():
            apiserver.popen.kill()
        apiserver.popen.wait()

    def start_apiserver(self, *, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> None:
        """Start kube-apiserver again on the same port, keys and etcd, and return once it serves.

        Called from a thread other than the main one (``asyncio.to_thread``), the new process lacks the
        die-with-parent guard (``processes.spawn``); ``stop`` and the ``atexit`` stop still end it.
        """
        old = self._apiserver_process()
        if old.running():
            raise RuntimeError("kube-apiserver is still running; stop_apiserver() first")
        apiserver = processes.spawn(
            "kube-apiserver",
            components.apiserver_command(binaries.ensure(binaries.KUBE_APISERVER), self._apiserver),
            log_path=self.workdir / "kube-apiserver.log",
        )
        self._processes[self._processes.index(old)] = apiserver
        readiness.wait_for_apiserver(
            apiserver,
            server_url=self.server,
            ca_file=self.ca_file,
            token=self.token_for(identities.ADMIN),
            deadline=time.monotonic() + timeout_s,
        )

    def _apiserver_process(self) -> processes.ManagedProcess:
        return next(process for process in self._processes if process.name == "kube-apiserver")

    def stop(self) -> None:
        """Stop both servers and, if the work folder was temporary, remove it. Safe to call twice."""
        atexit.unregister(self.stop)
        processes.stop_in_order(self._processes, grace_s=_STOP_GRACE_S)
        self._processes.clear()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class NamespacedKubectl:
    """``ControlPlane.kubectl`` pinned to one namespace, for a test that lives in it."""

    def __init__(self, plane: ControlPlane, *, namespace: str) -> None:
        self.plane = plane
        self.namespace = namespace

    def __call__(
        self,
        *args: str,
        as_identity: str = identities.ADMIN,
        input: str | None = None,
        check: bool = True,
    ) -> "subprocess.CompletedProcess[str]":
        """``kubectl --namespace <namespace> <args>`` as ``as_identity``."""
        return self.plane.kubectl(*args, as_identity=as_identity, namespace=self.namespace, input=input, check=check)
