"""``chargeops demo``: the whole product on one machine, from an empty folder to a rendered invoice.

It starts a local control plane (kube-apiserver + etcd), the OCPP gateway on SQLite, the operator and
three simulated chargers, all on loopback; applies ``examples/``; shows the unapproved charger waiting
and approves it as a super-admin (after the admission policy has refused the cluster admin); charges a
month on a simulated clock that the gateway, the chargers and the billing pass all read; closes the
month; and prints chargers, subscriptions and invoices. Everything it started stops on the way out,
Ctrl-C included.
"""

import asyncio
import contextlib
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import OcppVersion, approval
from chargeops.approving import cluster as approving
from chargeops.approving import errors as approving_errors
from chargeops.billing import periods, render
from chargeops.demo import scenario
from chargeops.devcluster import checkout, identities
from chargeops.devcluster.controlplane import ControlPlane
from chargeops.ocpp_gateway.app import Gateway
from chargeops.ocpp_gateway.settings import GatewaySettings
from chargeops.simulator.clock import ManualClock
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig

NAMESPACE = "parkside"
SITE = "parkside"
# The month charged; fixed, so every run bills the same sessions (the examples' subscription starts then).
MONTH = "2026-10"
UNAPPROVED = "garage-north-2"
DEADLINE_S = 120.0
ROOT = checkout.crds_dir().parent  # the checkout: examples/ and deploy/ sit beside crds/


@dataclass
class Demo:
    """What the demo started, and where it writes."""

    workdir: Path
    say: Callable[[str], None]
    confirm: Callable[[str], None]
    steps: int = 8
    step: int = 0
    started: float = field(default_factory=time.monotonic)

    def stage(self, text: str) -> None:
        self.step += 1
        self.say(f"\n[{self.step}/{self.steps}] {text}")

    def detail(self, text: str) -> None:
        self.say(f"      {text}")


async def run(workdir: Path, *, say: Callable[[str], None], confirm: Callable[[str], None]) -> dict[str, Any]:
    """Run the demo in ``workdir``; return the summary it printed (for tests)."""
    demo = Demo(workdir=workdir, say=say, confirm=confirm)
    zone = ZoneInfo("Europe/Amsterdam")
    month_start, month_end = periods.month_bounds(MONTH, zone)
    clock = ManualClock(month_start - timedelta(days=1))
    # kopf reads its timer intervals when the handlers are imported: set them before.
    os.environ.setdefault("CHARGEOPS_OBSERVE_INTERVAL_S", "1")
    os.environ.setdefault("CHARGEOPS_BILLING_INTERVAL_S", "3600")

    demo.stage("Starting a local control plane (kube-apiserver + etcd)…")
    with _control_plane(workdir / "cluster") as plane:
        demo.detail(f"API server {plane.server}; kubeconfig {plane.kubeconfig}")
        plane.kubectl("apply", "-f", str(ROOT / "deploy" / "rbac" / "operator.yaml"))
        plane.kubectl("apply", "-f", str(ROOT / "deploy" / "admission"))
        plane.create_namespace(NAMESPACE)

        demo.stage("Starting the OCPP gateway on SQLite…")
        async with _gateway(workdir, clock) as gateway:
            demo.detail(f"chargers: ws://127.0.0.1:{gateway.ocpp_port}/ocpp/<id>; store {workdir / 'gateway.db'}")
            demo.detail(f"control API: http://127.0.0.1:{gateway.control_port}")
            demo.stage("Starting the operator and three simulated chargers…")
            async with (
                _operator(plane, gateway, clock),
                _stations(gateway, clock) as stations,
            ):
                for cp_id, station in stations.items():
                    demo.detail(f"{cp_id}: OCPP {station.config.ocpp_version.value}, connected")

                # The examples carry garage-north-1's approval, which only an approver may write: applied as a
                # super-admin here, as Argo CD's or Flux's service account (an approver) would in GitOps.
                demo.stage(f"kubectl apply -f examples/ -n {NAMESPACE} (as a super-admin)")
                applied = plane.kubectl(
                    "apply", "-n", NAMESPACE, "-f", str(ROOT / "examples"), as_identity=identities.SUPER_ADMIN
                )
                for line in applied.stdout.splitlines():
                    demo.detail(line)
                await _until(lambda: _ready_reasons(plane) == _expected_before_approval(), "chargers settle")
                demo.detail("")
                for line in _get(plane, "chargers").splitlines():
                    demo.detail(line)

                demo.stage(f"{UNAPPROVED} waits for a super-admin's approval")
                waiting = _condition(plane, "charger", UNAPPROVED, "Approved")
                demo.detail(f"Approved={waiting['status']} {waiting['reason']}: {waiting['message']}")
                demo.confirm(f"Approve {UNAPPROVED} as a super-admin?")
                refused = _approve(plane, identities.ADMIN)
                demo.detail(f"as the cluster admin: refused — {refused}")
                _approve(plane, identities.SUPER_ADMIN)
                demo.detail(f"as super-admin: {approval.ANNOTATION} set")
                await _until(lambda: _ready_reasons(plane).get(UNAPPROVED) == "Succeeded", f"{UNAPPROVED} Ready")
                tags = sorted(stations["PARKSIDE-N2"].state.local_list.entries)
                demo.detail(f"{UNAPPROVED} now requires authorization; its local list holds {', '.join(tags)}")

                sessions = scenario.month_of_charging(*periods.parse_month(MONTH), zone)
                demo.stage(f"A month of charging: {MONTH} on the simulated clock ({len(sessions)} sessions)…")
                await _charge(demo, clock, stations, sessions)

                closed_at = month_end + v1alpha1.parse_duration("72h") + timedelta(hours=1)
                demo.stage(
                    f"Closing {MONTH}: billing pass at {closed_at.astimezone(zone):%Y-%m-%d %H:%M} (after the grace)"
                )
                await clock.advance((closed_at - clock.now()).total_seconds())
                result = await _bill(plane, gateway, clock)
                for name, number in sorted(result.finalized.items()):
                    demo.detail(f"invoice/{name}: finalized as {number}")
                return _summary(demo, plane)


def _expected_before_approval() -> dict[str, str]:
    return {"garage-north-1": "Succeeded", UNAPPROVED: "AwaitingApproval", "visitor-1": "Succeeded"}


@contextlib.contextmanager
def _control_plane(folder: Path) -> Iterator[ControlPlane]:
    folder.mkdir(parents=True, exist_ok=True)
    with ControlPlane.start(workdir=folder) as plane:
        plane.apply_crds(checkout.crds_dir())
        yield plane


@contextlib.asynccontextmanager
async def _gateway(workdir: Path, clock: ManualClock) -> AsyncIterator[Gateway]:
    settings = GatewaySettings(
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        control_port=0,
        database_url=f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
        api_token=secrets.token_urlsafe(24),
        boot_wait_s=0.5,
    )
    gateway = await Gateway.open(settings, clock=clock.now)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


@contextlib.asynccontextmanager
async def _operator(plane: ControlPlane, gateway: Gateway, clock: ManualClock) -> AsyncIterator[None]:
    from chargeops.operator import main, runtime  # noqa: PLC0415 - after the timer intervals are set

    os.environ["KUBECONFIG"] = str(plane.kubeconfig)
    settings = runtime.OperatorSettings(
        gateway_url=f"http://127.0.0.1:{gateway.control_port}", gateway_token=gateway.settings.api_token, clock=clock
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(
        main.run(settings, kubeconfig=str(plane.kubeconfig), namespaces=[NAMESPACE], stop_flag=stop, ready_flag=ready)
    )
    await asyncio.wait_for(ready.wait(), DEADLINE_S)
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, 10)  # cancelled after that: the demo is ending either way


@contextlib.asynccontextmanager
async def _stations(gateway: Gateway, clock: ManualClock) -> AsyncIterator[dict[str, Station]]:
    passwords = _example_passwords()
    versions = {"PARKSIDE-N2": OcppVersion.V201}
    stations = {
        cp_id: Station(
            StationConfig(
                cp_id,
                f"ws://127.0.0.1:{gateway.ocpp_port}/ocpp",
                password=password,
                ocpp_version=versions.get(cp_id, OcppVersion.V16),
                reconnect_initial_s=0.2,
                reconnect_max_s=1.0,
            ),
            clock=clock,
        )
        for cp_id, password in passwords.items()
    }
    tasks = [asyncio.create_task(station.run()) for station in stations.values()]
    try:
        # They connect once the operator has told the gateway their passwords (after the apply).
        yield stations
    finally:
        for station in stations.values():
            await station.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _example_passwords() -> dict[str, str]:
    """Charge point id → password, from the examples' Secret and Chargers."""
    documents = [d for f in sorted((ROOT / "examples").glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    secret = next(d for d in documents if d["kind"] == "Secret")
    return {
        d["spec"]["chargePointId"]: secret["stringData"][d["spec"]["security"]["basicAuthSecretRef"]["key"]]
        for d in documents
        if d["kind"] == "Charger"
    }


async def _charge(
    demo: Demo, clock: ManualClock, stations: dict[str, Station], sessions: list[scenario.PlannedSession]
) -> None:
    for station in stations.values():
        await station.wait_online(DEADLINE_S)
    week = None
    for planned in sessions:
        await clock.advance(max((planned.start - clock.now()).total_seconds(), 0))
        station = stations[planned.charge_point_id]
        started = await station.start_session(planned.id_tag, profile=planned.profile)
        await clock.advance((planned.stop - clock.now()).total_seconds())
        if started is not None:
            await station.stop_session(1)
        iso_week = planned.start.isocalendar().week
        if iso_week != week:
            week = iso_week
            demo.detail(f"week {iso_week}: {planned.start:%a %d %b} …")
    for station in stations.values():
        await station.wait_drained(DEADLINE_S)


async def _bill(plane: ControlPlane, gateway: Gateway, clock: ManualClock) -> Any:
    from kubernetes import client as k8s  # noqa: PLC0415
    from kubernetes import config as k8s_config  # noqa: PLC0415

    from chargeops.operator import billing_pass  # noqa: PLC0415
    from chargeops.operator.gateway_client import GatewayClient  # noqa: PLC0415
    from chargeops.operator.invoice_store import InvoiceStore  # noqa: PLC0415

    def items(kind: type[v1alpha1.Resource]) -> list[Any]:
        listed = json.loads(plane.kubectl("get", kind.names.plural, "-n", NAMESPACE, "-o", "json").stdout)["items"]
        return [kind.model_validate(item) for item in listed]

    site = next(s for s in items(v1alpha1.Site) if s.metadata["name"] == SITE)
    catalogue = billing_pass.Catalogue(
        chargers=items(v1alpha1.Charger), tariffs={t.metadata["name"]: t for t in items(v1alpha1.Tariff)}
    )
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(plane.kubeconfig)))  # type: ignore[no-untyped-call]
    async with GatewayClient(f"http://127.0.0.1:{gateway.control_port}", token=gateway.settings.api_token) as client:
        return await billing_pass.bill_site(
            site, items(v1alpha1.Subscription), catalogue, gateway=client, store=InvoiceStore(api), now=clock.now()
        )


def _approve(plane: ControlPlane, identity: str) -> str:
    """Approve the waiting charger as ``identity``; the admission policy's refusal, if any."""
    connection = approving.connect(str(plane.kubeconfig), context=identity)
    try:
        approving.approve(connection, approving.read(connection, UNAPPROVED, namespace=NAMESPACE))
    except approving_errors.ApprovalDeniedError as refused:
        return str(refused)
    return ""


def _ready_reasons(plane: ControlPlane) -> dict[str, str]:
    listed = json.loads(plane.kubectl("get", "chargers", "-n", NAMESPACE, "-o", "json").stdout)["items"]
    reasons: dict[str, str] = {}
    for item in listed:
        ready = next((c for c in (item.get("status") or {}).get("conditions", []) if c["type"] == "Ready"), None)
        reasons[item["metadata"]["name"]] = ready["reason"] if ready else ""
    return reasons


def _condition(plane: ControlPlane, kind: str, name: str, condition_type: str) -> dict[str, Any]:
    body = json.loads(plane.kubectl("get", kind, name, "-n", NAMESPACE, "-o", "json").stdout)
    return next(c for c in body["status"]["conditions"] if c["type"] == condition_type)


def _get(plane: ControlPlane, plural: str) -> str:
    return plane.kubectl("get", plural, "-n", NAMESPACE).stdout.rstrip()


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the demo waited {DEADLINE_S:.0f} s for {what}")
        await asyncio.sleep(0.5)


def _summary(demo: Demo, plane: ControlPlane) -> dict[str, Any]:
    demo.say("")
    tables = {plural: _get(plane, plural) for plural in ("chargers", "subscriptions", "invoices")}
    for table in tables.values():
        demo.say(table)
        demo.say("")
    invoices = json.loads(plane.kubectl("get", "invoices", "-n", NAMESPACE, "-o", "json").stdout)["items"]
    rendered: list[Path] = []
    site = v1alpha1.Site.model_validate(
        json.loads(plane.kubectl("get", "site", SITE, "-n", NAMESPACE, "-o", "json").stdout)
    )
    for item in invoices:
        invoice = v1alpha1.Invoice.model_validate(item)
        subscription = v1alpha1.Subscription.model_validate(
            json.loads(
                plane.kubectl(
                    "get", "subscription", invoice.spec.subscription_ref.name, "-n", NAMESPACE, "-o", "json"
                ).stdout
            )
        )
        path = demo.workdir / "invoices" / f"{invoice.metadata['name']}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render.invoice_html(invoice, site=site, subscription=subscription), encoding="utf-8")
        rendered.append(path)
        demo.say(render.invoice_text(invoice, site=site, subscription=subscription))
    for path in rendered:
        demo.say(f"Rendered invoice: {path}")
    demo.say(f"Done in {time.monotonic() - demo.started:.0f} s. Work folder: {demo.workdir}")
    return {"tables": tables, "invoices": [i["metadata"]["name"] for i in invoices], "rendered": rendered}
