"""Load the OCPP gateway with many lean chargers and print what it did: a benchmark, not a test.

The gateway runs as its own process (``chargeops gateway`` on a fresh SQLite file in a temporary
directory, or an existing one with ``--gateway-url``); this process registers the chargers through the
control API and then drives them from ``--workers`` load-generator processes (``load_client``), each
charger a websocket from a source address 127.0.0.2, 127.0.0.3, … (one address holds about 28,000
ephemeral ports, DESIGN.md). Both sides raise their open-file limit to the hard limit.

``--replicas K --postgres`` starts K gateway processes on one throwaway PostgreSQL (issue #8's scale-out)
and deals the chargers out over them as a load balancer would, charger i to replica i mod K, each
registered through the replica it connects to. One process holds at most as many connections as its
open-file limit allows (a hard limit of 20,000 here, which an unprivileged process cannot raise), so
50,000 chargers need three. Server RSS, CPU and loop lag are then the sums over the replicas, and the
database's CPU is printed beside them.

Modes:

- ``realistic``: every charger boots, reports its status, a ``--charging-fraction`` of them starts a
  transaction; then Heartbeat every ``--heartbeat-s`` and, while charging, MeterValues every
  ``--meter-interval-s``. The window of ``--duration`` seconds starts once all chargers are up.
- ``saturation``: every connection sends calls back to back, ``--window`` outstanding at a time, in
  the ``--mix`` of actions (MeterValues and StatusNotification reach the store). ``--echo-baseline``
  runs the same load against a bare websockets server (``echo_server.py``) for the ceiling.
- ``reconnect-storm``: every charger boots as in ``realistic`` (and sends nothing more); once the
  gateway's observed state shows all of them converged, the gateway is stopped (SIGTERM, or SIGKILL
  with ``--kill``) and started again on the same database and ports, its memory of verified passwords empty.
  Every charger reconnects by itself (a random jitter of up to ``--reconnect-jitter-s``; retries while
  refused, the wait doubling from ``--reconnect-retry-s`` up to ``--reconnect-retry-max-s``, plus a random
  part as long again, as OCPP 2.0.1's RetryBackOff does; Retry-After when answered 503) and reports its
  status again. Measured from the restart: the time until all are reconnected, and until the gateway's
  observed state shows every one connected to the new process and converged to its desired state
  (``is_settled``, the gateway's own test; a settled charger is sent nothing), and the gateway's CPU
  meanwhile. The gateways share a password key (``--password-key-file``, as the Helm chart gives them),
  so a charger's password is checked against its stored verifier; ``--no-password-key`` measures the
  gateway without one: a scrypt check per charger.
  With ``--replicas K`` every replica is stopped and started again at once, as a rollout gone wrong or a
  node lost with all of them would.

It prints connections held at the end, messages/s (replies received in the window), client-side
p50/p99 call latency (send to reply), errors, the gateway's RSS and CPU, and the time to connect all
chargers. ``--json`` prints the same as one JSON document instead.

    .venv/bin/python bench/gateway_load.py --mode realistic --chargers 10000 --duration 120
    .venv/bin/python bench/gateway_load.py --mode saturation --chargers 100 --duration 30 --echo-baseline
    .venv/bin/python bench/gateway_load.py --mode reconnect-storm --chargers 5000 [--kill]
    .venv/bin/python bench/gateway_load.py --mode realistic --chargers 50000 --replicas 3 --postgres
    .venv/bin/python bench/gateway_load.py --mode reconnect-storm --chargers 50000 --replicas 3 --postgres
"""

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import load_client
import proc_stats
import pydantic
from prometheus_client.parser import text_string_to_metric_families

from chargeops.api.gateway import AuthorizationMode, DesiredState, ObservedState, StoredDesiredState
from chargeops.ocpp_gateway.convergence.converge import is_settled

PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throwaway gateway's chargers
ID_TAG = "BENCH-TAG-1"
CHARGER_ID = "BENCH{:06d}"
# Chargers per load-generator process: well under the open-file limit of 20,000 found here.
DEFAULT_PER_WORKER = 10_000
# Chargers per source address: one loopback address gives ~28,000 ephemeral ports (32768-60999).
DEFAULT_PER_ADDRESS = 20_000
READY_LINE = re.compile(r"chargers on port (\d+), control API on port (\d+)")
ECHO_READY_LINE = re.compile(r"ready on port (\d+)")
BENCH_DIR = Path(__file__).resolve().parent
# Reconnect storm: how often the gateway's observed state is read, and the CPU of the gateway sampled.
OBSERVED_POLL_S = 1.0
CPU_SAMPLE_S = 0.25
OBSERVED_LIST = pydantic.TypeAdapter(list[ObservedState])


@dataclasses.dataclass
class Target:
    """A server under load: the gateway or the echo server."""

    name: str
    ws_url: str
    pid: int | None
    control_url: str | None = None
    token: str | None = None
    process: subprocess.Popen[str] | None = None
    log_path: Path | None = None
    baseline_rss_kib: int | None = None
    ports: tuple[int, int] = (0, 0)  # websocket and control API, to start again on the same ones
    database_url: str | None = None  # and its store and replica id, to start again as the same replica
    replica_id: str | None = None

    def stop(self) -> None:
        """Stop the process this benchmark started (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# Processes -----------------------------------------------------------------------------------------


def _wait_for_line(process: subprocess.Popen[str], pattern: re.Pattern[str], timeout_s: float) -> re.Match[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode} before it was ready")
            continue
        found = pattern.search(line)
        if found:
            return found
    raise RuntimeError(f"{process.args!r} did not get ready within {timeout_s} s")


def start_gateway(
    workdir: Path,
    args: argparse.Namespace,
    *,
    token: str | None = None,
    ports: tuple[int, int] = (0, 0),
    database_url: str | None = None,
    replica_id: str | None = None,
) -> Target:
    """``chargeops gateway`` on loopback with its own SQLite file (or ``database_url``, as ``replica_id``),
    stderr (its log) to a file. Given the ``token`` and ``ports`` of an earlier run, it starts again as
    the same gateway, its log appended."""
    restart = token is not None
    token = token or secrets.token_urlsafe(24)
    token_file = workdir / "token"
    token_file.write_text(token)
    key_file = workdir / "password-key"
    if args.password_key and not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))  # one key for every replica, kept across restarts
    database_url = database_url or f"sqlite+aiosqlite:///{args.database or workdir / 'gateway.db'}"
    executable = Path(sys.executable).parent / "chargeops"
    command = [
        str(executable) if executable.exists() else shutil.which("chargeops") or "chargeops",
        "gateway",
        "--listen",
        f"{args.host}:{ports[0]}",
        "--control-listen",
        f"127.0.0.1:{ports[1]}",
        "--database-url",
        database_url,
        "--token-file",
        str(token_file),
        "--log-level",
        args.gateway_log_level,
        *(("--replica-id", replica_id) if replica_id else ()),
        *(("--password-key-file", str(key_file)) if args.password_key else ()),
    ]
    log_path = workdir / (f"gateway-{replica_id}.log" if replica_id else "gateway.log")
    with log_path.open("a" if restart else "w") as log:
        # The gateway inherits this process's raised open-file limit.
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    found = _wait_for_line(process, READY_LINE, 120)
    target = Target(
        name=replica_id or "gateway",
        ws_url=f"ws://{args.host}:{found.group(1)}/ocpp",
        pid=process.pid,
        control_url=f"http://127.0.0.1:{found.group(2)}",
        token=token,
        process=process,
        log_path=log_path,
        ports=(int(found.group(1)), int(found.group(2))),
        database_url=database_url,
        replica_id=replica_id,
    )
    target.baseline_rss_kib = rss_kib(process.pid)
    return target


def start_echo(args: argparse.Namespace) -> Target:
    """``echo_server.py`` as its own process."""
    command = [sys.executable, str(BENCH_DIR / "echo_server.py"), "--host", args.host, "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    found = _wait_for_line(process, ECHO_READY_LINE, 60)
    target = Target(name="echo", ws_url=f"ws://{args.host}:{found.group(1)}/ocpp", pid=process.pid, process=process)
    target.baseline_rss_kib = rss_kib(process.pid)
    return target


def rss_kib(pid: int | None) -> int | None:
    """VmRSS of ``pid`` in KiB."""
    return proc_stats.status_kib(pid, "VmRSS")


def summed(values: list[float | None] | list[int | None]) -> Any:
    """The sum of per-replica figures, or None when any replica has none."""
    return None if any(value is None for value in values) else sum(values)  # type: ignore[arg-type]


LOOP_LAG = "chargeops_gateway_event_loop_lag_seconds"


async def loop_lag_buckets(target: Target) -> dict[float, float] | None:
    """The gateway's event-loop lag histogram now: cumulative count by bucket bound (None: no gateway)."""
    if target.control_url is None:
        return None
    async with aiohttp.ClientSession() as http, http.get(f"{target.control_url}/metrics") as response:
        text = await response.text()
    return {
        float(sample.labels["le"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == LOOP_LAG
        for sample in family.samples
        if sample.name.endswith("_bucket")
    } or None


async def loop_lag_sum(targets: list[Target]) -> dict[float, float] | None:
    """The replicas' loop-lag histograms added up, bucket by bucket (None: not every one has one)."""
    histograms = [await loop_lag_buckets(target) for target in targets]
    if any(histogram is None for histogram in histograms):
        return None
    return dict(sum((Counter(histogram) for histogram in histograms), Counter()))


def loop_lag_figures(before: dict[float, float] | None, after: dict[float, float] | None) -> dict[str, Any] | None:
    """Of the lag samples taken between ``before`` and ``after``: how many, the bucket bounds of their p50
    and p99, and how many were over 100 ms — whether the gateway's own loop made the latency tail."""
    if not before or not after:
        return None
    counts = {bound: after[bound] - before.get(bound, 0.0) for bound in sorted(after)}
    total = counts[math.inf]
    if not total:
        return None

    def bound_of(quantile: float) -> float:
        return next(bound for bound, count in counts.items() if count >= quantile * total)

    return {
        "samples": int(total),
        "p50_le_ms": 1000 * bound_of(0.5),
        "p99_le_ms": 1000 * bound_of(0.99),
        "over_100ms": int(total - counts.get(0.1, total)),
    }


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (what ``uptime`` shows)."""
    return [round(value, 2) for value in os.getloadavg()]


def log_warnings(targets: list[Target]) -> tuple[int, list[str]]:
    """How many WARNING/ERROR lines the gateway(s) logged, and the first few."""
    lines = [
        line
        for target in targets
        if target.log_path is not None and target.log_path.exists()
        for line in target.log_path.read_text().splitlines()
        if " WARNING " in line or " ERROR " in line
    ]
    return len(lines), lines[:5]


def dealt(items: list[Any], targets: list[Target], target: Target) -> list[Any]:
    """The share of ``items`` that goes to ``target``: item i to replica i mod K, as a load balancer would."""
    return items[targets.index(target) :: len(targets)]


# Registration --------------------------------------------------------------------------------------


def desired_document(args: argparse.Namespace) -> bytes:
    """The desired state every benchmark charger gets (the same document, so only the id differs)."""
    required = args.id_tags > 0
    desired = DesiredState(
        ocpp_version="1.6",  # type: ignore[arg-type]
        security_profile=1,
        password=PASSWORD,
        authorization=AuthorizationMode.REQUIRED if required else AuthorizationMode.FREE,
        heartbeat_interval_s=max(30, round(args.heartbeat_s)),
        authorized_id_tags=[ID_TAG, *(f"BENCH-TAG-{n}" for n in range(2, args.id_tags + 1))] if required else [],
        revision=1,
    )
    return desired.model_dump_json(by_alias=True, exclude_defaults=True).encode()


async def register(targets: list[Target], ids: list[str], args: argparse.Namespace) -> float:
    """PUT every charger's desired state, ``--register-concurrency`` at a time, each through the replica
    it will connect to (which then remembers its password as verified); the seconds it took."""
    body = desired_document(args)
    headers = {"Authorization": f"Bearer {targets[0].token}", "Content-Type": "application/json"}
    started = time.perf_counter()
    pending = iter([(cp_id, target.control_url) for target in targets for cp_id in dealt(ids, targets, target)])
    done = 0

    async def put_all(http: aiohttp.ClientSession) -> None:
        nonlocal done
        for cp_id, control_url in pending:
            async with http.put(f"{control_url}/v1/chargers/{cp_id}/desired", data=body) as response:
                if response.status != 200:
                    raise RuntimeError(f"PUT desired {cp_id}: HTTP {response.status} {await response.text()}")
            done += 1
            if done % 1000 == 0:
                _progress(f"registered {done}/{len(ids)} ({done / (time.perf_counter() - started):.0f}/s)", args)

    timeout = aiohttp.ClientTimeout(total=None, sock_read=300)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as http:
        await asyncio.gather(*(put_all(http) for _ in range(args.register_concurrency)))
    return time.perf_counter() - started


# Load ----------------------------------------------------------------------------------------------


def source_addresses(args: argparse.Namespace, count: int) -> list[str | None]:
    """The source address of each charger: 127.0.0.2, .3, … every ``--per-address`` chargers on loopback."""
    if args.source_addresses == "none" or args.host not in ("127.0.0.1", "localhost"):
        return [None] * count
    return [f"127.0.0.{2 + index // args.per_address}" for index in range(count)]


def plans(targets: list[Target], args: argparse.Namespace, mode: str, count: int) -> list[load_client.Plan]:
    """Deal ``count`` chargers out over the replicas, and each replica's share over worker processes."""
    chargers = list(
        zip((CHARGER_ID.format(index) for index in range(count)), source_addresses(args, count), strict=True)
    )
    return [plan for target in targets for plan in _replica_plans(target, args, mode, dealt(chargers, targets, target))]


def _replica_plans(
    target: Target, args: argparse.Namespace, mode: str, chargers: list[tuple[str, str | None]]
) -> list[load_client.Plan]:
    count = len(chargers)
    workers = args.workers or (1 if mode == "saturation" else max(1, math.ceil(count / DEFAULT_PER_WORKER)))
    workers = min(workers, count)
    return [
        load_client.Plan(
            url=target.ws_url,
            mode=mode,
            chargers=chargers[worker::workers],
            password=PASSWORD,
            id_tag=ID_TAG,
            heartbeat_s=args.heartbeat_s,
            meter_interval_s=args.meter_interval_s,
            charging_fraction=args.charging_fraction if mode != "saturation" else 1.0,
            window=args.window,
            mix=mix_sequence(args.mix),
            connect_concurrency=max(1, args.connect_concurrency // workers),
            call_timeout_s=args.call_timeout_s,
            seed=args.seed + worker,
            reconnect_jitter_s=args.reconnect_jitter_s,
            reconnect_retry_s=args.reconnect_retry_s,
            reconnect_retry_max_s=max(args.reconnect_retry_s, args.reconnect_retry_max_s),
        )
        for worker in range(workers)
    ]


def mix_sequence(mix: str) -> list[str]:
    """``Heartbeat=3,StatusNotification=1`` as an interleaved cycle of action names."""
    weights = {name.strip(): int(count) for name, count in (item.split("=") for item in mix.split(","))}
    cycle: list[str] = []
    remaining = dict(weights)
    while any(remaining.values()):
        for name in weights:
            if remaining[name]:
                cycle.append(name)
                remaining[name] -= 1
    return cycle


def start_workers(worker_plans: list[load_client.Plan]) -> tuple[list[Any], list[Any]]:
    """One load-generator process per plan; their pipes and processes."""
    context = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    for plan in worker_plans:
        parent_end, child_end = context.Pipe()
        process = context.Process(target=load_client.run_worker, args=(plan, child_end), daemon=True)
        process.start()
        pipes.append(parent_end)
        processes.append(process)
    return pipes, processes


async def drive(
    targets: list[Target], args: argparse.Namespace, mode: str, count: int, *, database_pid: int | None = None
) -> dict[str, Any]:
    """Run the workers against ``targets`` (one server, or the replicas of one); the merged figures."""
    name = targets[0].name if len(targets) == 1 else f"{len(targets)} gateways"
    worker_plans = plans(targets, args, mode, count)
    pipes, processes = start_workers(worker_plans)
    _progress(f"{name}: {len(processes)} worker(s) connecting {count} chargers", args)
    ready = [await asyncio.to_thread(_receive, pipe, "ready") for pipe in pipes]
    connected = sum(item["connected"] for item in ready)
    _progress(f"{name}: {connected}/{count} up in {max(item['connect_s'] for item in ready):.1f} s", args)

    def rss() -> int | None:
        return summed([rss_kib(target.pid) for target in targets])  # type: ignore[no-any-return]

    def cpu() -> tuple[float | None, float | None]:
        servers = summed([proc_stats.cpu_seconds(target.pid) for target in targets])
        return servers, proc_stats.tree_cpu_seconds(database_pid)

    rss_peak = rss()
    cpu_before, database_cpu_before = cpu()
    load_before = load_average()
    lag_before = await loop_lag_sum(targets)
    window_started = time.perf_counter()
    for pipe in pipes:
        pipe.send({"command": "measure", "duration_s": args.duration})
    finished = [asyncio.create_task(asyncio.to_thread(_receive, pipe, "done")) for pipe in pipes]
    while not all(task.done() for task in finished):
        rss_peak = max(rss_peak or 0, rss() or 0)
        await asyncio.sleep(0.5)
    done = [task.result() for task in finished]
    window_s = time.perf_counter() - window_started
    lag = loop_lag_figures(lag_before, await loop_lag_sum(targets))
    cpu_after, database_cpu_after = cpu()
    rss_end = rss()
    load_after = load_average()
    for process in processes:
        await asyncio.to_thread(process.join, 120)

    latencies, replied_at, actions = array("d"), array("d"), array("B")
    for item in done:
        latencies.frombytes(item["latencies"])
        replied_at.frombytes(item["replied_at"])
        actions.frombytes(item["actions"])
    window = max(item["window_s"] for item in done)
    replies = sum(item["replies"] for item in done)
    connect_failures: Counter[str] = Counter()
    for item in ready:
        connect_failures.update(item["connect_failures"])
    errors = {
        "connect": sum(connect_failures.values()),
        "setup_call_errors": sum(item["setup_call_errors"] for item in ready),
        "setup_timeouts": sum(item["setup_timeouts"] for item in ready),
        "call_errors": sum(item["call_errors"] for item in done),
        "timeouts": sum(item["timeouts"] for item in done),
        "closed": sum(item["closed_during_window"] for item in done),
    }
    warnings, warning_samples = log_warnings(targets)
    held = sum(item["held"] for item in done)
    baseline_rss = summed([target.baseline_rss_kib for target in targets])
    result: dict[str, Any] = {
        "target": name,
        "mode": mode,
        "chargers": count,
        "replicas": len(targets),
        "workers": len(processes),
        "source_addresses": sorted({address for plan in worker_plans for _, address in plan.chargers if address}),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "connected": connected,
        "connect_s": round(max(item["connect_s"] for item in ready), 2),
        "connect_failures": dict(connect_failures),
        "busy_retries": sum(item.get("busy_retries", 0) for item in ready),
        "setup_retries": sum(item.get("setup_retries", 0) for item in ready),
        "boot_pending": sum(item.get("boot_pending", 0) for item in ready),
        "setup_status_errors": sum(item.get("setup_status_errors", 0) for item in ready),
        "rejoined": sum(item.get("rejoined", 0) for item in done),
        "rejoins_given_up": sum(item.get("rejoins_given_up", 0) for item in done),
        "rejoining_at_end": sum(item.get("rejoining", 0) for item in done),
        "rejoin_failures": dict(sum((Counter(item.get("rejoin_failures", {})) for item in done), Counter())),
        "window_s": round(window, 2),
        "held": held,
        "messages": replies,
        "messages_per_s": round(replies / window, 1) if window else 0.0,
        "latency_ms": percentiles(latencies),
        "latency_by_action_ms": {
            name: percentiles(array("d", (lat for lat, a in zip(latencies, actions, strict=True) if a == index)))
            for index, name in enumerate(load_client.ACTIONS)
            if index in set(actions)
        },
        "slow_calls": slow_calls(latencies, replied_at),
        "errors": {**errors, "total": sum(errors.values())},
        "by_action": dict(sum((Counter(item["by_action"]) for item in done), Counter())),
        "gateway_calls": dict(sum((Counter(item["gateway_calls"]) for item in done), Counter())),
        "server_rss_mib": _mib(rss_end),
        "server_rss_peak_mib": _mib(rss_peak),
        "server_rss_per_connection_kib": (
            round((rss_end - baseline_rss) / held, 1) if rss_end and baseline_rss and held else None
        ),
        "server_cpu_percent": _percent(cpu_before, cpu_after, window_s),
        "database_cpu_percent": _percent(database_cpu_before, database_cpu_after, window_s),
        "client_cpu_percent": round(100 * sum(item["client_cpu_s"] for item in done) / window, 1),
        "server_loop_lag": lag,
        "server_log_warnings": warnings,
        "server_log_samples": warning_samples,
        "error_samples": [sample for item in done for sample in item["error_samples"]][:5],
    }
    return result


# Reconnect storm ----------------------------------------------------------------------------------


async def storm(targets: list[Target], args: argparse.Namespace, count: int) -> dict[str, Any]:
    """Connect ``count`` chargers, wait until the gateway(s) have converged them all, restart every
    replica at once under them, and time their return; the merged figures."""
    if any(target.process is None or target.log_path is None for target in targets):
        raise SystemExit("--mode reconnect-storm restarts the gateway; it cannot run against --gateway-url")
    worker_plans = plans(targets, args, "reconnect-storm", count)
    pipes, processes = start_workers(worker_plans)
    _progress(f"gateway: {len(processes)} worker(s) connecting {count} chargers", args)
    ready = [await asyncio.to_thread(_receive, pipe, "ready") for pipe in pipes]
    connected = sum(item["connected"] for item in ready)
    connect_s = max(item["connect_s"] for item in ready)
    _progress(f"gateway: {connected}/{count} up in {connect_s:.1f} s; waiting for convergence", args)
    ids = {CHARGER_ID.format(index) for index in range(count)}
    # The replicas share one store, so any one's control API observes every charger.
    observer = targets[0]
    async with _control_session(observer) as http:
        desired = await _stored_desired(http, observer, CHARGER_ID.format(0))
        started = time.perf_counter()
        converged_before = await _wait_settled(
            http, observer, ids, desired, since=None, timeout_s=args.settle_timeout_s
        )
        converged_before_s = time.perf_counter() - started
    if converged_before < len(ids):
        raise RuntimeError(f"only {converged_before} of {len(ids)} chargers converged before the restart")

    for pipe in pipes:
        pipe.send({"command": "storm", "deadline_s": args.storm_timeout_s})
    for pipe in pipes:
        await asyncio.to_thread(_receive, pipe, "armed")
    load_before = load_average()
    restart = await restart_gateways(targets, args)
    _progress(
        f"gateway: {restart.signal_name} stopped {len(targets)} process(es) in "
        f"{restart.stopped_at - restart.signalled_at:.1f} s, "
        f"listening again after {restart.listening_at - restart.started_at:.1f} s",
        args,
    )
    sampler = CpuSampler([target.pid for target in targets])
    sampling = asyncio.create_task(sampler.run())
    back = [await asyncio.to_thread(_receive, pipe, "reconnected") for pipe in pipes]
    reconnected_at = array("d")
    for item in back:
        reconnected_at.frombytes(item["reconnected_at"])
    all_reconnected_at = max(reconnected_at, default=None)
    _progress(f"gateway: {len(reconnected_at)}/{connected} reconnected; reading its observed state", args)
    since = datetime.fromtimestamp(restart.started_at, UTC)
    async with _control_session(observer) as http:
        converged = await _wait_settled(http, observer, ids, desired, since=since, timeout_s=args.settle_timeout_s)
    all_converged_at = time.time() if converged == len(ids) else None
    sampling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampling
    load_after = load_average()
    for pipe in pipes:
        pipe.send({"command": "finish"})
    done = [await asyncio.to_thread(_receive, pipe, "done") for pipe in pipes]
    for process in processes:
        await asyncio.to_thread(process.join, 120)

    failures: Counter[str] = Counter()
    for item in back:
        failures.update(item["failures"])
    cpu_listening = sampler.cpu_at(restart.listening_at)
    cpu_reconnected = sampler.cpu_at(all_reconnected_at)
    cpu_converged = sampler.cpu_at(all_converged_at)
    warnings, warning_samples = log_warnings(targets)
    return {
        "target": observer.name if len(targets) == 1 else f"{len(targets)} replicas",
        "mode": "reconnect-storm",
        "replicas": len(targets),
        "chargers": count,
        "workers": len(processes),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "connected": connected,
        "connect_s": round(connect_s, 2),
        "converged_before_restart_s": round(converged_before_s, 2),
        "signal": restart.signal_name,
        "stop_s": round(restart.stopped_at - restart.signalled_at, 2),
        "start_s": round(restart.listening_at - restart.started_at, 2),
        "cut": sum(item["cut"] for item in back),
        "reconnected": len(reconnected_at),
        "reconnect_s": restart.elapsed(all_reconnected_at),
        "reconnect_spread_s": _spread(reconnected_at, restart.listening_at),
        "converged": converged,
        "converge_s": restart.elapsed(all_converged_at),
        "attempts": sum(item["attempts"] for item in back),
        "busy_retries": sum(item["busy_retries"] for item in back),
        "failures": dict(failures),
        "status_errors": sum(item["status_errors"] for item in back),
        "gateway_calls_after_restart": dict(sum((Counter(item["gateway_calls"]) for item in done), Counter())),
        "changed_after_restart": sum(item["changed"] for item in done),
        "dropped_after_return": sum(item["dropped_after_return"] for item in done),
        "held": sum(item["held"] for item in done),
        "server_cpu_s": {
            "start": _round(cpu_listening),
            "until_reconnected": _round(_minus(cpu_reconnected, cpu_listening)),
            "until_converged": _round(_minus(cpu_converged, cpu_listening)),
        },
        "server_cpu_percent": (
            round(100 * (cpu_converged - cpu_listening) / (all_converged_at - restart.listening_at), 1)
            if cpu_converged is not None and cpu_listening is not None and all_converged_at is not None
            else None
        ),
        "server_cpu_ms_per_reconnect": (
            round(1000 * (cpu_reconnected - cpu_listening) / len(reconnected_at), 1)
            if cpu_reconnected is not None and cpu_listening is not None and reconnected_at
            else None
        ),
        "server_rss_mib": _mib(summed([rss_kib(target.pid) for target in targets])),
        "server_rss_peak_mib": _mib(sampler.rss_peak_kib),
        "client_cpu_percent": (
            round(100 * sum(item["client_cpu_s"] for item in back) / (all_reconnected_at - restart.signalled_at), 1)
            if all_reconnected_at is not None
            else None
        ),
        "server_log_warnings": warnings,
        "server_log_samples": warning_samples,
        "error_samples": [sample for item in back for sample in item["error_samples"]][:5],
    }


@dataclasses.dataclass(frozen=True)
class Restart:
    """When the gateway(s) were signalled, had all exited, were started again and all listened again
    (wall clock)."""

    signal_name: str
    signalled_at: float
    stopped_at: float
    started_at: float
    listening_at: float

    def elapsed(self, at: float | None) -> dict[str, float | None]:
        """Seconds from the signal, from the new processes' start and from their listening, to ``at``."""
        points = {"from_signal": self.signalled_at, "from_start": self.started_at, "from_listening": self.listening_at}
        return {name: None if at is None else round(at - point, 2) for name, point in points.items()}


async def restart_gateways(targets: list[Target], args: argparse.Namespace) -> Restart:
    """Stop every gateway at once (SIGTERM, or SIGKILL with ``--kill``) and start them all again, each on
    its database, ports, token and replica id; each target then names its new process."""
    chosen = signal.SIGKILL if args.kill else signal.SIGTERM
    signalled_at = time.time()
    for target in targets:
        assert target.process is not None
        target.process.send_signal(chosen)
    await asyncio.gather(*(asyncio.to_thread(target.process.wait, 120) for target in targets if target.process))
    stopped_at = time.time()
    started_at = time.time()
    await asyncio.gather(*(asyncio.to_thread(_start_again, target, args) for target in targets))
    listening_at = time.time()
    return Restart(chosen.name, signalled_at, stopped_at, started_at, listening_at)


def _start_again(target: Target, args: argparse.Namespace) -> None:
    assert target.log_path is not None
    again = start_gateway(
        target.log_path.parent,
        args,
        token=target.token,
        ports=target.ports,
        database_url=target.database_url,
        replica_id=target.replica_id,
    )
    target.process, target.pid, target.baseline_rss_kib = again.process, again.pid, again.baseline_rss_kib


class CpuSampler:
    """The CPU time and RSS of some processes, added up, sampled until cancelled, to read the CPU at a moment."""

    def __init__(self, pids: list[int | None]) -> None:
        self.pids = pids
        self.samples: list[tuple[float, float]] = []
        self.rss_peak_kib: int | None = None

    async def run(self) -> None:
        """Sample every ``CPU_SAMPLE_S`` until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(CPU_SAMPLE_S)

    def sample(self) -> None:
        """Take one sample now."""
        cpu = summed([proc_stats.cpu_seconds(pid) for pid in self.pids])
        if cpu is not None:
            self.samples.append((time.time(), cpu))
        rss = summed([rss_kib(pid) for pid in self.pids])
        self.rss_peak_kib = max(self.rss_peak_kib or 0, rss or 0) or None

    def cpu_at(self, at: float | None) -> float | None:
        """The CPU seconds of the first sample taken at or after ``at`` (an upper bound at ``at``)."""
        if at is None:
            return None
        if not self.samples or self.samples[-1][0] < at:
            self.sample()
        return next((cpu for taken_at, cpu in self.samples if taken_at >= at), None)


@contextlib.asynccontextmanager
async def _control_session(target: Target) -> Any:
    headers = {"Authorization": f"Bearer {target.token}"}
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=300)) as http:
        yield http


async def _stored_desired(http: aiohttp.ClientSession, target: Target, cp_id: str) -> StoredDesiredState:
    """The desired state the gateway holds for ``cp_id``: every benchmark charger got the same one."""
    async with http.get(f"{target.control_url}/v1/chargers/{cp_id}/desired") as response:
        response.raise_for_status()
        return StoredDesiredState.model_validate_json(await response.read())


async def _wait_settled(
    http: aiohttp.ClientSession,
    target: Target,
    ids: set[str],
    desired: StoredDesiredState,
    *,
    since: datetime | None,
    timeout_s: float,
) -> int:
    """Read the gateway's observed state until every charger of ``ids`` is connected (since ``since``)
    and settled (``is_settled``: converged to ``desired``, no error since), or ``timeout_s`` passed; how
    many are."""
    deadline = time.monotonic() + timeout_s
    while True:
        polled_at = time.monotonic()
        async with http.get(f"{target.control_url}/v1/chargers") as response:
            response.raise_for_status()
            observed = OBSERVED_LIST.validate_json(await response.read())
        settled = sum(
            1
            for state in observed
            if state.charge_point_id in ids
            and state.connected
            and (since is None or (state.connected_since is not None and state.connected_since >= since))
            and is_settled(desired, state)
        )
        if settled == len(ids) or time.monotonic() >= deadline:
            return settled
        # Reading 50,000 observed states is work for the gateway under test: keep it to a fifth of the time.
        await asyncio.sleep(max(OBSERVED_POLL_S, 4 * (time.monotonic() - polled_at)))


def _spread(moments: array, origin: float) -> dict[str, float | None]:  # type: ignore[type-arg]
    """p50, p90 and max of ``moments`` (wall clock) as seconds after ``origin``."""
    if not moments:
        return {"p50": None, "p90": None, "max": None}
    ordered = sorted(moments)

    def at(q: float) -> float:
        return round(float(ordered[min(len(ordered) - 1, int(q * len(ordered)))]) - origin, 2)

    return {"p50": at(0.50), "p90": at(0.90), "max": round(ordered[-1] - origin, 2)}


def _minus(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _receive(pipe: Any, event: str) -> dict[str, Any]:
    try:
        message: dict[str, Any] = pipe.recv()
    except EOFError:
        raise RuntimeError("a load-generator worker died; run with fewer chargers per worker") from None
    if message.get("event") != event:
        raise RuntimeError(f"worker sent {message.get('event')!r}, expected {event!r}")
    return message


def percentiles(latencies: array) -> dict[str, float | None]:  # type: ignore[type-arg]
    """p50, p90, p99 and max of ``latencies`` (seconds), in milliseconds."""
    if not latencies:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(1000 * ordered[-1], 2)}


def slow_calls(latencies: array, replied_at: array, *, over_s: float = 1.0) -> dict[str, Any]:  # type: ignore[type-arg]
    """How many calls took over ``over_s``, and when (seconds into the window, by 10 s): a steady tail
    and a stall of the whole server look different here."""
    if not replied_at:
        return {"over_1s": 0, "by_10s": {}}
    start = min(replied_at)
    buckets: Counter[int] = Counter()
    for latency, at in zip(latencies, replied_at, strict=True):
        if latency > over_s:
            buckets[int((at - start) // 10) * 10] += 1
    return {"over_1s": sum(buckets.values()), "by_10s": dict(sorted(buckets.items()))}


def _percent(before: float | None, after: float | None, seconds: float) -> float | None:
    """CPU time spent between two readings, as a percentage of one core over ``seconds``."""
    return None if before is None or after is None else round(100 * (after - before) / seconds, 1)


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def _progress(text: str, args: argparse.Namespace) -> None:
    if not args.quiet:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# Runs ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Gateways:
    """The gateway(s) under load, and the PostgreSQL server they share when this benchmark started one."""

    targets: list[Target]
    database_pid: int | None = None


@contextlib.contextmanager
def gateway_targets(args: argparse.Namespace) -> Iterator[Gateways]:
    """The gateway under load: the one at ``--gateway-url``, or fresh processes in a temporary dir."""
    if args.gateway_url:
        target = Target(
            name="gateway",
            ws_url=args.gateway_url.rstrip("/"),
            pid=args.gateway_pid,
            control_url=args.control_url,
            token=args.token or os.environ.get("CHARGEOPS_GATEWAY_TOKEN"),
        )
        yield Gateways([target])
        return
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chargeops-bench-")))
        database_url, database_pid = None, None
        if args.postgres:
            from chargeops.devcluster import postgres  # noqa: PLC0415 - only this option needs the server

            server = stack.enter_context(postgres.PostgresServer.start())
            database_url, database_pid = server.create_database("bench"), server.pid
        targets: list[Target] = []
        try:
            for index in range(args.replicas):
                replica_id = f"gateway-{index + 1}" if args.replicas > 1 else None
                # One after another: the first migrates the empty database, the others find it current.
                # All share the first one's control API token.
                token = targets[0].token if targets else None
                targets.append(
                    start_gateway(workdir, args, token=token, database_url=database_url, replica_id=replica_id)
                )
            yield Gateways(targets, database_pid)
        finally:
            for target in targets:
                target.stop()
            for target in targets if args.keep_log else ():
                suffix = "" if len(targets) == 1 else f".{target.name}"
                if target.log_path is not None:
                    shutil.copy(target.log_path, args.keep_log.with_name(args.keep_log.name + suffix))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Everything the command line asked for; the figures as one document."""
    load_client.raise_open_file_limit()
    count = args.chargers
    document: dict[str, Any] = {"command": " ".join(sys.argv), "load_average_at_start": load_average()}
    with gateway_targets(args) as gateways:
        if not args.skip_registration:
            _progress(f"registering {count} chargers", args)
            ids = [CHARGER_ID.format(index) for index in range(count)]
            document["registration_s"] = round(await register(gateways.targets, ids, args), 1)
        if args.register_only:
            return document
        if args.mode == "reconnect-storm":
            document["gateway"] = await storm(gateways.targets, args, count)
            return document
        document["gateway"] = await drive(gateways.targets, args, args.mode, count, database_pid=gateways.database_pid)
    if args.echo_baseline:
        echo = start_echo(args)
        try:
            document["echo"] = await drive([echo], args, args.mode, count)
        finally:
            echo.stop()
        gateway_rate, echo_rate = document["gateway"]["messages_per_s"], document["echo"]["messages_per_s"]
        document["gateway_to_echo"] = round(gateway_rate / echo_rate, 3) if echo_rate else None
    return document


def table(document: dict[str, Any]) -> str:
    """The figures as a plain-text table, one column per server."""
    columns = [name for name in ("gateway", "echo") if name in document]
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, render: Any) -> None:
        rows.append((label, [render(document[name]) for name in columns]))

    row("chargers connected / held at end", lambda r: f"{r['connected']} / {r['held']}")
    row("connect + boot, all chargers", lambda r: f"{r['connect_s']:.1f} s")
    row("connects answered 503, retried", lambda r: str(r.get("busy_retries", 0)))
    row("set-ups begun again / closed, came back", lambda r: f"{r.get('setup_retries', 0)} / {r.get('rejoined', 0)}")
    row(
        "not held: on the way back / given up",
        lambda r: f"{r.get('rejoining_at_end', 0)} / {r.get('rejoins_given_up', 0)}",
    )
    row("boots answered Pending, booted again", lambda r: str(r.get("boot_pending", 0)))
    row("set-up status errors, passed over", lambda r: str(r.get("setup_status_errors", 0)))
    row("window", lambda r: f"{r['window_s']:.1f} s")
    row("messages (replies in window)", lambda r: str(r["messages"]))
    row("messages/s", lambda r: f"{r['messages_per_s']:.0f}")
    row("latency p50 / p99", lambda r: f"{_ms(r['latency_ms']['p50'])} / {_ms(r['latency_ms']['p99'])}")
    row("latency max", lambda r: _ms(r["latency_ms"]["max"]))
    row("errors", lambda r: _errors(r["errors"]))
    row("server RSS end / peak", lambda r: f"{r['server_rss_mib']} / {r['server_rss_peak_mib']} MiB")
    row("server RSS per connection", lambda r: f"{r['server_rss_per_connection_kib']} KiB")
    row("server CPU (of one core)", lambda r: f"{r['server_cpu_percent']}%")
    row(
        "database CPU (of one core)",
        lambda r: "-" if r["database_cpu_percent"] is None else f"{r['database_cpu_percent']}%",
    )
    row("client CPU (all workers)", lambda r: f"{r['client_cpu_percent']}%")
    row("server loop lag p50 / p99 (≤, ms)", _loop_lag)
    row("server processes / client workers", lambda r: f"{r['replicas']} / {r['workers']}")
    row("server log warnings", lambda r: str(r["server_log_warnings"]))
    row("load average before / after", lambda r: f"{r['load_average_before'][0]} / {r['load_average_after'][0]}")
    width = max(len(label) for label, _ in rows)
    value_width = max(16, *(len(value) for _, values in rows for value in values))
    lines = [f"{'':{width}}  " + "  ".join(f"{name:>{value_width}}" for name in columns)]
    lines += [f"{label:{width}}  " + "  ".join(f"{v:>{value_width}}" for v in values) for label, values in rows]
    first = document["gateway"]
    header = f"{first['mode']} load, {first['chargers']} chargers — {document['command']}"
    extra = []
    if "registration_s" in document:
        extra.append(f"registration of {first['chargers']} chargers: {document['registration_s']} s")
    if document.get("gateway_to_echo") is not None:
        extra.append(f"gateway / echo messages/s: {document['gateway_to_echo']:.2f}")
    return "\n".join([header, *lines, *extra])


def _loop_lag(result: dict[str, Any]) -> str:
    lag = result.get("server_loop_lag")
    if not lag:
        return "-"
    return f"{lag['p50_le_ms']:g} / {lag['p99_le_ms']:g}; {lag['over_100ms']} of {lag['samples']} > 100"


def storm_table(document: dict[str, Any]) -> str:
    """The figures of a reconnect storm as a plain-text table."""
    result = document["gateway"]
    reconnect, converge, cpu = result["reconnect_s"], result["converge_s"], result["server_cpu_s"]
    spread = result["reconnect_spread_s"]
    rows = [
        ("gateway processes (replicas)", str(result.get("replicas", 1))),
        ("chargers connected and booted", f"{result['connected']} in {result['connect_s']:.1f} s"),
        ("observed state all converged after", f"{result['converged_before_restart_s']:.1f} s"),
        ("gateway stopped by", f"{result['signal']} in {result['stop_s']:.1f} s"),
        ("gateway listening again after", f"{result['start_s']:.1f} s"),
        ("chargers cut / reconnected", f"{result['cut']} / {result['reconnected']}"),
        ("all reconnected, from signal / start", f"{_s(reconnect['from_signal'])} / {_s(reconnect['from_start'])}"),
        (
            "reconnected p50 / p90 / max after listen",
            f"{_s(spread['p50'])} / {_s(spread['p90'])} / {_s(spread['max'])}",
        ),
        ("converged (observed state)", f"{result['converged']} of {result['chargers']}"),
        ("all converged, from signal / start", f"{_s(converge['from_signal'])} / {_s(converge['from_start'])}"),
        ("connect attempts / answered 503", f"{result['attempts']} / {result['busy_retries']}"),
        ("failed attempts (retried)", _counts(result["failures"])),
        ("status errors after reconnect", str(result["status_errors"])),
        ("gateway calls after restart", _counts(result["gateway_calls_after_restart"])),
        ("chargers changed after restart", str(result["changed_after_restart"])),
        ("connections dropped once back (came back again)", str(result["dropped_after_return"])),
        ("held at end", str(result["held"])),
        ("server CPU: start / to reconnected", f"{_s(cpu['start'])} / {_s(cpu['until_reconnected'])}"),
        ("server CPU to converged (of one core)", f"{_s(cpu['until_converged'])} ({result['server_cpu_percent']}%)"),
        ("server CPU per reconnect", f"{result['server_cpu_ms_per_reconnect']} ms"),
        ("server RSS end / peak", f"{result['server_rss_mib']} / {result['server_rss_peak_mib']} MiB"),
        ("client CPU (all workers)", f"{result['client_cpu_percent']}%"),
        ("server log warnings", str(result["server_log_warnings"])),
        ("load average before / after", f"{result['load_average_before'][0]} / {result['load_average_after'][0]}"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:{width}}  {value}" for label, value in rows]
    header = f"reconnect storm, {result['chargers']} chargers — {document['command']}"
    extra = [f"registration of {result['chargers']} chargers: {document['registration_s']} s"]
    return "\n".join([header, *lines, *(extra if "registration_s" in document else [])])


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _errors(errors: dict[str, int]) -> str:
    details = ", ".join(f"{name} {count}" for name, count in errors.items() if count and name != "total")
    return f"{errors['total']}" + (f" ({details})" if details else "")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("realistic", "saturation", "reconnect-storm"), default="realistic")
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--duration", type=float, default=30.0, help="Seconds of the measured window.")
    parser.add_argument("--heartbeat-s", type=float, default=60.0, help="Heartbeat interval (realistic).")
    parser.add_argument("--meter-interval-s", type=float, default=60.0, help="MeterValues interval (realistic).")
    parser.add_argument("--charging-fraction", type=float, default=0.3, help="Chargers in a transaction.")
    parser.add_argument("--id-tags", type=int, default=2, help="Id tags per charger (0: free charging).")
    parser.add_argument("--window", type=int, default=4, help="Outstanding calls per connection (saturation).")
    parser.add_argument(
        "--mix",
        default="Heartbeat=3,StatusNotification=1,MeterValues=1",
        help="Saturation actions and weights.",
    )
    parser.add_argument("--echo-baseline", action="store_true", help="Also run the load against echo_server.py.")
    parser.add_argument("--workers", type=int, default=0, help="Load-generator processes (0: automatic).")
    parser.add_argument("--per-address", type=int, default=DEFAULT_PER_ADDRESS, help="Chargers per source address.")
    parser.add_argument("--source-addresses", choices=("auto", "none"), default="auto")
    parser.add_argument("--connect-concurrency", type=int, default=64, help="Handshakes in flight, all workers.")
    parser.add_argument("--register-concurrency", type=int, default=16, help="Control API PUTs in flight.")
    parser.add_argument("--call-timeout-s", type=float, default=60.0, help="A call without reply is an error.")
    parser.add_argument("--kill", action="store_true", help="Reconnect storm: SIGKILL the gateway, not SIGTERM.")
    parser.add_argument(
        "--password-key",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Give the gateways a shared password key: a restart costs no scrypt per charger (as the Helm chart does).",
    )
    parser.add_argument(
        "--reconnect-jitter-s", type=float, default=1.0, help="Reconnect storm: a charger's random wait, at most."
    )
    parser.add_argument(
        "--reconnect-retry-s", type=float, default=1.0, help="Reconnect storm: wait after a refused connect."
    )
    parser.add_argument(
        "--reconnect-retry-max-s",
        type=float,
        default=30.0,
        help="Reconnect storm: the wait after a refused connect doubles after each, up to this.",
    )
    parser.add_argument(
        "--storm-timeout-s", type=float, default=900.0, help="Reconnect storm: a charger gives up after this."
    )
    parser.add_argument(
        "--settle-timeout-s", type=float, default=600.0, help="Reconnect storm: longest wait for convergence."
    )
    parser.add_argument("--host", default="127.0.0.1", help="Where the started gateway listens.")
    parser.add_argument("--gateway-url", help="Load a running gateway instead: ws://HOST:PORT/ocpp")
    parser.add_argument("--control-url", help="Its control API, http://HOST:PORT (with --gateway-url).")
    parser.add_argument("--token", help="Its control API token (else $CHARGEOPS_GATEWAY_TOKEN).")
    parser.add_argument("--gateway-pid", type=int, help="Its process id, to read RSS and CPU.")
    parser.add_argument("--database", type=Path, help="SQLite file for the started gateway (kept).")
    parser.add_argument("--postgres", action="store_true", help="Start the gateway(s) on a throwaway PostgreSQL.")
    parser.add_argument("--replicas", type=int, default=1, help="Gateway processes sharing the store (--postgres).")
    parser.add_argument("--skip-registration", action="store_true", help="The chargers are registered already.")
    parser.add_argument("--register-only", action="store_true", help="Register the chargers (see --database), stop.")
    parser.add_argument("--gateway-log-level", default="INFO")
    parser.add_argument("--keep-log", type=Path, help="Copy the started gateway's log here.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="Print one JSON document instead of the table.")
    parser.add_argument("--quiet", action="store_true", help="No progress lines on stderr.")
    args = parser.parse_args(argv)
    if args.replicas < 1 or (args.replicas > 1 and not args.postgres):
        parser.error("--replicas takes a positive count, and more than one share a store only with --postgres")
    if args.postgres and (args.database or args.gateway_url):
        parser.error("--postgres starts its own gateways and store: not with --database or --gateway-url")
    return args


def main() -> None:
    args = parse_args()
    document = asyncio.run(run(args))
    if args.json or args.register_only:
        print(json.dumps(document, indent=2))
    else:
        print(storm_table(document) if args.mode == "reconnect-storm" else table(document))


if __name__ == "__main__":
    main()
