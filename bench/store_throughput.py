"""How many OCPP transactions per second the gateway's store records, on SQLite and on PostgreSQL.

A benchmark, not a test: it prints numbers. Each "1.6 transaction" is StartTransaction, one MeterValues
and StopTransaction (three store calls, three commits); each "2.0.1 transaction" is TransactionEvent
Started, two Updated and Ended (four calls); each "reads" is what a drift check reads first, the desired and
the observed state of one of 500 chargers (two calls); each "connect" is what a charger's first
connection stores of it: arrival, boot, two StatusNotifications and a convergence's outcome (five calls);
each "meter" is one MeterValues (a reading and the message kept) of one of 500 open transactions.
``--concurrency`` tasks share one Store, as the chargers of one gateway process do. PostgreSQL is a
throwaway server from ``chargeops.devcluster.postgres`` (fsync off, like the tests: this measures the
store's code and round trips, not the disk).

    .venv/bin/python bench/store_throughput.py --transactions 2000 --concurrency 1 50

"CPU ms/call" is this process's CPU time (the store's side: SQLAlchemy, the driver, the event loop)
divided by the store calls made.
"""

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chargeops.devcluster import postgres
from chargeops.ocpp_gateway.store import Store

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CHARGERS = 500


async def ocpp16(store: Store, n: int) -> None:
    cp_id, at = f"CP-{n % 500}", T0 + timedelta(seconds=n)
    started = await store.start_transaction(cp_id, connector_id=1, id_tag="TAG", meter_start_wh=n, timestamp=at)
    await store.add_meter_values(
        cp_id, connector_id=1, transaction_id=str(started.transaction_id), readings=[(at + timedelta(minutes=1), n + 5)]
    )
    await store.stop_transaction(
        cp_id,
        started.transaction_id,
        meter_stop_wh=n + 10,
        timestamp=at + timedelta(minutes=2),
        reason=None,
        id_tag=None,
    )


async def ocpp201(store: Store, n: int) -> None:
    cp_id, at = f"CP-{n % 500}", T0 + timedelta(seconds=n)
    for seq_no, kind in enumerate(("Started", "Updated", "Updated", "Ended")):
        await store.record_transaction_event(
            cp_id,
            event_type=kind,  # type: ignore[arg-type]
            transaction_id=f"tx-{n}",
            seq_no=seq_no,
            timestamp=at + timedelta(minutes=seq_no),
            connector_id=1,
            id_tag="TAG",
            meter_wh=n + seq_no * 10,
            offline=False,
            stopped_reason="Local" if kind == "Ended" else None,
            raw={"seqNo": seq_no},
        )


async def reads(store: Store, n: int) -> None:
    cp_id = f"CP-{n % CHARGERS}"
    await store.get_desired(cp_id)
    await store.get_observed(cp_id)


async def connect(store: Store, n: int) -> None:
    cp_id, at = f"NEW-{n}", T0 + timedelta(seconds=n)
    arrival = {"connected": True, "connected_since": at, "last_seen": at, "ocpp_version": "1.6", "replica": "r1"}
    await store.update_observed(cp_id, arrival, now=at)
    await store.update_observed(cp_id, {"vendor": "Bench", "model": "B1", "firmware_version": "1.0"}, now=at)
    for connector in ("0", "1"):
        await store.update_observed(cp_id, {"connector_status": {connector: "Available"}}, now=at)
    outcome = {
        "configuration": {"AuthorizeRemoteTxRequests": "true", "LocalAuthListEnabled": "true"},
        "configuration_results": {},
        "local_list_version": 1,
        "local_list": ["TAG-1", "TAG-2"],
        "applied_revision": n,
        "converged_at": at,
        "last_error": None,
        "last_error_at": None,
    }
    await store.update_observed(cp_id, outcome, replace=("configuration", "configuration_results"), now=at)


async def meter(store: Store, n: int) -> None:
    # ``run`` started one transaction per charger on the fresh store, so CP-k's transaction id is k + 1.
    cp = n % CHARGERS
    await store.add_meter_values(
        f"CP-{cp}",
        connector_id=1,
        transaction_id=str(cp + 1),
        readings=[(T0 + timedelta(seconds=n), n)],
        raw=[{"timestamp": "t", "sampledValue": [{"value": str(n)}]}],
    )


WORKLOADS: dict[str, tuple[Callable[[Store, int], Awaitable[None]], int]] = {
    "1.6": (ocpp16, 3),
    "2.0.1": (ocpp201, 4),
    "reads": (reads, 2),
    "connect": (connect, 5),
    "meter": (meter, 1),
}


async def run(url: str, workload: str, *, transactions: int, concurrency: int) -> tuple[float, float]:
    """Transactions per second for one workload on a fresh store at ``url``, and CPU seconds spent."""
    work, _ = WORKLOADS[workload]
    async with await Store.open(url) as store:
        if workload == "reads":
            for n in range(CHARGERS):
                await store.update_observed(f"CP-{n}", {"connected": True, "vendor": "bench"})
        if workload == "meter":
            for n in range(CHARGERS):
                started = await store.start_transaction(
                    f"CP-{n}", connector_id=1, id_tag="TAG", meter_start_wh=0, timestamp=T0
                )
                assert started.transaction_id == n + 1, "a fresh store numbers its transactions from 1"
        numbers = iter(range(transactions))

        async def worker() -> None:
            for n in numbers:
                await work(store, n)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return transactions / (time.perf_counter() - started), time.process_time() - cpu


@contextlib.contextmanager
def databases(backend: str) -> Iterator[postgres.PostgresServer | Path]:
    if backend == "postgresql":
        with postgres.PostgresServer.start() as server:
            yield server
    else:
        with tempfile.TemporaryDirectory(prefix="store-bench-") as folder:
            yield Path(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    args = parser.parse_args()
    print(
        f"{'backend':<11} {'workload':<9} {'concurrency':>11} {'transactions/s':>15} {'store calls/s':>14}"
        f" {'CPU ms/call':>12}"
    )
    for backend in args.backends:
        with databases(backend) as where:
            for workload in args.workloads:
                calls = WORKLOADS[workload][1]
                for concurrency in args.concurrency:
                    if isinstance(where, postgres.PostgresServer):
                        url = where.create_database()
                    else:
                        url = f"sqlite+aiosqlite:///{where / f'{workload}-{concurrency}.db'}"
                    rate, cpu_s = asyncio.run(
                        run(url, workload, transactions=args.transactions, concurrency=concurrency)
                    )
                    per_call_ms = cpu_s * 1000 / (args.transactions * calls)
                    print(
                        f"{backend:<11} {workload:<9} {concurrency:>11} {rate:>15.0f} {rate * calls:>14.0f}"
                        f" {per_call_ms:>12.2f}"
                    )


if __name__ == "__main__":
    main()
