"""The objects ``operator_convergence.py`` applies, and which simulated charger stands behind each Charger.

One Site (Business plan), one Tariff and one Secret with the chargers' password; ``--chargers`` Chargers,
pay-per-month and approved, labelled with a group; ``--subscriptions`` Subscriptions (accepted, active),
subscription ``k`` covering group ``k`` by label selector, so each charger holds one subscriber's two id
tags. Charger ``OCB<w>-<n>`` is simulated by fleet worker ``w``.
"""

import argparse
import dataclasses
import math
from typing import Any

import charger_fleet

from chargeops.api.v1alpha1 import ChargerSpec, approval
from chargeops.api.v1alpha1.subscription import ACCEPTED_ANNOTATION
from chargeops.simulator import fleet

API = "chargeops.io/v1alpha1"
PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throwaway gateway's chargers
GROUP_LABEL = "bench.chargeops.io/group"
SITE, TARIFF, SECRET = "bench", "bench-energy", "bench-charger-passwords"
# The key a configuration change sets: an integer every charger accepts without a reboot.
CHANGED_KEY = "MeterValueSampleInterval"
# One simulated-charger process per this many chargers: full ``ocpp`` stations cost CPU per message.
CHARGERS_PER_FLEET_WORKER = 5_000


@dataclasses.dataclass(frozen=True)
class Layout:
    """Which chargers exist, which process simulates each, and which subscription covers each."""

    workers: list[charger_fleet.Plan]
    charge_point_ids: list[str]
    subscriptions: int

    def name(self, cp_id: str) -> str:
        return cp_id.lower()

    def group(self, index: int) -> int | None:
        return index % self.subscriptions if self.subscriptions else None

    def worker_of(self, cp_id: str) -> int:
        return int(cp_id.split("-", 1)[0].removeprefix("OCB"))

    def covered_by(self, subscription: int) -> list[str]:
        return self.charge_point_ids[subscription :: self.subscriptions]


def subscription_tags(subscription: int) -> list[str]:
    return [f"T{subscription}-CARD", f"T{subscription}-APP"]


def layout(args: argparse.Namespace, gateway_ws: str) -> Layout:
    workers = args.fleet_workers or max(1, math.ceil(args.chargers / CHARGERS_PER_FLEET_WORKER))
    workers = min(workers, args.chargers)
    counts = [args.chargers // workers + (1 if w < args.chargers % workers else 0) for w in range(workers)]
    ids_by_worker = [fleet.charge_point_ids(count, prefix=f"OCB{w}-") for w, count in enumerate(counts)]
    # Interleaved, so a group (one subscription) has chargers in every worker and apply order mixes them.
    ids = [ids_by_worker[w][i] for i in range(max(counts)) for w in range(workers) if i < counts[w]]
    k = args.subscriptions
    tags = {cp_id: frozenset(subscription_tags(i % k)) if k else frozenset() for i, cp_id in enumerate(ids)}
    plans = [
        charger_fleet.Plan(
            gateway_url=gateway_ws,
            id_prefix=f"OCB{w}-",
            count=count,
            password=PASSWORD,
            expected_tags={cp_id: tags[cp_id] for cp_id in ids_by_worker[w]},
            connect_rate=args.connect_rate / workers,
            reconnect_max_s=args.charger_retry_max_s,
            seed=args.seed + w,
        )
        for w, count in enumerate(counts)
    ]
    return Layout(workers=plans, charge_point_ids=ids, subscriptions=k)


def base_objects(namespace: str) -> list[dict[str, Any]]:
    """The Site, the Tariff and the Secret every Charger uses."""
    meta = {"namespace": namespace}
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET, **meta},
            "type": "Opaque",
            "stringData": {"password": PASSWORD},
        },
        {
            "apiVersion": API,
            "kind": "Site",
            "metadata": {"name": SITE, **meta},
            "spec": {"displayName": "Benchmark site", "plan": "Business", "timeZone": "UTC", "currency": "EUR"},
        },
        {
            "apiVersion": API,
            "kind": "Tariff",
            "metadata": {"name": TARIFF, **meta},
            "spec": {
                "currency": "EUR",
                "elements": [{"priceComponents": [{"type": "ENERGY", "price": "0.30", "vat": "21", "stepSize": 100}]}],
            },
        },
    ]


def charger_spec(cp_id: str) -> dict[str, Any]:
    return {
        "chargePointId": cp_id,
        "siteRef": {"name": SITE},
        "ocppVersion": "1.6",
        "chargingMode": {"payPerMonth": True, "tariffRef": {"name": TARIFF}},
        "security": {"profile": 1, "basicAuthSecretRef": {"name": SECRET, "key": "password"}},
        "configuration": [{"key": CHANGED_KEY, "value": "60"}],
    }


def workload_objects(plan: Layout, namespace: str) -> list[dict[str, Any]]:
    """The Chargers (approved pay-per-month), then the Subscriptions, as the examples order them."""
    fingerprint = approval.fingerprint(ChargerSpec.model_validate(charger_spec("X")))
    objects: list[dict[str, Any]] = []
    for index, cp_id in enumerate(plan.charge_point_ids):
        group = plan.group(index)
        objects.append(
            {
                "apiVersion": API,
                "kind": "Charger",
                "metadata": {
                    "name": plan.name(cp_id),
                    "namespace": namespace,
                    "labels": {GROUP_LABEL: f"g{group}"} if group is not None else {},
                    "annotations": {approval.ANNOTATION: fingerprint},
                },
                "spec": charger_spec(cp_id),
            }
        )
    for k in range(plan.subscriptions):
        objects.append(
            {
                "apiVersion": API,
                "kind": "Subscription",
                "metadata": {
                    "name": f"sub-{k:05d}",
                    "namespace": namespace,
                    # Stands in for the subscriber's acceptance until the invitation flow records it.
                    "annotations": {ACCEPTED_ANNOTATION: "2020-01-01T00:00:00Z"},
                },
                "spec": {
                    "siteRef": {"name": SITE},
                    "subscriber": {"name": f"Subscriber {k}", "email": f"subscriber-{k}@example.com"},
                    "idTags": subscription_tags(k),
                    "chargerSelector": {"matchLabels": {GROUP_LABEL: f"g{k}"}},
                    "startDate": "2020-01-01",
                },
            }
        )
    return objects
