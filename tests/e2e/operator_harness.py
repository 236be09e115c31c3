"""What the operator's e2e tests share: its ServiceAccount kubeconfig, the operator as a child process, a
simulated charger, and waiting on a resource's conditions and Events.

The operator runs as ``chargeops operator`` in its own process, so a test can kill it the way a node
failure would (SIGKILL: no clean-up, kopf's progress annotations left as they were). It serves one
namespace only: every test's namespace holds the same examples, with the same charge point ids.
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.simulator.clock import SystemClock
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac" / "operator.yaml"
# Generous: a loaded 2-core machine runs the control plane, the gateway and the operator at once.
DEADLINE_S = 90.0


async def poll(
    check: Callable[[], Any],
    *,
    timeout_s: float = DEADLINE_S,
    interval_s: float = 0.25,
    showing: Callable[[], Any] | None = None,
) -> Any:
    """Wait until ``check()`` (sync or async) returns something truthy, and return it; fail with the last
    value (or what ``showing()`` returns then) after ``timeout_s``. The interval is long enough that
    polling kubectl does not load the machine."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            shown = value if showing is None else showing()
            raise AssertionError(f"not met within {timeout_s} s; last value {shown!r}")
        await asyncio.sleep(interval_s)


def operator_kubeconfig(control_plane: ControlPlane, path: Path) -> Path:
    """A kubeconfig for the operator's ServiceAccount with the shipped least-privilege ClusterRole."""
    control_plane.kubectl("apply", "-f", str(RBAC))
    token = control_plane.kubectl(
        "create", "token", "chargeops-operator", "-n", "chargeops-system", "--duration=2h"
    ).stdout.strip()
    cluster = {"server": control_plane.server, "certificate-authority": str(control_plane.ca_file)}
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "dev", "cluster": cluster}],
        "users": [{"name": "operator", "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": "dev", "user": "operator"}}],
        "current-context": "operator",
    }
    path.write_text(json.dumps(document))
    return path


class OperatorProcess:
    """``chargeops operator`` as a child process serving one namespace; started, killed, started again.

    Its output goes to ``log`` (appended across restarts), which a failing test prints.
    """

    def __init__(
        self,
        *,
        kubeconfig: Path,
        gateway_url: str,
        token: str,
        namespace: str,
        log: Path,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.command = [
            str(Path(sys.executable).with_name("chargeops")),
            "operator",
            "--kubeconfig",
            str(kubeconfig),
            "--gateway-url",
            gateway_url,
            "--namespace",
            namespace,
            "--observe-interval",
            "1",
            # No metrics endpoint unless a test asks for one (``extra_args`` come later and win): the
            # default port would collide with another operator on this machine.
            "--metrics-port",
            "0",
            *extra_args,
        ]
        self.env = {**os.environ, "CHARGEOPS_GATEWAY_TOKEN": token, **(env or {})}
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        """The exit code of the last run, once it ended."""
        self._output: IO[bytes] | None = None

    def start(self) -> None:
        """Start the operator; it reconciles what is there (kopf's resume) and then follows changes."""
        assert self._process is None, "already running"
        self._output = self.log.open("ab")
        self._process = subprocess.Popen(self.command, env=self.env, stdout=self._output, stderr=subprocess.STDOUT)

    def exited(self) -> bool:
        """Whether the started operator ended by itself (what a Deployment restarts)."""
        return self._process is not None and self._process.poll() is not None

    async def kill(self) -> None:
        """SIGKILL: the operator stops wherever it is, mid-handler or mid-patch."""
        await self._end(signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM and wait (kopf stops its handlers cleanly)."""
        await self._end(signal.SIGTERM)

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the operator's output."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def _end(self, signum: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signum)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 30)
        self.returncode = process.returncode
        if self._output is not None:
            self._output.close()
            self._output = None


@contextlib.asynccontextmanager
async def operator_process(
    control_plane: ControlPlane,
    gateway_url: str,
    token: str,
    namespace: str,
    folder: Path,
    *,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[OperatorProcess]:
    """A started operator running as its ServiceAccount; stopped afterwards, its log printed. ``extra_args``
    and ``env`` (added to this process's environment) go to ``chargeops operator``."""
    kubeconfig = await asyncio.to_thread(operator_kubeconfig, control_plane, folder / "operator.kubeconfig")
    operator = OperatorProcess(
        kubeconfig=kubeconfig,
        gateway_url=gateway_url,
        token=token,
        namespace=namespace,
        log=folder / "operator.log",
        extra_args=extra_args,
        env=env,
    )
    operator.start()
    try:
        yield operator
    finally:
        await operator.stop()
        print(f"--- operator log (tail) ---\n{operator.log_tail()}")  # shown by pytest when the test fails


@contextlib.asynccontextmanager
async def station(ocpp_url: str, cp_id: str, password: str, **config: Any) -> AsyncIterator[Station]:
    """One simulated charger that reconnects within about a second whenever its connection is lost;
    ``config`` sets other ``StationConfig`` fields."""
    config = {"reconnect_initial_s": 0.2, "reconnect_max_s": 1.0, **config}
    charger = Station(StationConfig(cp_id, ocpp_url, password=password, **config), clock=SystemClock())
    task = asyncio.create_task(charger.run())
    try:
        yield charger
    finally:
        await charger.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def get(kubectl: NamespacedKubectl, kind: str, name: str) -> dict[str, Any]:
    """The object as JSON."""
    result = await asyncio.to_thread(kubectl, "get", kind, name, "-o", "json")
    return dict(json.loads(result.stdout))


def condition_of(body: dict[str, Any], condition_type: str) -> dict[str, Any] | None:
    """The condition of ``condition_type`` in ``body``'s status, or None."""
    found = [c for c in (body.get("status") or {}).get("conditions") or [] if c["type"] == condition_type]
    return dict(found[0]) if found else None


async def wait_condition(
    kubectl: NamespacedKubectl,
    kind: str,
    name: str,
    condition_type: str,
    *,
    status: str,
    reason: str | None = None,
    current: bool = False,
) -> dict[str, Any]:
    """Wait until the condition has ``status`` (and ``reason``); ``current``: also written for the
    object's latest generation (status.observedGeneration == metadata.generation)."""

    async def matches() -> dict[str, Any] | None:
        body = await get(kubectl, kind, name)
        found = condition_of(body, condition_type)
        if found is None or found["status"] != status or (reason is not None and found["reason"] != reason):
            return None
        if current and (body.get("status") or {}).get("observedGeneration") != body["metadata"]["generation"]:
            return None
        return found

    return dict(await poll(matches))


async def wait_event(kubectl: NamespacedKubectl, name: str, *, reason: str) -> dict[str, Any]:
    """Wait for an Event about object ``name`` with ``reason``; return it."""

    async def found() -> dict[str, Any] | None:
        result = await asyncio.to_thread(kubectl, "get", "events", "-o", "json")
        events = [
            event
            for event in json.loads(result.stdout)["items"]
            if event["involvedObject"]["name"] == name and event.get("reason") == reason
        ]
        return dict(events[0]) if events else None

    return dict(await poll(found))
