"""A month of charging through the real gateway, billed into Invoices in the real API server.

Simulated chargers on a manual clock charge at a constant 6 kW, so every session's energy is known
exactly and the invoices can be computed by hand (below, next to each expected figure). The billing pass
runs as the operator runs it (``billing_pass.bill_site``) with the gateway's control API and the API
server, at chosen moments of the simulated calendar.

Site parkside: Europe/Amsterdam, EUR, grace 72h. Tariff time-of-day (VAT 21% on everything):
  off-peak 23:00–07:00  ENERGY 0.20/kWh
  otherwise             ENERGY 0.40/kWh, TIME 1.20/h (applies day and night: off-peak prices no TIME),
                        FLAT 0.50 per session
  monthly fee 10.00
Subscription ada from 2026-10-10 (mid-month) on chargers park-1 and park-2.
Site tokyo: Asia/Tokyo, JPY (no minor unit), ENERGY 33/kWh, VAT 10%; subscription bob.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import Invoice, approval
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.operator import billing_pass
from chargeops.operator.gateway_client import GatewayClient
from chargeops.operator.invoice_store import InvoiceStore
from chargeops.operator.runtime import SecretReader
from chargeops.simulator.clock import ManualClock
from chargeops.simulator.meter import PowerProfile
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e.harness import PASSWORD, Control, RunningGateway

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TOKYO = ZoneInfo("Asia/Tokyo")
SIX_KW = PowerProfile(max_power_w=6_000, energy_need_wh=10**9, ramp_s=0)
ADA, BOB = "ADA-0001", "BOB-0001"

OBJECTS = """
apiVersion: chargeops.io/v1alpha1
kind: Site
metadata: {name: parkside}
spec: {plan: Business, currency: EUR, timeZone: Europe/Amsterdam, billing: {gracePeriod: 72h}}
---
apiVersion: chargeops.io/v1alpha1
kind: Tariff
metadata: {name: time-of-day}
spec:
  currency: EUR
  elements:
    - restrictions: {startTime: "23:00", endTime: "07:00"}
      priceComponents:
        - {type: ENERGY, price: "0.20", vat: "21"}
    - priceComponents:
        - {type: ENERGY, price: "0.40", vat: "21"}
        - {type: TIME, price: "1.20", vat: "21"}
        - {type: FLAT, price: "0.50", vat: "21"}
  monthlyFee: {price: "10.00", vat: "21"}
---
apiVersion: chargeops.io/v1alpha1
kind: Charger
metadata: {name: park-1}
spec:
  chargePointId: PARK-1
  siteRef: {name: parkside}
  chargingMode: {payPerMonth: true, tariffRef: {name: time-of-day}}
---
apiVersion: chargeops.io/v1alpha1
kind: Charger
metadata: {name: park-2}
spec:
  chargePointId: PARK-2
  siteRef: {name: parkside}
  chargingMode: {payPerMonth: true, tariffRef: {name: time-of-day}}
---
apiVersion: chargeops.io/v1alpha1
kind: Subscription
metadata: {name: ada, annotations: {chargeops.io/accepted: "2026-10-01T09:00:00Z"}}
spec:
  siteRef: {name: parkside}
  subscriber: {name: Ada Lovelace, email: ada@example.com}
  idTags: [ADA-0001]
  chargerRefs: [{name: park-1}, {name: park-2}]
  startDate: "2026-10-10"
---
# Invited, never accepted: owes nothing, not even the monthly fee.
apiVersion: chargeops.io/v1alpha1
kind: Subscription
metadata: {name: cy}
spec:
  siteRef: {name: parkside}
  subscriber: {name: Cy, email: cy@example.com}
  idTags: [CY-0001]
  chargerRefs: [{name: park-1}]
  startDate: "2026-10-01"
---
apiVersion: chargeops.io/v1alpha1
kind: Site
metadata: {name: tokyo}
spec: {plan: Business, currency: JPY, timeZone: Asia/Tokyo}
---
apiVersion: chargeops.io/v1alpha1
kind: Tariff
metadata: {name: yen}
spec:
  currency: JPY
  elements:
    - priceComponents:
        - {type: ENERGY, price: "33", vat: "10"}
---
apiVersion: chargeops.io/v1alpha1
kind: Charger
metadata: {name: tokyo-1}
spec:
  chargePointId: TOKYO-1
  siteRef: {name: tokyo}
  chargingMode: {payPerMonth: true, tariffRef: {name: yen}}
---
apiVersion: chargeops.io/v1alpha1
kind: Subscription
metadata: {name: bob, annotations: {chargeops.io/accepted: "2026-10-01T09:00:00Z"}}
spec:
  siteRef: {name: tokyo}
  subscriber: {name: Bob, email: bob@example.com}
  idTags: [BOB-0001]
  chargerRefs: [{name: tokyo-1}]
  startDate: "2026-10-01"
"""


def local(zone: ZoneInfo, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


class Calendar:
    """The simulated time every station runs on, moved forward by the test."""

    def __init__(self, start: datetime) -> None:
        self.clock = ManualClock(start)

    async def until(self, moment: datetime) -> None:
        await self.clock.advance((moment - self.clock.now()).total_seconds())


async def charge(calendar: Calendar, station: Station, id_tag: str, start: datetime, stop: datetime) -> None:
    """One session from ``start`` to ``stop`` at 6 kW, delivered when the station is online."""
    await calendar.until(start)
    assert await station.start_session(id_tag, profile=SIX_KW) is not None
    await calendar.until(stop)
    assert await station.stop_session(1) is not None


@contextlib.asynccontextmanager
async def stations(gateway: RunningGateway, calendar: Calendar, *cp_ids: str) -> AsyncIterator[dict[str, Station]]:
    running = {
        cp_id: Station(
            StationConfig(
                cp_id,
                gateway.ocpp_url,
                password=PASSWORD,
                reconnect_initial_s=0.1,
                reconnect_max_s=0.5,
                # Readings every quarter hour; offline, the charger admits the tag (free mode says so too).
                configuration={"MeterValueSampleInterval": "900", "AllowOfflineTxForUnknownId": "true"},
            ),
            clock=calendar.clock,
        )
        for cp_id in cp_ids
    }
    tasks = [asyncio.create_task(station.run()) for station in running.values()]
    try:
        for station in running.values():
            await station.wait_online()
        yield running
    finally:
        for station in running.values():
            await station.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Billing:
    """The billing pass as the operator runs it, against the test's API server and gateway."""

    def __init__(self, control_plane: ControlPlane, kubectl: NamespacedKubectl, gateway: RunningGateway) -> None:
        self.kubectl = kubectl
        self.namespace = kubectl.namespace
        self.gateway = gateway
        self.kubeconfig = str(control_plane.kubeconfig)

    def objects(self, kind: str) -> list[dict[str, Any]]:
        return list(json.loads(self.kubectl("get", kind, "-o", "json").stdout)["items"])

    async def run(self, site: str, now: datetime, *, secrets: SecretReader | None = None) -> billing_pass.PassResult:
        sites = [v1alpha1.Site.model_validate(o) for o in self.objects("sites")]
        catalogue = billing_pass.Catalogue(
            chargers=[v1alpha1.Charger.model_validate(o) for o in self.objects("chargers")],
            tariffs={o["metadata"]["name"]: v1alpha1.Tariff.model_validate(o) for o in self.objects("tariffs")},
        )
        subscriptions = [v1alpha1.Subscription.model_validate(o) for o in self.objects("subscriptions")]
        store = InvoiceStore(k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=self.kubeconfig)))
        async with GatewayClient(self.gateway.control_url, token=self.gateway.token) as client:
            return await billing_pass.bill_site(
                next(s for s in sites if s.metadata["name"] == site),
                subscriptions,
                catalogue,
                gateway=client,
                store=store,
                now=now,
                secrets=secrets,
            )

    def invoice(self, name: str) -> Invoice:
        return Invoice.model_validate(json.loads(self.kubectl("get", "invoice", name, "-o", "json").stdout))

    def invoices(self) -> dict[str, Invoice]:
        return {o["metadata"]["name"]: Invoice.model_validate(o) for o in self.objects("invoices")}


def approve_chargers(kubectl: NamespacedKubectl, objects: str = OBJECTS) -> None:
    for document in yaml.safe_load_all(objects):
        if document["kind"] == "Charger":
            value = approval.fingerprint(v1alpha1.ChargerSpec.model_validate(document["spec"]))
            name = document["metadata"]["name"]
            kubectl("annotate", "charger", name, f"{approval.ANNOTATION}={value}", "--overwrite")


def lines_by_kind(invoice: Invoice) -> dict[str, list[Decimal]]:
    found: dict[str, list[Decimal]] = {}
    for line in invoice.spec.lines:
        found.setdefault(line.kind.value, []).append(line.amount)
    return found


async def test_a_month_of_charging_becomes_invoices_computed_by_hand(
    control_plane: ControlPlane, kubectl: NamespacedKubectl, gateway: RunningGateway, control: Control
) -> None:
    kubectl("apply", "-f", "-", input=OBJECTS)
    approve_chargers(kubectl)
    for cp_id in ("PARK-1", "PARK-2", "TOKYO-1"):
        await control.put_desired(cp_id, password=PASSWORD, authorization="Free", heartbeatIntervalS=86_400)
    billing = Billing(control_plane, kubectl, gateway)
    calendar = Calendar(local(AMSTERDAM, "2026-10-01T08:00"))

    async with stations(gateway, calendar, "PARK-1", "PARK-2", "TOKYO-1") as chargers:
        park1, park2, tokyo1 = chargers["PARK-1"], chargers["PARK-2"], chargers["TOKYO-1"]
        # Tokyo: 101 minutes at 6 kW = 10.1 kWh x 33 = 333.3 -> 333 JPY; VAT 10% = 33.3 -> 33; total 366.
        await charge(calendar, tokyo1, BOB, local(TOKYO, "2026-10-05T10:00"), local(TOKYO, "2026-10-05T11:41"))
        # Before ada's start date (10th): not ada's to pay.
        await charge(calendar, park1, ADA, local(AMSTERDAM, "2026-10-08T12:00"), local(AMSTERDAM, "2026-10-08T13:00"))
        # S1, peak: 12 kWh x 0.40 = 4.80, 2 h x 1.20 = 2.40, flat 0.50 -> 7.70.
        await charge(calendar, park1, ADA, local(AMSTERDAM, "2026-10-12T18:00"), local(AMSTERDAM, "2026-10-12T20:00"))
        # S2 across 23:00: 6 kWh x 0.40 + 6 kWh x 0.20 = 3.60, 2 h x 1.20 = 2.40, flat 0.50 -> 6.50.
        await charge(calendar, park1, ADA, local(AMSTERDAM, "2026-10-14T22:00"), local(AMSTERDAM, "2026-10-15T00:00"))
        # S3 over the end of DST: 01:00 CEST to 04:00 CET is 4 real hours: 24 kWh x 0.20 = 4.80,
        # 4 h x 1.20 = 4.80, flat 0.50 -> 10.10.
        await charge(
            calendar,
            park1,
            ADA,
            datetime(2026, 10, 24, 23, tzinfo=UTC),  # 01:00 CEST on the 25th
            datetime(2026, 10, 25, 3, tzinfo=UTC),  # 04:00 CET
        )
        # S5, offline on park-2 from the 28th until after October is final: 1 h peak -> 2.40 + 1.20 + 0.50 = 4.10.
        await park2.go_offline()
        await charge(calendar, park2, ADA, local(AMSTERDAM, "2026-10-28T10:00"), local(AMSTERDAM, "2026-10-28T11:00"))
        # S4 over the month's end, 22:00 to 02:00 CET: October 22-23 peak 6 kWh x 0.40 = 2.40, 23-24 off-peak
        # 6 kWh x 0.20 = 1.20, 2 h x 1.20 = 2.40, flat 0.50 -> 6.50; November 12 kWh x 0.20 = 2.40, 2 h x 1.20
        # = 2.40 -> 4.80.
        await charge(calendar, park1, ADA, local(AMSTERDAM, "2026-10-31T22:00"), local(AMSTERDAM, "2026-11-01T02:00"))
        for station in (park1, tokyo1):
            await station.wait_drained()

        # November 2nd: October is closed but within its grace period: drafts.
        await calendar.until(local(AMSTERDAM, "2026-11-02T12:00"))
        draft_pass = await billing.run("parkside", calendar.clock.now())
        assert draft_pass.drafted == ["ada-2026-10"]
        assert draft_pass.finalized == {}
        draft = billing.invoice("ada-2026-10")
        assert not draft.spec.finalized
        assert draft.status is not None
        assert draft.status.phase == "Draft"

        # November 5th: past the grace; two passes at once (two operator processes) finalize once.
        await calendar.until(local(AMSTERDAM, "2026-11-05T12:00"))
        now = calendar.clock.now()
        await asyncio.gather(billing.run("parkside", now), billing.run("parkside", now))
        await billing.run("tokyo", now)

        october = billing.invoice("ada-2026-10")
        # Fee: 22 of 31 days (10th-31st) x 10.00 = 7.0967... -> 7.10.
        assert lines_by_kind(october) == {
            "Session": [Decimal("7.70"), Decimal("6.50"), Decimal("10.10"), Decimal("6.50")],
            "MonthlyFee": [Decimal("7.10")],
        }
        # 37.90 at 21% = 7.959 -> 7.96 once for the invoice; total 45.86.
        assert (october.spec.subtotal, october.spec.total) == (Decimal("37.90"), Decimal("45.86"))
        assert [(v.rate, v.amount) for v in october.spec.vat] == [(Decimal("21"), Decimal("7.96"))]
        assert october.spec.finalized
        assert october.spec.number == "INV-000001"
        assert october.status is not None
        assert october.status.phase == "Finalized"

        yen = billing.invoice("bob-2026-10")
        assert (yen.spec.currency, yen.spec.subtotal, yen.spec.total) == ("JPY", Decimal(333), Decimal(366))
        assert yen.spec.number == "INV-000001"  # each site numbers its own invoices

        # park-2 comes back and delivers S5, which October's final invoice missed.
        park2.go_online()
        await park2.wait_online()
        await park2.wait_drained()
        await calendar.until(local(AMSTERDAM, "2026-12-05T12:00"))
        await billing.run("parkside", calendar.clock.now())

    november = billing.invoice("ada-2026-11")
    # Adjustment S5 4.10, S4's November part 4.80, full fee 10.00 -> 18.90; VAT 3.969 -> 3.97; total 22.87.
    assert lines_by_kind(november) == {
        "Adjustment": [Decimal("4.10")],
        "Session": [Decimal("4.80")],
        "MonthlyFee": [Decimal("10.00")],
    }
    assert (november.spec.subtotal, november.spec.total) == (Decimal("18.90"), Decimal("22.87"))
    assert november.spec.number == "INV-000002"
    # October's invoice did not change, and each (subscription, month) has exactly one invoice.
    assert billing.invoice("ada-2026-10").spec == october.spec
    assert sorted(billing.invoices()) == ["ada-2026-10", "ada-2026-11", "bob-2026-10"]
    site = json.loads(kubectl("get", "site", "parkside", "-o", "json").stdout)
    assert site["status"]["lastInvoiceNumber"] == 2
