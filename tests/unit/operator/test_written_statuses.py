"""A Charger's status as this operator last wrote it is read back until the watch shows it, so a tick that
starts while the watch lags behind the operator's own write writes nothing again."""

from datetime import UTC, datetime, timedelta
from typing import Any

import kopf

from chargeops.api import v1alpha1
from chargeops.api.gateway import ObservedState
from chargeops.operator import charger_status, planning, status_memory
from chargeops.operator.handlers import chargers
from chargeops.operator.inventory import Inventory
from chargeops.operator.status_memory import WrittenStatuses

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def document(**status: Any) -> kopf.Body:
    return kopf.Body(
        {
            "metadata": {"name": "visitor-1", "namespace": "parkside", "generation": 7, "uid": "u-1"},
            "spec": {"chargePointId": "CP-1", "siteRef": {"name": "parkside"}},
            "status": status,
        }
    )


def plan_for(body: kopf.Body) -> planning.ChargerPlan:
    site = v1alpha1.Site.model_validate(
        {"metadata": {"name": "parkside"}, "spec": {"plan": "Basic", "currency": "EUR"}}
    )
    return planning.plan_charger(v1alpha1.Charger.model_validate(dict(body)), site=site, tariff=None, grants=[])


def watching(status: dict[str, Any] | None) -> Inventory:
    statuses = {} if status is None else {"u-1": [status]}
    return Inventory(sites={}, tariffs={}, chargers={}, subscriptions={}, statuses=statuses)


def tick(body: kopf.Body, inventory: Inventory, written: WrittenStatuses, *, now: datetime) -> kopf.Patch:
    """What a timer tick writes: status from the newest known, unchanged fields dropped, remembered."""
    seen = chargers.newest(body, inventory, written)
    patch = kopf.Patch()
    observed = ObservedState(charge_point_id="CP-1", connected=False)
    charger_status.write(seen, patch, plan_for(body), observed, now=now)
    charger_status.drop_unchanged(seen, patch)
    written.remember("u-1", seen.get("status") or {}, patch.get("status"))
    return patch


def test_a_tick_before_the_watch_shows_the_last_write_writes_nothing_again() -> None:
    written = WrittenStatuses()
    body = document()
    first = tick(body, watching(None), written, now=NOW)
    assert first["status"]["conditions"]

    again = tick(body, watching(None), written, now=NOW + timedelta(seconds=5))

    assert dict(again) == {}


def test_without_the_memory_the_lagging_watch_made_the_same_status_again_with_new_times() -> None:
    body = document()
    first = tick(body, watching(None), WrittenStatuses(), now=NOW)

    again = tick(body, watching(None), WrittenStatuses(), now=NOW + timedelta(seconds=5))

    assert again["status"]["conditions"] != first["status"]["conditions"]  # the lastTransitionTimes moved


def test_the_watched_status_counts_again_once_it_shows_the_write() -> None:
    written = WrittenStatuses()
    written.remember("u-1", {}, {"mode": "Free"})
    assert written.newest("u-1", {"mode": "PayPerMonth"}) == {"mode": "Free"}

    assert written.newest("u-1", {"mode": "Free"}) == {"mode": "Free"}
    assert written.newest("u-1", {"mode": "PayPerMonth"}) == {"mode": "PayPerMonth"}  # forgotten once shown


def test_a_write_the_watch_never_shows_is_trusted_only_for_a_while() -> None:
    clock = Clock()
    written = WrittenStatuses(clock=clock)
    written.remember("u-1", {}, {"mode": "Free"})
    clock.now += status_memory.TRUST_S - 1
    assert written.newest("u-1", None) == {"mode": "Free"}

    clock.now += 2

    assert written.newest("u-1", None) is None


def test_an_empty_patch_is_not_remembered() -> None:
    written = WrittenStatuses()
    written.remember("u-1", {"mode": "Free"}, None)

    assert written.newest("u-1", {"mode": "PayPerMonth"}) == {"mode": "PayPerMonth"}


def test_a_written_status_is_merged_as_the_api_server_merges_it() -> None:
    before = {"mode": "Free", "drift": {"lastDetectedTime": "t1", "differences": ["A"]}, "vendor": "x"}

    after = status_memory.merged(before, {"drift": {"differences": None, "lastRepairedTime": "t2"}, "vendor": None})

    assert after == {"mode": "Free", "drift": {"lastDetectedTime": "t1", "lastRepairedTime": "t2"}}
    assert before["vendor"] == "x"  # the original is left as it was
