"""The operator end to end: kubectl apply of the examples reconfigures live (simulated) chargers.

Real kube-apiserver + etcd, the real gateway, simulated chargers over real websockets, and the kopf
operator running in this process against the API server as its own ServiceAccount, with only the
permissions of the shipped ClusterRole (deploy/rbac/operator.yaml) — not as cluster-admin.
"""

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

os.environ.setdefault("CHARGEOPS_OBSERVE_INTERVAL_S", "1")

from chargeops.api.v1alpha1 import OcppVersion
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.operator import main, runtime
from chargeops.simulator.clock import SystemClock
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e.harness import RunningGateway
from tests.e2e.test_gateway_convergence import eventually

# The store backend adds nothing here (the gateway's own e2e tests run on both); SQLite keeps it short.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(180),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSWORDS = {
    "PARKSIDE-N1": "example-north-1-secret-pass",
    "PARKSIDE-N2": "example-north-2-secret-pass",
    "PARKSIDE-V1": "example-visitor-1-secret-pass",
}


RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac" / "operator.yaml"


def operator_kubeconfig(control_plane: ControlPlane, path: Path) -> Path:
    """A kubeconfig for the operator's ServiceAccount with the shipped least-privilege ClusterRole."""
    control_plane.kubectl("apply", "-f", str(RBAC))
    token = control_plane.kubectl(
        "create", "token", "chargeops-operator", "-n", "chargeops-system", "--duration=2h"
    ).stdout.strip()
    cluster = {"server": control_plane.server, "certificate-authority": str(control_plane.ca_file)}
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "dev", "cluster": cluster}],
        "users": [{"name": "operator", "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": "dev", "user": "operator"}}],
        "current-context": "operator",
    }
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
async def operator(
    control_plane: ControlPlane,
    gateway: RunningGateway,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> AsyncIterator[None]:
    kubeconfig = await asyncio.to_thread(operator_kubeconfig, control_plane, tmp_path / "operator.kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    stop, ready = asyncio.Event(), asyncio.Event()
    settings = runtime.OperatorSettings(gateway_url=gateway.control_url, gateway_token=gateway.token)
    task = asyncio.create_task(
        main.run(settings, kubeconfig=str(kubeconfig), namespaces=[namespace], stop_flag=stop, ready_flag=ready)
    )
    await asyncio.wait_for(ready.wait(), 60)
    yield
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):  # kopf ends its own tasks by cancelling them
        await asyncio.wait_for(task, 60)


@contextlib.asynccontextmanager
async def chargers(gateway: RunningGateway) -> AsyncIterator[dict[str, Station]]:
    stations = {
        cp_id: Station(
            StationConfig(
                cp_id,
                gateway.ocpp_url,
                password=password,
                reconnect_initial_s=0.2,
                reconnect_max_s=1,
                ocpp_version=OcppVersion.V201 if cp_id == "PARKSIDE-N2" else OcppVersion.V16,
            ),
            clock=SystemClock(),
        )
        for cp_id, password in PASSWORDS.items()
    }
    tasks = [asyncio.create_task(station.run()) for station in stations.values()]
    try:
        yield stations
    finally:
        for station in stations.values():
            await station.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _observed(gateway: RunningGateway, cp_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {gateway.token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(f"{gateway.control_url}/v1/chargers/{cp_id}/observed") as response,
    ):
        return dict(await response.json())


def condition(kubectl: NamespacedKubectl, kind: str, name: str, condition_type: str) -> Callable[[], Any]:
    def check() -> dict[str, Any] | None:
        result = kubectl("get", kind, name, "-o", "json", check=False)
        if result.returncode != 0:
            return None
        found = [
            c for c in json.loads(result.stdout).get("status", {}).get("conditions", []) if c["type"] == condition_type
        ]
        return found[0] if found else None

    return check


async def wait_condition(
    kubectl: NamespacedKubectl, kind: str, name: str, condition_type: str, *, status: str, reason: str | None = None
) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        found = condition(kubectl, kind, name, condition_type)()
        if found and found["status"] == status and (reason is None or found["reason"] == reason):
            return dict(found)
        return None

    return dict(await eventually(lambda: asyncio.to_thread(matches), timeout_s=90))


async def test_applying_the_examples_reconfigures_only_the_approved_charger(
    operator: None, gateway: RunningGateway, kubectl: NamespacedKubectl
) -> None:
    async with chargers(gateway) as stations:
        await asyncio.to_thread(kubectl, "apply", "-f", str(EXAMPLES))
        await wait_condition(kubectl, "charger", "garage-north-1", "Ready", status="True")
        approved = stations["PARKSIDE-N1"]
        assert approved.state.settings.local_list_enabled
        assert set(approved.state.local_list.entries) == {"04A2B3C4D5E6F7", "APP-ada-7f3c"}

        waiting = await wait_condition(
            kubectl, "charger", "garage-north-2", "Approved", status="False", reason="AwaitingApproval"
        )
        assert "chargeops.io/approval=v1-" in waiting["message"]
        untouched = stations["PARKSIDE-N2"]
        assert len(untouched.state.local_list.entries) == 0
        observed = await _observed(gateway, "PARKSIDE-N2")
        assert observed["connected"] is True
        assert observed["appliedRevision"] is None  # admitted and observed, never converged
        assert observed["configurationResults"] == {}

        await wait_condition(kubectl, "charger", "visitor-1", "Ready", status="True")
        free = stations["PARKSIDE-V1"]
        assert not free.state.settings.local_list_enabled
        assert free.state.settings.offline_unknown_allowed

        table = (await asyncio.to_thread(kubectl, "get", "chargers")).stdout
        assert "PayPerMonth" in table


async def test_the_local_list_follows_subscriptions(
    operator: None, gateway: RunningGateway, kubectl: NamespacedKubectl
) -> None:
    async with chargers(gateway) as stations:
        await asyncio.to_thread(kubectl, "apply", "-f", str(EXAMPLES))
        await wait_condition(kubectl, "charger", "garage-north-1", "Ready", status="True")
        held = stations["PARKSIDE-N1"].state.local_list

        await asyncio.to_thread(
            kubectl, "patch", "subscription", "ada", "--type=merge", "-p", '{"spec":{"suspend":true}}'
        )
        await eventually(lambda: len(held.entries) == 0, timeout_s=30)
        await asyncio.to_thread(
            kubectl, "patch", "subscription", "ada", "--type=merge", "-p", '{"spec":{"suspend":false}}'
        )
        await eventually(lambda: set(held.entries) == {"04A2B3C4D5E6F7", "APP-ada-7f3c"}, timeout_s=30)
        await asyncio.to_thread(kubectl, "delete", "subscription", "ada", "--wait=false")
        await eventually(lambda: len(held.entries) == 0, timeout_s=30)


async def test_a_site_leaving_the_business_plan_blocks_pay_per_month_without_half_switching(
    operator: None, gateway: RunningGateway, kubectl: NamespacedKubectl
) -> None:
    async with chargers(gateway) as stations:
        await asyncio.to_thread(kubectl, "apply", "-f", str(EXAMPLES))
        await wait_condition(kubectl, "charger", "garage-north-1", "Ready", status="True")
        await asyncio.to_thread(kubectl, "patch", "site", "parkside", "--type=merge", "-p", '{"spec":{"plan":"Basic"}}')
        blocked = await wait_condition(
            kubectl, "charger", "garage-north-1", "Ready", status="False", reason="PlanNotEligible"
        )
        assert "Site parkside is on the Basic plan" in blocked["message"]
        held = stations["PARKSIDE-N1"].state
        assert held.settings.local_list_enabled  # left as it was: still pay-per-month, not half-switched
        assert set(held.local_list.entries) == {"04A2B3C4D5E6F7", "APP-ada-7f3c"}


async def test_a_time_zone_that_does_not_exist_is_reported_on_the_site(
    operator: None, kubectl: NamespacedKubectl
) -> None:
    await asyncio.to_thread(kubectl, "apply", "-f", str(EXAMPLES / "00-site.yaml"))
    await wait_condition(kubectl, "site", "parkside", "Ready", status="True")
    await asyncio.to_thread(
        kubectl, "patch", "site", "parkside", "--type=merge", "-p", '{"spec":{"timeZone":"Mars/Olympus_Mons"}}'
    )
    refused = await wait_condition(kubectl, "site", "parkside", "Ready", status="False", reason="InvalidTimeZone")
    assert "Mars/Olympus_Mons is not in the tz database" in refused["message"]
