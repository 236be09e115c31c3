"""kopf indexes of the objects a Charger's plan depends on, parsed into API models once per change.

kopf fills them before any handler runs and keeps them current from its watches. Handlers receive
them as kwargs named after these functions and wrap them in ``inventory.Inventory``. kopf calls them on
every event, a Charger's status writes included, so they are coroutines (a plain function would run in
a thread per event) and a Charger is parsed again only when what a plan reads changed (``parsing``).
"""

from collections.abc import Hashable
from typing import Any

import kopf

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import GROUP, VERSION
from chargeops.operator import coverage, duplicates, parsing


@kopf.index(GROUP, VERSION, "sites")
async def site_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Any, v1alpha1.Site]:
    """Sites by (namespace, name)."""
    return {(namespace, name): v1alpha1.Site.model_validate(dict(body))}


@kopf.index(GROUP, VERSION, "tariffs")
async def tariff_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Any, v1alpha1.Tariff]:
    """Tariffs by (namespace, name)."""
    return {(namespace, name): v1alpha1.Tariff.model_validate(dict(body))}


@kopf.index(GROUP, VERSION, "chargers")
async def charger_index(namespace: str | None, body: kopf.Body, **_: Any) -> dict[Hashable, v1alpha1.Charger]:
    """Chargers by namespace (sites, tariffs and billing read those of their namespace) and by
    ``coverage.charger_keys`` (a subscription reads those it may cover), without their status."""
    charger = parsing.charger(body)
    return {namespace: charger, **dict.fromkeys(coverage.charger_keys(charger), charger)}


@kopf.index(GROUP, VERSION, "chargers")
async def charger_status_index(uid: str, status: kopf.Status, **_: Any) -> dict[Any, dict[str, Any]]:
    """Each Charger's status as last seen, by uid: the newest there is, for a handler whose own body is older
    (it started before a timer wrote), and for counting Chargers by Ready."""
    return {uid: dict(status)}


@kopf.index(GROUP, VERSION, "chargers")
async def charge_point_index(spec: kopf.Spec, meta: kopf.Meta, **_: Any) -> dict[Any, duplicates.Claim]:
    """Chargers by spec.chargePointId, in every namespace served (a charge point belongs to one Charger)."""
    return {spec.get("chargePointId"): duplicates.claim_of(meta)}


@kopf.index(GROUP, VERSION, "subscriptions")
async def subscription_index(namespace: str | None, body: kopf.Body, **_: Any) -> dict[Hashable, v1alpha1.Subscription]:
    """Subscriptions by namespace (billing reads those of its namespace) and by ``coverage.keys_of`` (a
    charger's plan reads those that may cover it)."""
    subscription = v1alpha1.Subscription.model_validate(dict(body))
    return {namespace: subscription, **dict.fromkeys(coverage.keys_of(subscription), subscription)}
