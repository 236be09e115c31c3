"""kopf indexes of the objects a Charger's plan depends on, parsed into API models once per change.

kopf fills them before any handler runs and keeps them current from its watches. Handlers receive
them as kwargs named after these functions and wrap them in ``inventory.Inventory``.
"""

from typing import Any

import kopf

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import GROUP, VERSION
from chargeops.operator import duplicates


@kopf.index(GROUP, VERSION, "sites")
def site_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Any, v1alpha1.Site]:
    """Sites by (namespace, name)."""
    return {(namespace, name): v1alpha1.Site.model_validate(dict(body))}


@kopf.index(GROUP, VERSION, "tariffs")
def tariff_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Any, v1alpha1.Tariff]:
    """Tariffs by (namespace, name)."""
    return {(namespace, name): v1alpha1.Tariff.model_validate(dict(body))}


@kopf.index(GROUP, VERSION, "chargers")
def charger_index(namespace: str | None, body: kopf.Body, **_: Any) -> dict[Any, v1alpha1.Charger]:
    """Chargers by namespace (subscriptions select among them)."""
    return {namespace: v1alpha1.Charger.model_validate(dict(body))}


@kopf.index(GROUP, VERSION, "chargers")
def charge_point_index(spec: kopf.Spec, meta: kopf.Meta, **_: Any) -> dict[Any, duplicates.Claim]:
    """Chargers by spec.chargePointId, in every namespace served (a charge point belongs to one Charger)."""
    return {spec.get("chargePointId"): duplicates.claim_of(meta)}


@kopf.index(GROUP, VERSION, "subscriptions")
def subscription_index(namespace: str | None, body: kopf.Body, **_: Any) -> dict[Any, v1alpha1.Subscription]:
    """Subscriptions by namespace (a charger's plan reads those of its namespace)."""
    return {namespace: v1alpha1.Subscription.model_validate(dict(body))}
