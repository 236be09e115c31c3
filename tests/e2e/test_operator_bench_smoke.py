"""``bench/operator_convergence.py`` still runs end to end: three chargers, two changes, checked for shape only.

The benchmark starts its own control plane, gateway, operator and simulated chargers; its numbers belong
in the README, not in assertions. This proves that every charger became Ready, that both kinds of change
reached the simulated chargers, and that the report carries the figures the README quotes. Timing is never
asserted.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chargeops.devcluster import binaries

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.timeout(420)]

BENCHMARK = Path(__file__).resolve().parents[2] / "bench" / "operator_convergence.py"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    binaries.ensure_all()  # a first-run compile is not the benchmark's to wait for
    done = subprocess.run(
        [
            *(sys.executable, str(BENCHMARK), "--chargers", "3", "--subscriptions", "1", "--changes", "2"),
            *("--observe-interval", "2", "--quiet"),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert "all Ready (from apply start)" in done.stdout  # the table comes first
    document: dict[str, Any] = json.loads(lines[-1])
    return document


def test_every_charger_becomes_ready_and_is_configured_at_the_charger(report: dict[str, Any]) -> None:
    convergence = report["convergence"]
    assert report["chargers"] == 3
    assert report["applied_objects"] == 4  # three Chargers and one Subscription
    assert convergence["ready"] == 3
    assert convergence["all_ready_s"] > 0
    assert convergence["configured_at_charger"] == 3
    assert convergence["online"] == 3


def test_both_kinds_of_change_reach_the_simulated_chargers(report: dict[str, Any]) -> None:
    change = report["change"]
    assert change["arrived"] == change["changes"] == 2
    assert change["timeouts"] == 0
    assert set(change["to_charger_by_kind_s"]) == {"configuration", "id-tags"}
    latency = change["to_charger_s"]
    assert latency["n"] == 2
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    assert change["to_status_ready_s"]["n"] == 1  # the configuration change, Ready again at its generation


def test_the_report_carries_memory_cpu_and_operator_counters(report: dict[str, Any]) -> None:
    for name in ("operator", "gateway", "kube-apiserver", "etcd", "fleet"):
        assert report["rss_peak_mib"][name] > 0
        assert name in report["cpu_s_until_ready"]
    runs = report["operator_metrics_until_ready"]
    assert runs['chargeops_operator_reconciles_total{kind="Charger",result="success"}'] >= 3
    assert report["fleet_stats"]["boots"] == 3


def test_the_report_counts_the_operators_api_server_requests_apart_from_the_benchmarks(report: dict[str, Any]) -> None:
    requests = report["apiserver_requests_until_ready"]
    assert requests["PATCH chargers/status"] >= 3  # at least one status write per Charger
    assert "APPLY chargers" not in requests  # the benchmark's own applies are taken out
    assert report["events_until_ready"]["Charger/Succeeded"] >= 3  # each Charger turned Ready
    assert "apiserver_requests" in report["change"]
