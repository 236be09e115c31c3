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
