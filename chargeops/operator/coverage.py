"""Index keys that find the Subscriptions that may cover a Charger, and the Chargers a Subscription may
cover, without trying every one: pure.

``handlers/indexes.py`` files each Subscription under ``keys_of`` it (each Charger it names, or one label
of its selector) and each Charger under ``charger_keys`` (its name and each of its labels). A Charger's
plan looks up ``keys_for`` it, a Subscription's handler ``keys_of`` it, so planning N chargers against K
subscriptions costs N lookups instead of N x K ``covers`` calls. ``subscriptions.covers`` still decides
on every candidate; the keys only narrow the search.
"""

from typing import Any

from chargeops.api.v1alpha1 import Charger, Subscription

NAMED = "named"
LABELLED = "labelled"
EVERY = "every"  # a selector without labels selects every Charger of the site

Key = tuple[Any, ...]
"""(NAMED, namespace, site, charger name), (LABELLED, namespace, site, label, value) or (EVERY, namespace,
site)."""


def keys_of(subscription: Subscription) -> list[Key]:
    """The keys ``subscription`` is filed under: one per Charger it names, or one label of its selector
    (the Charger must carry that label as well as the others)."""
    spec = subscription.spec
    where = (subscription.metadata.get("namespace"), spec.site_ref.name)
    if spec.charger_refs is not None:
        return [(NAMED, *where, ref.name) for ref in spec.charger_refs]
    if spec.charger_selector is not None:
        labels = spec.charger_selector.match_labels
        if not labels:
            return [(EVERY, *where)]
        key, value = min(labels.items())
        return [(LABELLED, *where, key, value)]
    return []


def keys_for(charger: Charger) -> list[Key]:
    """The keys under which the Subscriptions that may cover ``charger`` are filed."""
    return [*charger_keys(charger), (EVERY, charger.metadata.get("namespace"), charger.spec.site_ref.name)]


def charger_keys(charger: Charger) -> list[Key]:
    """The keys ``charger`` is filed under: its name and each of its labels (``EVERY`` is not one: a
    Subscription filed under it looks at every Charger of the namespace)."""
    where = (charger.metadata.get("namespace"), charger.spec.site_ref.name)
    labels = charger.metadata.get("labels") or {}
    return [
        (NAMED, *where, charger.metadata.get("name")),
        *((LABELLED, *where, key, value) for key, value in labels.items()),
    ]
