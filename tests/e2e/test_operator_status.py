"""What the operator's status says, end to end: kstatus conditions, drift, duplicates, missing Secrets,
and metrics.

Real kube-apiserver + etcd, the real gateway (checking for drift every second), simulated chargers over
real websockets, and the operator as its own ServiceAccount with the shipped ClusterRole: in this process
for the status tests (so one test can serve two namespaces), and as ``chargeops operator`` in a child
process for its metrics endpoint and a clean SIGTERM.
"""

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Any

import aiohttp
import pytest

os.environ.setdefault("CHARGEOPS_OBSERVE_INTERVAL_S", "1")

from chargeops.api.v1alpha1 import OcppVersion
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.operator import main, runtime
from chargeops.simulator.configuration import ConfigurationStore
from chargeops.simulator.station import Station
from tests.e2e.harness import RunningGateway, control_client, gateway_settings, running_gateway
from tests.e2e.operator_harness import (
    OperatorProcess,
    condition_of,
    get,
    operator_kubeconfig,
    poll,
    station,
    wait_condition,
    wait_event,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),  # the store backend adds nothing here
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSWORDS = {
    "PARKSIDE-N1": "example-north-1-secret-pass",
    "PARKSIDE-N2": "example-north-2-secret-pass",
    "PARKSIDE-V1": "example-visitor-1-secret-pass",
}
# The gateway looks for drift this often (600 s in production), so a test sees it found and repaired.
DRIFT_INTERVAL_S = 1.0


@pytest.fixture
async def gateway(database_url: str) -> AsyncIterator[RunningGateway]:
    """The gateway of ``conftest``, checking connected chargers for drift every second."""
    async with running_gateway(gateway_settings(database_url, drift_interval_s=DRIFT_INTERVAL_S)) as running:
        yield running


@contextlib.asynccontextmanager
async def operator_serving(
    control_plane: ControlPlane, gateway: RunningGateway, namespaces: Collection[str], folder: Path
) -> AsyncIterator[None]:
    """The operator in this process, as its ServiceAccount, serving ``namespaces``."""
    kubeconfig = await asyncio.to_thread(operator_kubeconfig, control_plane, folder / "operator.kubeconfig")
    stop, ready = asyncio.Event(), asyncio.Event()
    settings = runtime.OperatorSettings(gateway_url=gateway.control_url, gateway_token=gateway.token)
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("KUBECONFIG", str(kubeconfig))
        task = asyncio.create_task(
            main.run(settings, kubeconfig=str(kubeconfig), namespaces=namespaces, stop_flag=stop, ready_flag=ready)
        )
        await asyncio.wait_for(ready.wait(), 60)
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):  # kopf ends its own tasks by cancelling them
                await asyncio.wait_for(task, 60)


@contextlib.asynccontextmanager
async def example_chargers(gateway: RunningGateway, *cp_ids: str) -> AsyncIterator[dict[str, Station]]:
    """The simulated chargers of examples/20-chargers.yaml (all of them unless named)."""
    async with contextlib.AsyncExitStack() as stack:
        stations = {}
        for cp_id in cp_ids or tuple(PASSWORDS):
            version = OcppVersion.V201 if cp_id == "PARKSIDE-N2" else OcppVersion.V16
            stations[cp_id] = await stack.enter_async_context(
                station(gateway.ocpp_url, cp_id, PASSWORDS[cp_id], ocpp_version=version)
            )
        yield stations


async def apply(kubectl: NamespacedKubectl, path: Path | str, *, document: str | None = None) -> None:
    if document is None:
        await asyncio.to_thread(kubectl, "apply", "-f", str(path))
    else:
        await asyncio.to_thread(kubectl, "apply", "-f", "-", input=document)


async def wait_ready_saying(kubectl: NamespacedKubectl, name: str, words: str) -> dict[str, Any]:
    """Wait until the Charger's Ready is False for SecretNotFound and its message holds ``words``."""

    async def check() -> dict[str, Any] | None:
        found = condition_of(await get(kubectl, "charger", name), "Ready")
        ok = found is not None and found["reason"] == "SecretNotFound" and words in found["message"]
        return found if ok else None

    return dict(await poll(check))


async def wait_event_saying(kubectl: NamespacedKubectl, name: str, *, reason: str, words: str) -> dict[str, Any]:
    """Wait for an Event about ``name`` with ``reason`` whose message holds ``words``."""

    async def check() -> dict[str, Any] | None:
        result = await asyncio.to_thread(kubectl, "get", "events", "-o", "json")
        for event in json.loads(result.stdout)["items"]:
            about = event["involvedObject"]["name"] == name and event.get("reason") == reason
            if about and words in event.get("message", ""):
                return dict(event)
        return None

    return dict(await poll(check))


def types_of(body: dict[str, Any]) -> set[str]:
    return {c["type"] for c in (body.get("status") or {}).get("conditions") or []}


async def current(kubectl: NamespacedKubectl, kind: str, name: str) -> dict[str, Any]:
    """The object once its status was written for its latest generation."""

    async def check() -> dict[str, Any] | None:
        body = await get(kubectl, kind, name)
        written = (body.get("status") or {}).get("observedGeneration") == body["metadata"]["generation"]
        return body if written else None

    return dict(await poll(check))


async def test_every_kind_reports_kstatus_conditions_for_its_current_generation(
    control_plane: ControlPlane, gateway: RunningGateway, kubectl: NamespacedKubectl, namespace: str, tmp_path: Path
) -> None:
    async with operator_serving(control_plane, gateway, [namespace], tmp_path), example_chargers(gateway) as stations:
        await apply(kubectl, EXAMPLES)
        await wait_condition(kubectl, "charger", "garage-north-1", "Ready", status="True", current=True)
        for kind, name in [("site", "parkside"), ("tariff", "energy-standard"), ("subscription", "ada")]:
            body = await current(kubectl, kind, name)
            assert condition_of(body, "Ready") is not None
            assert not types_of(body) & {"Reconciling", "Stalled"}, (kind, body["status"])
        assert not types_of(await get(kubectl, "charger", "garage-north-1")) & {"Reconciling", "Stalled"}

        # An approval only a person can give: Stalled, with Ready's reason and the value to set.
        stalled = await wait_condition(
            kubectl, "charger", "garage-north-2", "Stalled", status="True", reason="AwaitingApproval"
        )
        assert "chargeops.io/approval=v1-" in stalled["message"]
        assert "Reconciling" not in types_of(await get(kubectl, "charger", "garage-north-2"))

        # A change while the charger is away: Reconciling (Converging) until it returns and converges.
        away = stations["PARKSIDE-N1"]
        await away.go_offline()
        await wait_condition(kubectl, "charger", "garage-north-1", "Connected", status="False")
        await asyncio.to_thread(
            kubectl, "patch", "charger", "garage-north-1", "--type=merge", "-p", '{"spec":{"heartbeatIntervalS":600}}'
        )
        reconciling = await wait_condition(
            kubectl, "charger", "garage-north-1", "Reconciling", status="True", reason="Converging", current=True
        )
        assert "gets its desired state when it returns" in reconciling["message"]
        away.go_online()
        await wait_condition(kubectl, "charger", "garage-north-1", "Ready", status="True", current=True)
        body = await get(kubectl, "charger", "garage-north-1")
        assert not types_of(body) & {"Reconciling", "Stalled"}
        assert body["status"]["observedGeneration"] == body["metadata"]["generation"] == 2
        assert away.state.settings.heartbeat_interval_s == 600


async def test_drift_on_the_live_charger_is_shown_as_found_and_repaired(
    control_plane: ControlPlane, gateway: RunningGateway, kubectl: NamespacedKubectl, namespace: str, tmp_path: Path
) -> None:
    async with (
        operator_serving(control_plane, gateway, [namespace], tmp_path),
        example_chargers(gateway, "PARKSIDE-V1") as stations,
    ):
        await apply(kubectl, EXAMPLES / "00-site.yaml")
        await apply(kubectl, EXAMPLES / "20-chargers.yaml")
        await wait_condition(kubectl, "charger", "visitor-1", "Ready", status="True")
        settings = stations["PARKSIDE-V1"].state.settings
        assert isinstance(settings, ConfigurationStore)
        assert settings.offline_unknown_allowed

        # Someone changes the charger behind our back (its web UI, a factory reset of one key).
        settings.change("AllowOfflineTxForUnknownId", "false")
        detected = await wait_event(kubectl, "visitor-1", reason="DriftDetected")
        assert detected["type"] == "Warning"
        assert "AllowOfflineTxForUnknownId" in detected["message"]
        repaired = await wait_event(kubectl, "visitor-1", reason="DriftRepaired")
        assert repaired["type"] == "Normal"
        assert settings.offline_unknown_allowed  # the gateway set it back on the charger itself

        async def repaired_drift() -> dict[str, Any] | None:
            drift = ((await get(kubectl, "charger", "visitor-1")).get("status") or {}).get("drift") or {}
            return drift if drift.get("lastRepairedTime") else None

        drift = await poll(repaired_drift)
        assert drift["differences"] == ["AllowOfflineTxForUnknownId"]
        assert drift["lastRepairedTime"] >= drift["lastDetectedTime"]
        await wait_condition(kubectl, "charger", "visitor-1", "Ready", status="True")


async def test_two_chargers_naming_one_charge_point_both_hold_and_neither_takes_it_over(
    control_plane: ControlPlane, gateway: RunningGateway, kubectl: NamespacedKubectl, namespace: str, tmp_path: Path
) -> None:
    other = await asyncio.to_thread(control_plane.create_namespace)
    annex = NamespacedKubectl(control_plane, namespace=other)
    intruder = """
apiVersion: v1
kind: Secret
metadata: {name: annex-password}
stringData: {password: another-password-of-20-bytes}
---
apiVersion: chargeops.io/v1alpha1
kind: Charger
metadata: {name: copied-visitor}
spec:
  chargePointId: PARKSIDE-V1
  siteRef: {name: parkside}
  chargingMode: {payPerMonth: true, tariffRef: {name: energy-standard}}
  security: {profile: 1, basicAuthSecretRef: {name: annex-password, key: password}}
"""
    async with (
        operator_serving(control_plane, gateway, [namespace, other], tmp_path),
        example_chargers(gateway, "PARKSIDE-V1") as stations,
        control_client(gateway) as control,
    ):
        await apply(kubectl, EXAMPLES / "00-site.yaml")
        await apply(kubectl, EXAMPLES / "20-chargers.yaml")
        await wait_condition(kubectl, "charger", "visitor-1", "Ready", status="True")
        _, held = await control.request("GET", "/v1/chargers/PARKSIDE-V1/desired")

        await apply(annex, "-", document=intruder)
        theirs = await wait_condition(annex, "charger", "copied-visitor", "Ready", status="False")
        assert theirs["reason"] == "DuplicateChargePointId"
        assert f"Charger {namespace}/visitor-1" in theirs["message"]
        ours = await wait_condition(
            kubectl, "charger", "visitor-1", "Ready", status="False", reason="DuplicateChargePointId"
        )
        assert f"Charger {other}/copied-visitor" in ours["message"]
        await wait_condition(kubectl, "charger", "visitor-1", "Stalled", status="True", reason="DuplicateChargePointId")
        await wait_event(kubectl, "visitor-1", reason="DuplicateChargePointId")

        # Neither wrote: the gateway holds the document (and password) it had, and the charger is as it was.
        _, still = await control.request("GET", "/v1/chargers/PARKSIDE-V1/desired")
        assert still == held
        assert stations["PARKSIDE-V1"].state.settings.offline_unknown_allowed  # free, not pay-per-month

        # Deleting the copy leaves the charge point to the other, which takes it up again.
        await asyncio.to_thread(annex, "delete", "charger", "copied-visitor", "--wait=false")
        await wait_event_saying(annex, "copied-visitor", reason="DuplicateChargePointId", words="not released")
        await wait_condition(kubectl, "charger", "visitor-1", "Ready", status="True")
        assert "Stalled" not in types_of(await get(kubectl, "charger", "visitor-1"))
        observed = await control.observed("PARKSIDE-V1")
        assert observed["connected"] is True
        _, after = await control.request("GET", "/v1/chargers/PARKSIDE-V1/desired")
        assert after is not None
        assert after["desired"]["authorization"] == "Free"


async def test_a_missing_password_secret_is_named_and_recovers_when_it_appears(
    control_plane: ControlPlane, gateway: RunningGateway, kubectl: NamespacedKubectl, namespace: str, tmp_path: Path
) -> None:
    charger = """
apiVersion: chargeops.io/v1alpha1
kind: Charger
metadata: {name: visitor-2}
spec:
  chargePointId: PARKSIDE-V2
  siteRef: {name: parkside}
  security: {profile: 1, basicAuthSecretRef: {name: visitor-2-auth, key: password}}
"""
    password = "visitor-2-password-long-enough"
    async with (
        operator_serving(control_plane, gateway, [namespace], tmp_path),
        station(gateway.ocpp_url, "PARKSIDE-V2", password),
        control_client(gateway) as control,
    ):
        await apply(kubectl, EXAMPLES / "00-site.yaml")
        await apply(kubectl, "-", document=charger)
        await wait_ready_saying(
            kubectl, "visitor-2", f"Secret {namespace}/visitor-2-auth (key password) does not exist."
        )
        await wait_condition(kubectl, "charger", "visitor-2", "Stalled", status="True", reason="SecretNotFound")
        await wait_event(kubectl, "visitor-2", reason="SecretNotFound")
        status, _ = await control.request("GET", "/v1/chargers/PARKSIDE-V2/desired")
        assert status == 404  # nothing handed to the gateway without the password

        await asyncio.to_thread(
            kubectl, "create", "secret", "generic", "visitor-2-auth", "--from-literal=other=nothing-to-see-here"
        )
        await wait_ready_saying(kubectl, "visitor-2", f"Secret {namespace}/visitor-2-auth has no key password.")
        assert (await control.request("GET", "/v1/chargers/PARKSIDE-V2/desired"))[0] == 404

        await asyncio.to_thread(
            kubectl,
            "patch",
            "secret",
            "visitor-2-auth",
            "--type=merge",
            "-p",
            json.dumps({"stringData": {"password": password}}),
        )
        await wait_condition(kubectl, "charger", "visitor-2", "Ready", status="True")
        assert "Stalled" not in types_of(await get(kubectl, "charger", "visitor-2"))
        assert (await control.observed("PARKSIDE-V2"))["connected"] is True


def free_port() -> int:
    """A port nothing listens on now (the operator binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


async def test_the_operator_command_serves_metrics_and_stops_cleanly_on_sigterm(
    control_plane: ControlPlane, gateway: RunningGateway, kubectl: NamespacedKubectl, namespace: str, tmp_path: Path
) -> None:
    port = free_port()
    kubeconfig = await asyncio.to_thread(operator_kubeconfig, control_plane, tmp_path / "operator.kubeconfig")
    operator = OperatorProcess(
        kubeconfig=kubeconfig,
        gateway_url=gateway.control_url,
        token=gateway.token,
        namespace=namespace,
        log=tmp_path / "operator.log",
        extra_args=["--metrics-host", "127.0.0.1", "--metrics-port", str(port)],
    )
    base = f"http://127.0.0.1:{port}"
    operator.start()
    try:
        async with example_chargers(gateway, "PARKSIDE-N1", "PARKSIDE-V1"), aiohttp.ClientSession() as http:

            async def scrape(path: str) -> str | None:
                try:
                    async with http.get(base + path) as response:
                        return await response.text() if response.status == 200 else None
                except aiohttp.ClientConnectionError:
                    return None

            assert await poll(lambda: scrape("/healthz")) == "ok\n"
            await apply(kubectl, EXAMPLES)
            await wait_condition(kubectl, "charger", "garage-north-1", "Ready", status="True")
            await wait_condition(kubectl, "charger", "visitor-1", "Ready", status="True")

            async def counted() -> str | None:
                # The gauge reads the operator's index, which sees Ready a moment after kubectl does.
                text = await scrape("/metrics")
                ready = sample(text or "", "chargeops_operator_chargers", ready="True", reason="Succeeded")
                return text if ready >= 2 else None

            text = await poll(counted)
            assert sample(text, "chargeops_operator_reconciles_total", kind="Charger", result="success") >= 2
            assert sample(text, "chargeops_operator_reconciles_total", kind="Site", result="success") >= 1
            assert sample(text, "chargeops_operator_reconcile_duration_seconds_count", kind="Charger") >= 2
            # One poll of every charger's observed state per interval, not one request per charger.
            polls = sample(
                text, "chargeops_operator_gateway_request_duration_seconds_count", result="ok", route="GET /v1/chargers"
            )
            assert polls >= 2
            assert sample(text, "chargeops_operator_chargers", ready="False", reason="AwaitingApproval") == 1
    finally:
        await operator.stop()
        print(f"--- operator log (tail) ---\n{operator.log_tail()}")
    assert operator.returncode == 0
