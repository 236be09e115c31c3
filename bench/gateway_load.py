"""Load the OCPP gateway with many lean chargers and print what it did: a benchmark, not a test.

The gateway runs as its own process (``chargeops gateway`` on a fresh SQLite file in a temporary
directory, or an existing one with ``--gateway-url``); this process registers the chargers through the
control API and then drives them from ``--workers`` load-generator processes (``load_client``), each
charger a websocket from a source address 127.0.0.2, 127.0.0.3, … (one address holds about 28,000
ephemeral ports, DESIGN.md). Both sides raise their open-file limit to the hard limit.

Modes:

- ``realistic``: every charger boots, reports its status, a ``--charging-fraction`` of them starts a
  transaction; then Heartbeat every ``--heartbeat-s`` and, while charging, MeterValues every
  ``--meter-interval-s``. The window of ``--duration`` seconds starts once all chargers are up.
- ``saturation``: every connection sends calls back to back, ``--window`` outstanding at a time, in
  the ``--mix`` of actions (MeterValues and StatusNotification reach the store). ``--echo-baseline``
  runs the same load against a bare websockets server (``echo_server.py``) for the ceiling.

It prints connections held at the end, messages/s (replies received in the window), client-side
p50/p99 call latency (send to reply), errors, the gateway's RSS and CPU, and the time to connect all
chargers. ``--json`` prints the same as one JSON document instead.

    .venv/bin/python bench/gateway_load.py --mode realistic --chargers 10000 --duration 120
    .venv/bin/python bench/gateway_load.py --mode saturation --chargers 100 --duration 30 --echo-baseline
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
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import load_client

from chargeops.api.gateway import AuthorizationMode, DesiredState

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


def start_gateway(workdir: Path, args: argparse.Namespace) -> Target:
    """``chargeops gateway`` on loopback with its own SQLite file, stderr (its log) to a file."""
    token = secrets.token_urlsafe(24)
    token_file = workdir / "token"
    token_file.write_text(token)
    database = args.database or workdir / "gateway.db"
    executable = Path(sys.executable).parent / "chargeops"
    command = [
        str(executable) if executable.exists() else shutil.which("chargeops") or "chargeops",
        "gateway",
        "--listen",
        f"{args.host}:0",
        "--control-listen",
        "127.0.0.1:0",
        "--database-url",
        f"sqlite+aiosqlite:///{database}",
        "--token-file",
        str(token_file),
        "--log-level",
        args.gateway_log_level,
    ]
    log_path = workdir / "gateway.log"
    with log_path.open("w") as log:
        # The gateway inherits this process's raised open-file limit.
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    found = _wait_for_line(process, READY_LINE, 120)
    target = Target(
        name="gateway",
        ws_url=f"ws://{args.host}:{found.group(1)}/ocpp",
        pid=process.pid,
        control_url=f"http://127.0.0.1:{found.group(2)}",
        token=token,
        process=process,
        log_path=log_path,
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
    """VmRSS of ``pid`` in KiB, from /proc."""
    if pid is None:
        return None
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU time of ``pid`` so far, from /proc."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (what ``uptime`` shows)."""
    return [round(value, 2) for value in os.getloadavg()]


def log_warnings(target: Target) -> tuple[int, list[str]]:
    """How many WARNING/ERROR lines the gateway logged, and the first few."""
    if target.log_path is None or not target.log_path.exists():
        return 0, []
    lines = [line for line in target.log_path.read_text().splitlines() if " WARNING " in line or " ERROR " in line]
    return len(lines), lines[:5]


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


async def register(target: Target, ids: list[str], args: argparse.Namespace) -> float:
    """PUT every charger's desired state, ``--register-concurrency`` at a time; the seconds it took."""
    assert target.control_url is not None
    body = desired_document(args)
    headers = {"Authorization": f"Bearer {target.token}", "Content-Type": "application/json"}
    started = time.perf_counter()
    pending = iter(ids)
    done = 0

    async def put_all(http: aiohttp.ClientSession) -> None:
        nonlocal done
        for cp_id in pending:
            async with http.put(f"{target.control_url}/v1/chargers/{cp_id}/desired", data=body) as response:
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


def plans(target: Target, args: argparse.Namespace, mode: str, count: int) -> list[load_client.Plan]:
    """Split ``count`` chargers over the worker processes."""
    workers = args.workers or (1 if mode == "saturation" else max(1, math.ceil(count / DEFAULT_PER_WORKER)))
    workers = min(workers, count)
    ids = [CHARGER_ID.format(index) for index in range(count)]
    addresses = source_addresses(args, count)
    return [
        load_client.Plan(
            url=target.ws_url,
            mode=mode,
            chargers=[(ids[index], addresses[index]) for index in range(worker, count, workers)],
            password=PASSWORD,
            id_tag=ID_TAG,
            heartbeat_s=args.heartbeat_s,
            meter_interval_s=args.meter_interval_s,
            charging_fraction=args.charging_fraction if mode == "realistic" else 1.0,
            window=args.window,
            mix=mix_sequence(args.mix),
            connect_concurrency=max(1, args.connect_concurrency // workers),
            call_timeout_s=args.call_timeout_s,
            seed=args.seed + worker,
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


async def drive(target: Target, args: argparse.Namespace, mode: str, count: int) -> dict[str, Any]:
    """Run the workers against ``target``; the merged figures."""
    context = multiprocessing.get_context("spawn")
    worker_plans = plans(target, args, mode, count)
    pipes, processes = [], []
    for plan in worker_plans:
        parent_end, child_end = context.Pipe()
        process = context.Process(target=load_client.run_worker, args=(plan, child_end), daemon=True)
        process.start()
        pipes.append(parent_end)
        processes.append(process)
    _progress(f"{target.name}: {len(processes)} worker(s) connecting {count} chargers", args)
    ready = [await asyncio.to_thread(_receive, pipe, "ready") for pipe in pipes]
    connected = sum(item["connected"] for item in ready)
    _progress(f"{target.name}: {connected}/{count} up in {max(item['connect_s'] for item in ready):.1f} s", args)

    rss_peak = rss_kib(target.pid)
    cpu_before = cpu_seconds(target.pid)
    load_before = load_average()
    window_started = time.perf_counter()
    for pipe in pipes:
        pipe.send({"command": "measure", "duration_s": args.duration})
    finished = [asyncio.create_task(asyncio.to_thread(_receive, pipe, "done")) for pipe in pipes]
    while not all(task.done() for task in finished):
        rss_peak = max(rss_peak or 0, rss_kib(target.pid) or 0)
        await asyncio.sleep(0.5)
    done = [task.result() for task in finished]
    window_s = time.perf_counter() - window_started
    cpu_after = cpu_seconds(target.pid)
    rss_end = rss_kib(target.pid)
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
    warnings, warning_samples = log_warnings(target)
    held = sum(item["held"] for item in done)
    result: dict[str, Any] = {
        "target": target.name,
        "mode": mode,
        "chargers": count,
        "workers": len(processes),
        "source_addresses": sorted({address for plan in worker_plans for _, address in plan.chargers if address}),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "connected": connected,
        "connect_s": round(max(item["connect_s"] for item in ready), 2),
        "connect_failures": dict(connect_failures),
        "busy_retries": sum(item.get("busy_retries", 0) for item in ready),
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
            round((rss_end - target.baseline_rss_kib) / held, 1)
            if rss_end and target.baseline_rss_kib and held
            else None
        ),
        "server_cpu_percent": (
            round(100 * (cpu_after - cpu_before) / window_s, 1)
            if cpu_after is not None and cpu_before is not None
            else None
        ),
        "client_cpu_percent": round(100 * sum(item["client_cpu_s"] for item in done) / window, 1),
        "server_log_warnings": warnings,
        "server_log_samples": warning_samples,
        "error_samples": [sample for item in done for sample in item["error_samples"]][:5],
    }
    return result


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


def _mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def _progress(text: str, args: argparse.Namespace) -> None:
    if not args.quiet:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# Runs ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def gateway_target(args: argparse.Namespace) -> Iterator[Target]:
    """The gateway under load: the one at ``--gateway-url``, or a fresh process in a temporary dir."""
    if args.gateway_url:
        yield Target(
            name="gateway",
            ws_url=args.gateway_url.rstrip("/"),
            pid=args.gateway_pid,
            control_url=args.control_url,
            token=args.token or os.environ.get("CHARGEOPS_GATEWAY_TOKEN"),
        )
        return
    with tempfile.TemporaryDirectory(prefix="chargeops-bench-") as workdir:
        target = start_gateway(Path(workdir), args)
        try:
            yield target
        finally:
            target.stop()
            if args.keep_log and target.log_path is not None:
                shutil.copy(target.log_path, args.keep_log)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Everything the command line asked for; the figures as one document."""
    load_client.raise_open_file_limit()
    count = args.chargers
    document: dict[str, Any] = {"command": " ".join(sys.argv), "load_average_at_start": load_average()}
    with gateway_target(args) as target:
        if not args.skip_registration:
            _progress(f"registering {count} chargers", args)
            seconds = await register(target, [CHARGER_ID.format(index) for index in range(count)], args)
            document["registration_s"] = round(seconds, 1)
        if args.register_only:
            return document
        document["gateway"] = await drive(target, args, args.mode, count)
    if args.echo_baseline:
        echo = start_echo(args)
        try:
            document["echo"] = await drive(echo, args, args.mode, count)
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
    row("window", lambda r: f"{r['window_s']:.1f} s")
    row("messages (replies in window)", lambda r: str(r["messages"]))
    row("messages/s", lambda r: f"{r['messages_per_s']:.0f}")
    row("latency p50 / p99", lambda r: f"{_ms(r['latency_ms']['p50'])} / {_ms(r['latency_ms']['p99'])}")
    row("latency max", lambda r: _ms(r["latency_ms"]["max"]))
    row("errors", lambda r: _errors(r["errors"]))
    row("server RSS end / peak", lambda r: f"{r['server_rss_mib']} / {r['server_rss_peak_mib']} MiB")
    row("server RSS per connection", lambda r: f"{r['server_rss_per_connection_kib']} KiB")
    row("server CPU (of one core)", lambda r: f"{r['server_cpu_percent']}%")
    row("client CPU (all workers)", lambda r: f"{r['client_cpu_percent']}%")
    row("client workers", lambda r: str(r["workers"]))
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


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _errors(errors: dict[str, int]) -> str:
    details = ", ".join(f"{name} {count}" for name, count in errors.items() if count and name != "total")
    return f"{errors['total']}" + (f" ({details})" if details else "")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("realistic", "saturation"), default="realistic")
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
    parser.add_argument("--host", default="127.0.0.1", help="Where the started gateway listens.")
    parser.add_argument("--gateway-url", help="Load a running gateway instead: ws://HOST:PORT/ocpp")
    parser.add_argument("--control-url", help="Its control API, http://HOST:PORT (with --gateway-url).")
    parser.add_argument("--token", help="Its control API token (else $CHARGEOPS_GATEWAY_TOKEN).")
    parser.add_argument("--gateway-pid", type=int, help="Its process id, to read RSS and CPU.")
    parser.add_argument("--database", type=Path, help="SQLite file for the started gateway (kept).")
    parser.add_argument("--skip-registration", action="store_true", help="The chargers are registered already.")
    parser.add_argument("--register-only", action="store_true", help="Register the chargers (see --database), stop.")
    parser.add_argument("--gateway-log-level", default="INFO")
    parser.add_argument("--keep-log", type=Path, help="Copy the started gateway's log here.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="Print one JSON document instead of the table.")
    parser.add_argument("--quiet", action="store_true", help="No progress lines on stderr.")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    document = asyncio.run(run(args))
    print(json.dumps(document, indent=2) if args.json or args.register_only else table(document))


if __name__ == "__main__":
    main()
