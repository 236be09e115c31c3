"""The processes ``operator_convergence.py`` starts and measures: the gateway, the operator, py-spy.

The gateway and the operator run as ``chargeops gateway`` / ``chargeops operator`` child processes with
their logs in files, so their memory (VmRSS, VmHWM) and CPU time can be read from /proc like any
deployment's; etcd and kube-apiserver are ``chargeops.devcluster``'s.
"""

import argparse
import contextlib
import dataclasses
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import kube_api
import proc_stats

from chargeops.devcluster import controlplane, ports

READY_LINE = re.compile(r"chargers on port (\d+), control API on port (\d+)")


@dataclasses.dataclass
class Child:
    """A process this benchmark started, with its log."""

    name: str
    process: subprocess.Popen[str]
    log_path: Path
    metrics_url: str | None = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a while."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def chargeops_command() -> str:
    executable = Path(sys.executable).parent / "chargeops"
    return str(executable) if executable.exists() else shutil.which("chargeops") or "chargeops"


def start_gateway(workdir: Path, args: argparse.Namespace) -> tuple[Child, str, str, str]:
    """``chargeops gateway`` on loopback with a fresh SQLite file; the child, its websocket base URL, its
    control API URL and the token file."""
    token_file = workdir / "gateway-token"
    token_file.write_text(secrets.token_urlsafe(24))
    log_path = workdir / "gateway.log"
    command = [
        chargeops_command(),
        "gateway",
        "--listen",
        "127.0.0.1:0",
        "--control-listen",
        "127.0.0.1:0",
        "--database-url",
        f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
        "--token-file",
        str(token_file),
        "--log-level",
        args.gateway_log_level,
    ]
    with log_path.open("w") as log:
        # Inherits this process's raised open-file limit: one socket per charger.
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    child = Child("gateway", process, log_path)
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"the gateway exited with {process.returncode}; see {log_path}")
        found = READY_LINE.search(line)
        if found:
            ws_port, control_port = found.groups()
            return child, f"ws://127.0.0.1:{ws_port}/ocpp", f"http://127.0.0.1:{control_port}", str(token_file)
    child.stop()
    raise RuntimeError("the gateway did not start within 120 s")


def start_operator(
    workdir: Path, plane: controlplane.ControlPlane, *, control_url: str, token_file: str, args: argparse.Namespace
) -> Child:
    """``chargeops operator`` as admin, cluster-wide, with the gateway's control API and its metrics on a
    loopback port."""
    log_path = workdir / "operator.log"
    metrics_port = ports.free_port()
    command = [
        chargeops_command(),
        "operator",
        "--gateway-url",
        control_url,
        "--gateway-token-file",
        token_file,
        "--kubeconfig",
        str(plane.kubeconfig),
        "--observe-interval",
        str(args.observe_interval),
        "--log-level",
        args.operator_log_level,
        "--metrics-host",
        ports.LOOPBACK,
        "--metrics-port",
        str(metrics_port),
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
    return Child("operator", process, log_path, metrics_url=f"http://{ports.LOOPBACK}:{metrics_port}/metrics")


# The operator's own counters worth a line in the report: handler runs and gateway requests.
_METRICS = (
    "chargeops_operator_reconciles_total",
    "chargeops_operator_errors_total",
    "chargeops_operator_gateway_request_duration_seconds_count",
    "chargeops_operator_gateway_request_duration_seconds_sum",
)


def operator_metrics(url: str | None) -> dict[str, float]:
    """The operator's handler and gateway-request counters from its /metrics, by series."""
    if url is None:
        return {}
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own loopback port
            text = response.read().decode()
    except OSError:
        return {}
    figures: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(_METRICS):
            series, value = line.rsplit(" ", 1)
            figures[series] = round(float(value), 3)
    return figures


def wait_served(plane: controlplane.ControlPlane, timeout_s: float = 60) -> None:
    """Wait until every chargeops kind can be listed: right after the CRDs are Established the API server
    still answers 429 "storage is (re)initializing" for a moment, which kopf would log as errors."""
    deadline = time.monotonic() + timeout_s
    for plural in kube_api.PLURALS.values():
        while plane.kubectl("get", plural, "-A", check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{plural} not served within {timeout_s} s")
            time.sleep(0.2)


_PROBLEM = re.compile(r"[ \[](WARNING|ERROR)[ \]]")


def log_problems(path: Path) -> tuple[int, list[str]]:
    """How many WARNING/ERROR lines a log has, and the first few."""
    if not path.exists():
        return 0, []
    # " WARNING " in the gateway's lines, "[WARNING ]" in the operator's (kopf's format).
    found = [line for line in path.read_text(errors="replace").splitlines() if _PROBLEM.search(line)]
    return len(found), [line[:300] for line in found[:5]]


@dataclasses.dataclass
class Watched:
    """The processes whose memory and CPU the report shows."""

    pids: dict[str, list[int]]

    def cpu(self) -> dict[str, float]:
        return {
            name: round(sum(proc_stats.cpu_seconds(pid) or 0.0 for pid in pids), 1) for name, pids in self.pids.items()
        }

    def memory(self, field: str) -> dict[str, float | None]:
        figures: dict[str, float | None] = {}
        for name, pids in self.pids.items():
            values = [proc_stats.status_kib(pid, field) for pid in pids]
            figures[name] = round(sum(v for v in values if v) / 1024, 1) if any(values) else None
        return figures


def cpu_delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: round(after[name] - before.get(name, 0.0), 1) for name in after}


@contextlib.contextmanager
def py_spy(pids: Mapping[str, int], folder: Path | None, *, output_format: str) -> Iterator[None]:
    """``py-spy record`` of each process while the block runs, into ``folder/<name>.<ext>`` (nothing
    without a folder)."""
    if folder is None:
        yield
        return
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        print("py-spy not found; no profile", file=sys.stderr)
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    suffix = {"flamegraph": "svg", "speedscope": "json", "raw": "txt"}[output_format]
    recorders = [
        subprocess.Popen(
            [
                *(spy, "record", "--pid", str(pid), "--rate", "50", "--nonblocking"),
                *("--format", output_format, "--output", str(folder / f"{name}.{suffix}")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        for recorder in recorders:
            try:
                recorder.wait(timeout=120)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()
