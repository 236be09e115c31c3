"""The operator when parts fail: an offline charger, a killed operator, a gateway that goes away.

Real kube-apiserver + etcd, the real gateway, a simulated charger over real websockets, and the operator
as its own process (``chargeops operator``) with its ServiceAccount and the shipped ClusterRole. Every
check of the charger looks at what the simulated charger itself holds or was sent.
"""

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest

from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.simulator.configuration import ConfigurationStore
from chargeops.simulator.station import Station
from tests.e2e.harness import RunningGateway, control_client
from tests.e2e.operator_harness import (
    OperatorProcess,
    get,
    operator_process,
    poll,
    station,
    wait_condition,
    wait_event,
)
from tests.e2e.test_gateway_crash_recovery import GatewayProcess

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),  # the store backend adds nothing here
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHARGER = "garage-north-1"
CP_ID = "PARKSIDE-N1"
PASSWORD = "example-north-1-secret-pass"
ADA_TAGS = {"04A2B3C4D5E6F7", "APP-ada-7f3c"}
LIN_TAGS = {"APP-lin-0001"}
SAMPLE_KEY = "MeterValueSampleInterval"  # examples/20-chargers.yaml sets it to 60
# The charger starts with another value (the simulator's default is 60), so approval changes it.
FACTORY = {"configuration": {SAMPLE_KEY: "15"}}
# After the charger holds the final state, how long to keep watching for a late, repeated send.
SETTLE_S = 5.0

LIN = {
    "apiVersion": "chargeops.io/v1alpha1",
    "kind": "Subscription",
    "metadata": {"name": "lin", "annotations": {"chargeops.io/accepted": "2026-01-02T10:00:00Z"}},
    "spec": {
        "siteRef": {"name": "parkside"},
        "subscriber": {"name": "Lin Yao", "email": "lin@example.com"},
        "idTags": sorted(LIN_TAGS),
        "chargerRefs": [{"name": CHARGER}],
        "startDate": "2026-01-01",
    },
}


def held(charger: Station) -> set[str]:
    return set(charger.state.local_list.entries)


def holding(charger: Station) -> dict[str, Any]:
    """What the charger holds and was sent, for a failure message."""
    return {"tags": held(charger), SAMPLE_KEY: sample_interval(charger), "changes": list(charger.state.changes)}


def sample_interval(charger: Station) -> str:
    settings = charger.state.settings
    assert isinstance(settings, ConfigurationStore)  # a 1.6 charger
    return settings.value(SAMPLE_KEY)


async def kubectl_patch(kubectl: NamespacedKubectl, kind: str, name: str, patch: dict[str, Any]) -> None:
    await asyncio.to_thread(kubectl, "patch", kind, name, "--type=merge", "-p", json.dumps(patch))


async def set_sample_interval(kubectl: NamespacedKubectl, seconds: int) -> None:
    patch = {"spec": {"configuration": [{"key": SAMPLE_KEY, "value": str(seconds)}]}}
    await kubectl_patch(kubectl, "charger", CHARGER, patch)


async def apply_examples(kubectl: NamespacedKubectl, charger: Station) -> None:
    """The examples applied and garage-north-1 converged: pay-per-month with Ada's tags."""
    await asyncio.to_thread(kubectl, "apply", "-f", str(EXAMPLES))
    await wait_condition(kubectl, "charger", CHARGER, "Ready", status="True", current=True)
    assert held(charger) == ADA_TAGS
    assert sample_interval(charger) == "60"


@pytest.fixture
async def operator(
    control_plane: ControlPlane, gateway: RunningGateway, namespace: str, tmp_path: Path
) -> AsyncIterator[OperatorProcess]:
    """The operator serving this test's namespace through ``gateway``."""
    async with operator_process(control_plane, gateway.control_url, gateway.token, namespace, tmp_path) as running:
        yield running


async def test_a_charger_offline_during_a_change_gets_it_when_it_returns(
    operator: OperatorProcess, gateway: RunningGateway, kubectl: NamespacedKubectl
) -> None:
    async with (
        station(gateway.ocpp_url, CP_ID, PASSWORD, **FACTORY) as charger,
        control_client(gateway) as control,
    ):
        await apply_examples(kubectl, charger)

        await charger.go_offline()
        offline = await wait_condition(
            kubectl, "charger", CHARGER, "Connected", status="False", reason="ChargerOffline"
        )
        assert CP_ID in offline["message"]
        await asyncio.to_thread(kubectl, "apply", "-f", "-", input=json.dumps(LIN))
        await set_sample_interval(kubectl, 30)

        # The operator handed the change to the gateway, which holds it for the charger's return.
        async def stored_at_gateway() -> bool:
            _, stored = await control.request("GET", f"/v1/chargers/{CP_ID}/desired")
            desired = stored["desired"]
            return set(desired["authorizedIdTags"]) == ADA_TAGS | LIN_TAGS and desired["configuration"] == {
                SAMPLE_KEY: "30"
            }

        await poll(stored_at_gateway)
        ready = await wait_condition(
            kubectl, "charger", CHARGER, "Ready", status="False", reason="ChargerOffline", current=True
        )
        assert "gets its desired state when it returns" in ready["message"]
        configured = await wait_condition(kubectl, "charger", CHARGER, "Configured", status="False", current=True)
        assert configured["reason"] == "Converging"
        assert held(charger) == ADA_TAGS  # not applied while offline
        assert sample_interval(charger) == "60"

        charger.go_online()
        await poll(
            lambda: held(charger) == ADA_TAGS | LIN_TAGS and sample_interval(charger) == "30",
            showing=lambda: holding(charger),
        )
        await wait_condition(kubectl, "charger", CHARGER, "Ready", status="True", current=True)
        await wait_condition(kubectl, "charger", CHARGER, "Connected", status="True")


@pytest.mark.parametrize("kill", ["before-handoff", "after-handoff"])
async def test_an_operator_killed_mid_change_and_restarted_loses_and_repeats_nothing(
    kill: str, operator: OperatorProcess, gateway: RunningGateway, kubectl: NamespacedKubectl
) -> None:
    async with (
        station(gateway.ocpp_url, CP_ID, PASSWORD, **FACTORY) as charger,
        control_client(gateway) as control,
    ):
        await apply_examples(kubectl, charger)

        async def desired() -> dict[str, Any]:
            _, stored = await control.request("GET", f"/v1/chargers/{CP_ID}/desired")
            return dict(stored)

        # A change in flight: the operator dies before it tells the gateway, or just after (when kopf may
        # not have recorded yet that it handled the change, so it handles it again after the restart).
        await asyncio.to_thread(kubectl, "apply", "-f", "-", input=json.dumps(LIN))
        if kill == "after-handoff":
            await poll(lambda: _holds(desired(), ADA_TAGS | LIN_TAGS), interval_s=0.02)
        await operator.kill()
        # Changes while no operator runs.
        await kubectl_patch(kubectl, "subscription", "ada", {"spec": {"suspend": True}})
        await set_sample_interval(kubectl, 30)
        assert sample_interval(charger) == "60"  # nobody hands the gateway anything meanwhile

        operator.start()
        await poll(
            lambda: held(charger) == LIN_TAGS and sample_interval(charger) == "30", showing=lambda: holding(charger)
        )
        await wait_condition(kubectl, "charger", CHARGER, "Ready", status="True", current=True)
        await asyncio.sleep(SETTLE_S)  # room for a repeated send to show; nothing is timed

        assert held(charger) == LIN_TAGS
        changes = list(charger.state.changes)
        assert all(change.status == "Accepted" for change in changes), changes
        # Each configuration value was sent once: 60 on approval, 30 after the restart.
        sent = Counter((change.subject, change.value) for change in changes if change.action == "ChangeConfiguration")
        assert [pair for pair, times in sent.items() if times > 1] == [], changes
        assert [value for key, value in sent if key == SAMPLE_KEY] == ["60", "30"], changes
        # Each list version went once, in order, and no more often than the desired set of tags changed.
        versions = [int(change.value) for change in changes if change.action == "SendLocalList"]
        assert versions == sorted(set(versions)), changes
        stored = await desired()
        assert 1 <= len(versions) <= stored["localListVersion"], changes
        observed = await control.observed(CP_ID)
        assert observed["localListVersion"] == versions[-1] == charger.state.local_list.version, (observed, changes)
        assert observed["appliedRevision"] == stored["desired"]["revision"], (observed, stored)


async def _holds(stored: Awaitable[dict[str, Any]], tags: set[str]) -> bool:
    return set((await stored)["desired"]["authorizedIdTags"]) == tags


async def test_a_gateway_that_goes_away_is_reported_and_recovery_needs_no_touch(
    control_plane: ControlPlane, database_url: str, kubectl: NamespacedKubectl, namespace: str, tmp_path: Path
) -> None:
    gateway = GatewayProcess(database_url)
    await gateway.start()
    try:
        async with (
            operator_process(control_plane, gateway.control_url, gateway.token, namespace, tmp_path),
            station(f"ws://127.0.0.1:{gateway.ocpp_port}/ocpp", CP_ID, PASSWORD, **FACTORY) as charger,
        ):
            await apply_examples(kubectl, charger)
            generation = (await get(kubectl, "charger", CHARGER))["metadata"]["generation"]

            gateway.kill()  # SIGKILL: the process is gone, its ports closed
            await gateway.wait()
            down = await wait_condition(
                kubectl, "charger", CHARGER, "Ready", status="False", reason="GatewayUnreachable"
            )
            assert f"Gateway {gateway.control_url} " in down["message"]
            event = await wait_event(kubectl, CHARGER, reason="GatewayUnreachable")
            assert event["type"] == "Warning"
            assert f"Gateway {gateway.control_url} " in event["message"]

            await gateway.start()  # same ports, same database
            await wait_condition(kubectl, "charger", CHARGER, "Ready", status="True")
            await wait_condition(kubectl, "charger", CHARGER, "Connected", status="True")
            assert (await get(kubectl, "charger", CHARGER))["metadata"]["generation"] == generation  # untouched
            assert held(charger) == ADA_TAGS
    finally:
        if gateway.process is not None and gateway.process.returncode is None:
            gateway.process.terminate()
            await gateway.wait()
