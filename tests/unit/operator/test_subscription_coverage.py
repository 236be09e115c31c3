"""Finding the Subscriptions that may cover a Charger through index keys instead of trying every one."""

import itertools
from collections.abc import Hashable, Sequence
from typing import Any

import pytest

from chargeops.api import v1alpha1
from chargeops.operator import coverage, subscriptions
from chargeops.operator.inventory import Inventory


def charger(name: str, labels: dict[str, str], *, site: str = "parkside") -> v1alpha1.Charger:
    metadata = {"name": name, "namespace": "ops", "labels": labels}
    spec = {"chargePointId": name.upper(), "siteRef": {"name": site}}
    return v1alpha1.Charger.model_validate({"metadata": metadata, "spec": spec})


def subscription(name: str, *, site: str = "parkside", **spec: Any) -> v1alpha1.Subscription:
    body = {
        "siteRef": {"name": site},
        "subscriber": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "idTags": [f"TAG-{name}"],
        "startDate": "2026-10-01",
        **spec,
    }
    return v1alpha1.Subscription.model_validate({"metadata": {"name": name, "namespace": "ops"}, "spec": body})


SUBSCRIPTIONS = [
    subscription("named", chargerRefs=[{"name": "n1"}, {"name": "v1"}]),
    subscription("north", chargerSelector={"matchLabels": {"garage": "north"}}),
    subscription("north-fast", chargerSelector={"matchLabels": {"garage": "north", "speed": "fast"}}),
    subscription("fast", chargerSelector={"matchLabels": {"speed": "fast"}}),
    subscription("annex", site="annex", chargerSelector={"matchLabels": {"garage": "north"}}),
    subscription("annex-named", site="annex", chargerRefs=[{"name": "n1"}]),
]


def indexed(subs: list[v1alpha1.Subscription], chargers: Sequence[v1alpha1.Charger] = ()) -> Inventory:
    """An inventory whose indexes are filled as ``handlers/indexes.py`` fills kopf's."""
    by_key: dict[Hashable, list[v1alpha1.Subscription]] = {}
    for sub in subs:
        for key in ["ops", *coverage.keys_of(sub)]:
            by_key.setdefault(key, []).append(sub)
    chargers_by_key: dict[Hashable, list[v1alpha1.Charger]] = {}
    for one in chargers:
        for key in ["ops", *coverage.charger_keys(one)]:
            chargers_by_key.setdefault(key, []).append(one)
    return Inventory(sites={}, tariffs={}, chargers=chargers_by_key, subscriptions=by_key)


LABELS = [
    {},
    {"garage": "north"},
    {"garage": "north", "speed": "fast"},
    {"speed": "fast"},
    {"garage": "south", "speed": "fast"},
]
SITES = ["parkside", "annex"]
CHARGERS = [
    charger(name, labels, site=site) for name, labels, site in itertools.product(["n1", "v1", "s9"], LABELS, SITES)
]


@pytest.mark.parametrize("one", CHARGERS, ids=lambda ch: f"{ch.metadata['name']}-{ch.spec.site_ref.name}")
def test_the_candidates_hold_every_subscription_that_covers_the_charger(one: v1alpha1.Charger) -> None:
    candidates = indexed(SUBSCRIPTIONS).subscriptions_for(one)

    covering = {str(s.metadata["name"]) for s in SUBSCRIPTIONS if subscriptions.covers(s, one)}
    assert covering <= {str(s.metadata["name"]) for s in candidates}


def test_a_charger_looks_at_few_candidates() -> None:
    candidates = indexed(SUBSCRIPTIONS).subscriptions_for(charger("s9", {"garage": "north"}))

    assert sorted(str(s.metadata["name"]) for s in candidates) == ["north", "north-fast"]


def test_the_subscription_being_deleted_is_left_out() -> None:
    candidates = indexed(SUBSCRIPTIONS).subscriptions_for(charger("n1", {"garage": "north"}), excluding="north")

    assert sorted(str(s.metadata["name"]) for s in candidates) == ["named", "north-fast"]


def test_the_namespace_key_still_lists_every_subscription_of_the_namespace() -> None:
    assert len(indexed(SUBSCRIPTIONS).subscriptions_in("ops")) == len(SUBSCRIPTIONS)


@pytest.mark.parametrize("sub", SUBSCRIPTIONS, ids=lambda s: str(s.metadata["name"]))
def test_a_subscription_finds_exactly_the_chargers_it_covers(sub: v1alpha1.Subscription) -> None:
    # Names are unique in a namespace: n1 and v1 (named by some subscriptions) once each, the rest numbered.
    distinct = [charger("n1", {"garage": "north"}), charger("v1", {}, site="annex")] + [
        charger(f"c{i}", labels, site=site) for i, (labels, site) in enumerate(itertools.product(LABELS, SITES))
    ]
    inventory = indexed(SUBSCRIPTIONS, distinct)

    found = {str(ch.metadata["name"]) for ch in inventory.covered_by(sub)}

    assert found == {str(ch.metadata["name"]) for ch in distinct if subscriptions.covers(sub, ch)}
