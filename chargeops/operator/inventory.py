"""The objects a Charger's plan depends on, read from kopf's in-memory indexes.

kopf fills every index before it calls the first handler, so a handler never plans from a half-read
cluster. The index functions live in ``handlers/indexes.py``; this module only reads them.
"""

import dataclasses
from collections.abc import Hashable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chargeops.api.v1alpha1 import Charger, Site, Subscription, Tariff
from chargeops.operator import coverage, subscriptions
from chargeops.operator.duplicates import Claim

Model = TypeVar("Model")


@dataclasses.dataclass(frozen=True)
class Inventory:
    """Views of the indexes one handler call received."""

    sites: Mapping[Any, Iterable[Site]]
    tariffs: Mapping[Any, Iterable[Tariff]]
    chargers: Mapping[Any, Iterable[Charger]]
    """By namespace, and by ``coverage.charger_keys``."""
    subscriptions: Mapping[Any, Iterable[Subscription]]
    """By namespace, and by ``coverage.keys_of``."""
    charge_points: Mapping[Any, Iterable[Claim]] = dataclasses.field(default_factory=dict)
    """Chargers by spec.chargePointId, across namespaces."""
    statuses: Mapping[Any, Iterable[Mapping[str, Any]]] = dataclasses.field(default_factory=dict)
    """Chargers' status as last seen, by uid."""

    def site(self, namespace: str | None, name: str) -> Site | None:
        return _first(self.sites, (namespace, name))

    def tariff(self, namespace: str | None, name: str) -> Tariff | None:
        return _first(self.tariffs, (namespace, name))

    def tariffs_in(self, namespace: str | None) -> list[Tariff]:
        return [t for (ns, _), found in self.tariffs.items() for t in found if ns == namespace]

    def chargers_in(self, namespace: str | None) -> list[Charger]:
        return list(self.chargers.get(namespace, ()))

    def subscriptions_in(self, namespace: str | None, *, excluding: str | None = None) -> list[Subscription]:
        return [s for s in self.subscriptions.get(namespace, ()) if s.metadata.get("name") != excluding]

    def covered_by(self, subscription: Subscription) -> list[Charger]:
        """The Chargers ``subscription`` covers."""
        namespace = subscription.metadata.get("namespace")
        found: dict[Hashable, Charger] = {}
        for key in coverage.keys_of(subscription):
            pool = self.chargers_in(namespace) if key[0] == coverage.EVERY else self.chargers.get(key, ())
            for charger in pool:
                found.setdefault(charger.metadata.get("name"), charger)
        return [charger for charger in found.values() if subscriptions.covers(subscription, charger)]

    def subscriptions_for(self, charger: Charger, *, excluding: str | None = None) -> list[Subscription]:
        """The Subscriptions that may cover ``charger`` (``subscriptions.covers`` decides), except ``excluding``."""
        found: dict[Hashable, Subscription] = {}
        for key in coverage.keys_for(charger):
            for subscription in self.subscriptions.get(key, ()):
                found.setdefault(subscription.metadata.get("name"), subscription)
        return [s for name, s in found.items() if name != excluding]

    def claims(self, charge_point_id: str) -> list[Claim]:
        return list(self.charge_points.get(charge_point_id, ()))

    def status_of(self, uid: str | None) -> Mapping[str, Any] | None:
        """The status of the Charger with ``uid`` as last seen; None when it is not indexed."""
        return _first(self.statuses, uid)


def local_today(site: Site | None, now: datetime) -> date:
    """Today's date in the site's time zone (UTC when the site or its zone is unknown)."""
    zone: ZoneInfo | Any = UTC
    if site is not None:
        try:
            zone = ZoneInfo(site.spec.time_zone)
        except ZoneInfoNotFoundError:
            zone = UTC
    return now.astimezone(zone).date()


def _first(index: Mapping[Any, Iterable[Model]], key: Hashable) -> Model | None:
    return next(iter(index.get(key, ())), None)
