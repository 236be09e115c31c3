"""Bill a month of sessions from the gateway's store into invoice specs and time it: a benchmark.

Issue #5: 1,000,000 sessions over 10,000 subscriptions in the store → time to produce all invoices' lines
and peak memory (goal: under 60 s, with memory that does not grow with the session count).

The script:

1. makes the store: a SQLite file (or a throwaway PostgreSQL, ``--database postgresql``) migrated by
   ``Store.open`` and filled in bulk with the month of ``billing_data`` (kept in ``--data-dir`` and
   reused when the shape matches, since loading a million sessions takes a minute or two);
2. starts the gateway on it (``chargeops gateway``, its own process) and ``--workers`` billing processes,
   each with its share of the sites (``billing_data.site_world``: sites, chargers, tariffs and
   subscriptions built in memory);
3. on one signal, every worker runs ``billing_pass.bill_site`` — the operator's billing pass — over its
   sites through the control API, as the operator would: sessions listed with their readings
   (``withReadings``, as integer columns: ``readingsFormat=offsets``), priced, and an ``InvoiceSpec``
   built per subscription and month;
4. reports the wall time from the signal to the last worker's end, sessions, lines and invoices, the
   gateway requests, the peak RSS of each worker (``getrusage``) and of the gateway (``VmHWM``), CPU
   and the load average.

The invoices are not written to Kubernetes: a store stand-in counts each draft (``CountingStore``) and
drops it. Writing 10,000 objects is the API server's work and is not part of this figure.

It prints a table and, as its last line, the same figures as one JSON document. Timing is what it
reports, never what it asserts.

    .venv/bin/python bench/billing_run.py --subscriptions 10000 --sessions 1000000 --workers 2
    .venv/bin/python bench/billing_run.py --subscriptions 10000 --sessions 100000 --workers 2
"""

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import billing_data
import proc_stats
from billing_data import Shape

from chargeops.api.v1alpha1 import Invoice, InvoiceSpec, LineKind
from chargeops.operator import billing_pass, metrics
from chargeops.operator import main as operator_main
from chargeops.operator.gateway_client import GatewayClient
from chargeops.operator.invoice_store import InvoiceStore

READY_LINE = re.compile(r"chargers on port (\d+), control API on port (\d+)")
GOAL_S = 60.0


# The store stand-in ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Tally:
    """What the drafts held, added up; ``digest`` (optional) fingerprints every spec."""

    invoices: int = 0
    lines: dict[str, int] = dataclasses.field(default_factory=dict)
    most_lines: int = 0
    review: int = 0
    subtotal: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    digest: int = 0

    def add(self, other: "Tally") -> None:
        self.invoices += other.invoices
        for kind, count in other.lines.items():
            self.lines[kind] = self.lines.get(kind, 0) + count
        self.most_lines = max(self.most_lines, other.most_lines)
        self.review += other.review
        self.subtotal += other.subtotal
        self.total += other.total
        self.digest ^= other.digest


class CountingStore:
    """An ``InvoiceStore`` that counts each draft instead of writing it to the API server."""

    def __init__(self, *, digest: bool) -> None:
        self.tally = Tally()
        self.digest = digest

    async def for_site(self, namespace: str, site: str) -> dict[str, Invoice]:
        return {}

    async def get(self, namespace: str, name: str) -> Invoice | None:
        return None

    async def write_draft(self, namespace: str, name: str, spec: InvoiceSpec) -> Invoice:
        tally = self.tally
        tally.invoices += 1
        for line in spec.lines:
            tally.lines[line.kind.value] = tally.lines.get(line.kind.value, 0) + 1
        tally.most_lines = max(tally.most_lines, len(spec.lines))
        tally.subtotal += spec.subtotal
        tally.total += spec.total
        if self.digest:
            text = name + spec.model_dump_json(by_alias=True)
            tally.digest ^= int.from_bytes(hashlib.sha256(text.encode()).digest()[:16])
        metadata = {"name": name, "namespace": namespace, "generation": 1}
        return Invoice(kind="Invoice", metadata=metadata, spec=spec)

    async def patch_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        return None

    async def finalize(self, namespace: str, site: str, name: str, *, prefix: str) -> str:
        raise AssertionError("the benchmark bills within the grace period: nothing is finalized")


# Workers ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class WorkerResult:
    sites: int
    subscriptions: int
    tally: Tally
    requests: int
    seconds: float
    cpu_s: float
    rss_start_kib: int
    rss_peak_kib: int


@dataclasses.dataclass(frozen=True)
class Job:
    """One worker's share: its sites, and the gateway to bill them through."""

    shape: Shape
    sites: list[int]
    control_url: str
    token: str
    digest: bool


def worker(job: Job, ready: Any, go: Any, out: Any) -> None:
    """One billing process: build its sites' objects, wait for the signal, bill them, report."""
    shape, sites, control_url, token, digest = job.shape, job.sites, job.control_url, job.token, job.digest
    operator_main.settle_garbage_collector()  # as ``chargeops operator`` does once started
    worlds = [billing_data.site_world(shape, index) for index in sites]
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ready.put(os.getpid())
    go.wait()
    started, cpu_started = time.perf_counter(), time.process_time()
    tally, review = asyncio.run(_bill(worlds, control_url, token, digest=digest))
    tally.review = review
    # A plain dict crosses to the parent: classes of a spawned child's __main__ do not unpickle there.
    out.put(
        dataclasses.asdict(
            WorkerResult(
                sites=len(worlds),
                subscriptions=sum(len(world.subscriptions) for world in worlds),
                tally=tally,
                requests=_requests_made(),
                seconds=time.perf_counter() - started,
                cpu_s=time.process_time() - cpu_started,
                rss_start_kib=rss_start,
                rss_peak_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            )
        )
    )


async def _bill(
    worlds: list[billing_data.SiteWorld], control_url: str, token: str, *, digest: bool
) -> tuple[Tally, int]:
    store = CountingStore(digest=digest)
    review = 0
    async with GatewayClient(control_url, token=token) as gateway:
        for world in worlds:
            result = await billing_pass.bill_site(
                world.site,
                world.subscriptions,
                world.catalogue,
                gateway=gateway,
                store=cast(InvoiceStore, store),
                now=billing_data.NOW,
            )
            review += sum(result.review.values())
    return store.tally, review


def _requests_made() -> int:
    for family in metrics.REGISTRY.collect():
        if family.name == "chargeops_operator_gateway_request_duration_seconds":
            return int(sum(s.value for s in family.samples if s.name.endswith("_count")))
    return 0


def run_workers(
    shape: Shape, count: int, control_url: str, token: str, *, digest: bool
) -> tuple[float, list[WorkerResult]]:
    """Start ``count`` workers, give them the signal together, and wait for all; (wall seconds, results)."""
    context = multiprocessing.get_context("spawn")
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    shares = [list(range(shape.sites))[n::count] for n in range(count)]
    processes = [
        context.Process(target=worker, args=(Job(shape, share, control_url, token, digest), ready, go, out))
        for share in shares
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=600)
        started = time.perf_counter()
        go.set()
        results = [_result(out.get(timeout=3600)) for _ in processes]
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return elapsed, results


def _result(found: dict[str, Any]) -> WorkerResult:
    return WorkerResult(**(found | {"tally": Tally(**found["tally"])}))


# The store and the gateway ---------------------------------------------------------------------------


def prepare_sqlite(data_dir: Path, shape: Shape) -> tuple[str, dict[str, Any]]:
    """The SQLite store of ``shape`` in ``data_dir``, loaded unless an earlier run left the same one."""
    path = data_dir / "store.db"
    marker = data_dir / "shape.json"
    wanted = dataclasses.asdict(shape)
    if path.exists() and marker.exists():
        loaded = json.loads(marker.read_text())
        if loaded["shape"] == wanted:
            return f"sqlite+aiosqlite:///{path}", loaded | {"reused": True}
    for stale in data_dir.glob("store.db*"):
        stale.unlink()
    marker.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        sessions, readings = pool.apply(_load_sqlite, (url, path, shape))
    loaded = {"shape": wanted, "sessions": sessions, "readings": readings, "load_s": time.perf_counter() - started}
    marker.write_text(json.dumps(loaded))
    return url, loaded | {"reused": False}


def _load_sqlite(url: str, path: Path, shape: Shape) -> tuple[int, int]:
    asyncio.run(_migrate(url))
    return billing_data.load_sqlite(path, shape)


async def _migrate(url: str) -> None:
    from chargeops.ocpp_gateway.store import Store  # noqa: PLC0415 - the loader process alone opens the store

    store = await Store.open(url)
    await store.close()


@contextlib.contextmanager
def postgresql_store(shape: Shape) -> Iterator[tuple[str, dict[str, Any]]]:
    """A throwaway PostgreSQL with the store of ``shape`` loaded (by COPY)."""
    from chargeops.devcluster import postgres  # noqa: PLC0415 - only this mode needs the server

    with postgres.PostgresServer.start() as server:
        url = server.create_database()
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            sessions, readings = pool.apply(_load_postgresql, (url, shape))
        loaded = {"sessions": sessions, "readings": readings, "load_s": time.perf_counter() - started}
        yield url, loaded | {"reused": False}


def _load_postgresql(url: str, shape: Shape) -> tuple[int, int]:
    asyncio.run(_migrate(url))
    return billing_data.run_postgresql_load(url.replace("postgresql+asyncpg://", "postgresql://"), shape)


@dataclasses.dataclass
class Gateway:
    process: subprocess.Popen[str]
    control_url: str
    token: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_gateway(workdir: Path, database_url: str) -> Gateway:
    """``chargeops gateway`` on loopback over ``database_url``."""
    token = secrets.token_urlsafe(24)
    token_file = workdir / "gateway-token"
    token_file.write_text(token)
    log_path = workdir / "gateway.log"
    executable = Path(sys.executable).parent / "chargeops"
    command = [
        str(executable) if executable.exists() else shutil.which("chargeops") or "chargeops",
        "gateway",
        "--listen",
        "127.0.0.1:0",
        "--control-listen",
        "127.0.0.1:0",
        "--database-url",
        database_url,
        "--token-file",
        str(token_file),
        "--log-level",
        "WARNING",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"the gateway exited with {process.returncode}; see {log_path}")
        found = READY_LINE.search(line)
        if found:
            return Gateway(process, f"http://127.0.0.1:{found.group(2)}", token, log_path)
    process.kill()
    raise RuntimeError("the gateway did not start within 120 s")


# The run -------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    shape = Shape(
        subscriptions=args.subscriptions,
        sessions=args.sessions,
        subscriptions_per_site=args.subscriptions_per_site,
        chargers_per_site=args.chargers_per_site,
        seed=args.seed,
    )
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chargeops-billing-")))
        if args.database == "postgresql":
            database_url, loaded = stack.enter_context(postgresql_store(shape))
        else:
            data_dir = Path(args.data_dir) if args.data_dir else workdir
            data_dir.mkdir(parents=True, exist_ok=True)
            database_url, loaded = prepare_sqlite(data_dir, shape)
        gateway = start_gateway(workdir, database_url)
        stack.callback(gateway.stop)
        load_before = os.getloadavg()
        cpu_before = proc_stats.cpu_seconds(gateway.process.pid)
        elapsed, results = run_workers(shape, args.workers, gateway.control_url, gateway.token, digest=args.digest)
        cpu_after = proc_stats.cpu_seconds(gateway.process.pid)
        if cpu_before is None or cpu_after is None:
            raise RuntimeError("the gateway exited during the billing pass")
        gateway_cpu = cpu_after - cpu_before
        load_after = os.getloadavg()
        gateway_peak = proc_stats.status_kib(gateway.process.pid, "VmHWM") or 0
    tally = Tally()
    for result in results:
        tally.add(result.tally)
    return {
        "database": args.database,
        "shape": dataclasses.asdict(shape),
        "sites": shape.sites,
        "sessions_stored": loaded["sessions"],
        "readings_stored": loaded["readings"],
        "store_loaded_s": None if loaded["reused"] else round(loaded["load_s"], 1),
        "workers": args.workers,
        "seconds": round(elapsed, 2),
        "goal_s": GOAL_S,
        "subscriptions_billed": sum(r.subscriptions for r in results),
        "invoices": tally.invoices,
        "lines": dict(sorted(tally.lines.items())),
        "sessions_billed": tally.lines.get(LineKind.SESSION.value, 0),
        "most_lines_per_invoice": tally.most_lines,
        "review": tally.review,
        "subtotal": str(tally.subtotal),
        "total": str(tally.total),
        "digest": f"{tally.digest:032x}" if args.digest else None,
        "gateway_requests": sum(r.requests for r in results),
        "worker_seconds": [round(r.seconds, 2) for r in results],
        "worker_cpu_s": [round(r.cpu_s, 1) for r in results],
        "worker_rss_start_mib": [round(r.rss_start_kib / 1024, 1) for r in results],
        "worker_rss_peak_mib": [round(r.rss_peak_kib / 1024, 1) for r in results],
        "gateway_cpu_s": round(gateway_cpu, 1),
        # Comparable between runs on a shared machine, where the wall time depends on the neighbours.
        "cpu_ms_per_1000_sessions": round(
            (sum(r.cpu_s for r in results) + gateway_cpu) * 1e6 / max(loaded["sessions"], 1), 1
        ),
        "gateway_rss_peak_mib": round(gateway_peak / 1024, 1),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "cores": os.cpu_count(),
    }


def print_table(result: dict[str, Any]) -> None:
    shape = result["shape"]
    rows = [
        (
            "store",
            f"{result['database']}: {result['sessions_stored']:,} sessions, {result['readings_stored']:,} readings",
        ),
        (
            "store loaded in",
            "reused from --data-dir" if result["store_loaded_s"] is None else f"{result['store_loaded_s']} s",
        ),
        ("subscriptions / sites", f"{shape['subscriptions']:,} on {result['sites']:,} sites"),
        ("billing pass", f"{result['seconds']} s with {result['workers']} worker(s) (goal < {result['goal_s']:.0f} s)"),
        ("invoices drafted", f"{result['invoices']:,} (specs built, not written to Kubernetes)"),
        ("lines", ", ".join(f"{kind} {count:,}" for kind, count in result["lines"].items())),
        ("sessions for review", f"{result['review']:,}"),
        ("most lines on one invoice", f"{result['most_lines_per_invoice']:,}"),
        ("subtotal / total", f"{result['subtotal']} / {result['total']} EUR"),
        ("gateway requests", f"{result['gateway_requests']:,}"),
        (
            "worker RSS start -> peak",
            ", ".join(
                f"{a} -> {b} MiB"
                for a, b in zip(result["worker_rss_start_mib"], result["worker_rss_peak_mib"], strict=True)
            ),
        ),
        ("gateway peak RSS", f"{result['gateway_rss_peak_mib']} MiB"),
        (
            "CPU: workers / gateway",
            f"{' + '.join(str(c) for c in result['worker_cpu_s'])} s / {result['gateway_cpu_s']} s",
        ),
        (
            "CPU per 1,000 sessions, all processes",
            f"{result['cpu_ms_per_1000_sessions']} ms (gateway's database server not counted)",
        ),
        (
            "load average (1 min) before, after",
            "{}, {} on {} cores".format(*result["load_average_before_after"], result["cores"]),
        ),
    ]
    if result["digest"]:
        rows.append(("digest of every spec", result["digest"]))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=1_000_000, help="sessions in the month, over all subscriptions")
    parser.add_argument("--subscriptions-per-site", type=int, default=100)
    parser.add_argument("--chargers-per-site", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="billing processes, each with a share of the sites")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--data-dir", help="keep the SQLite store here and reuse it when the shape matches")
    parser.add_argument("--digest", action="store_true", help="fingerprint every spec (costs time; to compare runs)")
    parser.add_argument("--json", action="store_true", help="print only the JSON document")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    result = run(args)
    if not args.json:
        print_table(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
