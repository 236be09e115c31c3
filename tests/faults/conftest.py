"""The fault-injection suite: each test breaks one part on purpose and records what it counted.

A test asks for ``figure`` and calls it with one line, e.g. ``figure("gateway SIGKILL: 3 cycles, 12
sessions started, 12 stored, 0 lost, 0 doubled")``; the lines are printed after the run under "fault
figures", so ``pytest tests/faults`` shows them whether the tests passed or failed. The figure is
recorded before the test asserts on it, so a failing run shows what it found.

How often each fault is repeated comes from ``CHARGEOPS_FAULT_CYCLES`` (default 3, which keeps the
directory to a couple of minutes in the default suite); the long version is ``CHARGEOPS_FAULT_CYCLES=100``.

The gateway fixtures of ``tests/e2e`` are reused from there, so the SQLite / PostgreSQL parameters and the
template database are the same ones.
"""

import os
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import control, database_url, gateway, postgres_template
from tests.e2e.test_gateway_crash_recovery import gateway_process

__all__ = ["control", "database_url", "gateway", "gateway_process", "postgres_template"]

CYCLES_ENV = "CHARGEOPS_FAULT_CYCLES"
FIGURES = pytest.StashKey[list[str]]()


def fault_cycles(default: int = 3) -> int:
    """How many times a fault is repeated (``CHARGEOPS_FAULT_CYCLES``, at least 1)."""
    return max(1, int(os.environ.get(CYCLES_ENV, default)))


def subscription(n: int) -> dict[str, Any]:
    """Subscription ``sub-<n>``, accepted, of tag ``SUB-<nnnn>`` on charger park-1 of site parkside."""
    return {
        "apiVersion": "chargeops.io/v1alpha1",
        "kind": "Subscription",
        "metadata": {"name": f"sub-{n}", "annotations": {"chargeops.io/accepted": "2026-10-01T09:00:00Z"}},
        "spec": {
            "siteRef": {"name": "parkside"},
            "subscriber": {"name": f"Subscriber {n}", "email": f"sub-{n}@example.com"},
            "idTags": [f"SUB-{n:04d}"],
            "chargerRefs": [{"name": "park-1"}],
            "startDate": "2026-10-01",
        },
    }


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FIGURES] = []


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record one line of what this test counted, shown in the "fault figures" summary."""

    def record(line: str) -> None:
        request.config.stash[FIGURES].append(f"{request.node.name}: {line}")

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.section("fault figures")
        for line in figures:
            terminalreporter.write_line(line)
