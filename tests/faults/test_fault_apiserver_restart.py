"""kube-apiserver killed and started again (same etcd, same port and keys) under a running operator.

While the API server is gone the operator's watches and its status writes fail; once it is back the
operator must pick up a change made after the outage and bring the (simulated) charger to it. A
restarted API server may answer 403 for a moment (its RBAC rules not loaded yet), on which kopf gives
up a watch for good; the operator then exits (``chargeops.operator.watch_guard``) and the test restarts
it as its Deployment would, and counts it. Repeated ``CHARGEOPS_FAULT_CYCLES`` times. The restarted server is the
session's: every later test uses it as before.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from tests.e2e.harness import RunningGateway
from tests.e2e.operator_harness import OperatorProcess, operator_process, poll, station, wait_condition
from tests.e2e.test_operator_faults import (
    CHARGER,
    CP_ID,
    FACTORY,
    PASSWORD,
    apply_examples,
    holding,
    sample_interval,
    set_sample_interval,
)
from tests.faults.conftest import fault_cycles

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(180 + 90 * fault_cycles()),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),  # the store backend adds nothing here
]

# Long enough for the operator to notice: its watches end and its next requests are refused.
DOWN_S = 3.0


@pytest.fixture
async def operator(
    control_plane: ControlPlane, gateway: RunningGateway, namespace: str, tmp_path: Path
) -> AsyncIterator[OperatorProcess]:
    async with operator_process(control_plane, gateway.control_url, gateway.token, namespace, tmp_path) as running:
        yield running


async def supervise(operator: OperatorProcess, exits: list[int | None]) -> None:
    """Start the operator again whenever it exits by itself, as its Deployment would; record the codes."""
    while True:
        await asyncio.sleep(0.2)
        if operator.exited():
            await operator.stop()  # collects the exit code
            exits.append(operator.returncode)
            operator.start()


async def test_the_operator_reconciles_changes_made_after_api_server_restarts(
    control_plane: ControlPlane,
    gateway: RunningGateway,
    kubectl: NamespacedKubectl,
    operator: OperatorProcess,
    figure: Callable[[str], None],
) -> None:
    cycles = fault_cycles()
    recoveries: list[float] = []
    exits: list[int | None] = []
    supervisor = asyncio.create_task(supervise(operator, exits))
    async with station(gateway.ocpp_url, CP_ID, PASSWORD, **FACTORY) as charger:
        await apply_examples(kubectl, charger)
        for n in range(cycles):
            await asyncio.to_thread(control_plane.stop_apiserver)
            await asyncio.sleep(DOWN_S)
            await asyncio.to_thread(control_plane.start_apiserver)
            back = time.monotonic()
            wanted = str(30 + n)
            await set_sample_interval(kubectl, int(wanted))
            await poll(lambda value=wanted: sample_interval(charger) == value, showing=lambda: holding(charger))
            await wait_condition(kubectl, "charger", CHARGER, "Ready", status="True", current=True)
            recoveries.append(time.monotonic() - back)
        changes = [c for c in charger.state.changes if c.action == "ChangeConfiguration"]
    supervisor.cancel()
    await asyncio.gather(supervisor, return_exceptions=True)

    figure(
        f"kube-apiserver restart: {cycles} cycles ({DOWN_S:.0f} s down each), {len(recoveries)} changes made "
        f"after a restart reconciled, slowest {max(recoveries):.1f} s from the API's return to Ready; "
        f"operator exited for a lost watch and was restarted {len(exits)}x"
    )
    assert all(code not in (0, None) for code in exits), exits  # an exit is a failure, never a quiet stop
    sent = [c.value for c in changes if c.subject == "MeterValueSampleInterval"]
    assert sent == ["60", *(str(30 + n) for n in range(cycles))], changes
