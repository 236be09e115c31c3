"""``bench/billing_run.py`` still runs end to end at a tiny size: checked for what it billed, never for time.

The benchmark's numbers belong in the README. This proves that the script loads a store, starts the
gateway, bills every subscription through the control API from its worker processes, and that what it
bills does not depend on how the sites are shared out, nor on the database.
"""

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chargeops.operator import billing_pass

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

BENCHMARK = Path(__file__).resolve().parents[2] / "bench" / "billing_run.py"
TINY = ["--subscriptions", "24", "--sessions", "400", "--subscriptions-per-site", "10", "--chargers-per-site", "4"]


def run_benchmark(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), *TINY, *args, "--digest", "--json"],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return document


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("billing-store")


@pytest.fixture(scope="module")
def one_worker(data_dir: Path) -> dict[str, Any]:
    return run_benchmark("--workers", "1", "--data-dir", str(data_dir))


def test_every_subscription_gets_an_invoice_with_every_session_billed_or_held(one_worker: dict[str, Any]) -> None:
    result = one_worker
    assert result["sessions_stored"] == 400
    assert result["readings_stored"] > 400
    assert result["invoices"] == result["subscriptions_billed"] == 24
    assert result["lines"]["MonthlyFee"] == 24
    # Every session of the month is the subscription's (its tag, a covered charger, within its dates).
    assert result["sessions_billed"] + result["review"] == 400
    # One listing per batch of a site's subscriptions (sites of 10, 10 and 4), readings embedded: no request
    # per session, nor per subscription.
    assert result["gateway_requests"] == sum(math.ceil(count / billing_pass.LISTING_BATCH) for count in (10, 10, 4))
    rss = zip(result["worker_rss_start_mib"], result["worker_rss_peak_mib"], strict=True)
    assert all(peak >= start > 0 for start, peak in rss)


def test_two_workers_bill_exactly_what_one_does_and_reuse_the_stored_month(
    one_worker: dict[str, Any], data_dir: Path
) -> None:
    result = run_benchmark("--workers", "2", "--data-dir", str(data_dir))
    assert result["store_loaded_s"] is None  # the first test's store, reused
    assert len(result["worker_seconds"]) == 2
    for key in ("invoices", "lines", "review", "subtotal", "total", "digest"):
        assert result[key] == one_worker[key], key


@pytest.mark.postgres
def test_postgresql_bills_exactly_what_sqlite_does(one_worker: dict[str, Any]) -> None:
    result = run_benchmark("--workers", "1", "--database", "postgresql")
    assert result["database"] == "postgresql"
    for key in ("invoices", "lines", "review", "subtotal", "total", "digest"):
        assert result[key] == one_worker[key], key
