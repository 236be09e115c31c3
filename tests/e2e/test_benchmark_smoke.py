"""``bench/gateway_load.py`` still runs end to end: a small load in each mode, checked for shape only.

The benchmark's numbers belong in the README, not in assertions: this only proves that the script
starts a gateway, registers and connects its lean chargers, drives them and reports a sane document,
with every charger held and no errors. Timing is never asserted.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

BENCHMARK = Path(__file__).resolve().parents[2] / "bench" / "gateway_load.py"


def run_benchmark(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), *args, "--json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def assert_clean(result: dict[str, Any], *, chargers: int) -> None:
    assert result["connected"] == chargers
    assert result["held"] == chargers
    assert result["messages"] > 0
    assert result["messages_per_s"] > 0
    assert result["errors"]["total"] == 0, result["error_samples"]
    assert set(result["latency_ms"]) == {"p50", "p90", "p99", "max"}
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p99"] <= result["latency_ms"]["max"]


def test_a_realistic_run_holds_every_charger_and_reports_its_traffic() -> None:
    # Intervals shorter than the window, so even 20 chargers send something while it is measured.
    document = run_benchmark(
        "--mode", "realistic", "--chargers", "20", "--duration", "5", "--heartbeat-s", "1", "--meter-interval-s", "1"
    )
    result = document["gateway"]
    assert_clean(result, chargers=20)
    assert result["server_log_warnings"] == 0, result["server_log_samples"]
    assert result["server_rss_mib"] > 0
    assert {"Heartbeat", "MeterValues"} <= set(result["by_action"])
    # The gateway converged every charger, and the lean chargers answered it.
    assert result["gateway_calls"]["GetConfiguration"] == 20
    assert result["gateway_calls"]["SendLocalList"] == 20


def test_a_saturation_run_reports_the_gateway_beside_the_echo_server() -> None:
    document = run_benchmark("--mode", "saturation", "--chargers", "5", "--duration", "3", "--echo-baseline")
    assert_clean(document["gateway"], chargers=5)
    assert_clean(document["echo"], chargers=5)
    assert {"Heartbeat", "StatusNotification", "MeterValues"} <= set(document["gateway"]["by_action"])
    assert document["gateway_to_echo"] > 0


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
def test_a_reconnect_storm_brings_every_charger_back_converged(kill: bool) -> None:
    # Short waits, so that a charger that never returns fails the run instead of its timeout.
    waits = ("--storm-timeout-s", "60", "--settle-timeout-s", "60")
    document = run_benchmark("--mode", "reconnect-storm", "--chargers", "20", *waits, *(["--kill"] if kill else []))
    result = document["gateway"]
    assert result["signal"] == ("SIGKILL" if kill else "SIGTERM")
    assert result["connected"] == 20
    assert result["cut"] == 20
    assert result["reconnected"] == 20
    # Converged as the restarted gateway's observed state says, and it had nothing to change on any.
    assert result["converged"] == 20
    assert result["changed_after_restart"] == 0
    assert result["dropped_after_return"] == 0  # nothing here drops a charger that is back
    assert result["held"] == 20
    assert result["status_errors"] == 0, result["error_samples"]
    for figures in (result["reconnect_s"], result["converge_s"]):
        assert set(figures) == {"from_signal", "from_start", "from_listening"}
        assert None not in figures.values()
    assert result["reconnect_spread_s"]["p50"] is not None
    assert result["server_cpu_s"]["until_converged"] is not None
    assert result["server_cpu_ms_per_reconnect"] is not None
    assert result["server_rss_peak_mib"] > 0


@pytest.mark.postgres
def test_replicas_on_postgres_share_the_chargers_and_report_the_database() -> None:
    document = run_benchmark(
        "--mode", "realistic", "--chargers", "12", "--duration", "4", "--heartbeat-s", "1", "--meter-interval-s", "1",
        "--replicas", "3", "--postgres",
    )  # fmt: skip
    result = document["gateway"]
    assert_clean(result, chargers=12)
    assert result["replicas"] == 3
    # Each replica's share has its own workers, and each replica converged the chargers dealt to it.
    assert result["workers"] == 3
    assert result["gateway_calls"]["GetConfiguration"] == 12
    assert result["server_log_warnings"] == 0, result["server_log_samples"]
    assert result["database_cpu_percent"] is not None
    assert result["server_loop_lag"]["samples"] > 0


@pytest.mark.postgres
def test_a_reconnect_storm_over_replicas_restarts_them_all_and_brings_every_charger_back() -> None:
    document = run_benchmark(
        "--mode", "reconnect-storm", "--chargers", "12", "--replicas", "3", "--postgres",
        "--storm-timeout-s", "60", "--settle-timeout-s", "60",
    )  # fmt: skip
    result = document["gateway"]
    assert result["replicas"] == 3
    # Every replica was stopped: each one's chargers were cut, not only the first one's.
    assert result["cut"] == 12
    assert result["reconnected"] == 12
    assert result["converged"] == 12
    assert result["changed_after_restart"] == 0
    assert result["held"] == 12
    assert result["server_log_warnings"] == 0, result["server_log_samples"]
