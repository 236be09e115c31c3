"""A timer tick that found nothing new writes nothing: unchanged status leaves the patch, lastSeen moves in
steps while the charger is connected, and a handler plans from the newest status the operator has seen."""

from datetime import UTC, datetime, timedelta
from typing import Any

import kopf

from chargeops.api import v1alpha1
from chargeops.api.gateway import ObservedState
from chargeops.operator import charger_status, parsing, planning
from chargeops.operator.handlers import chargers
from chargeops.operator.inventory import Inventory

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
SEEN = datetime(2026, 11, 2, 9, 29, 58, tzinfo=UTC)


def document(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "visitor-1", "namespace": "parkside", "generation": 7, "uid": "u-1"},
        "spec": {"chargePointId": "CP-1", "siteRef": {"name": "parkside"}},
        "status": status,
    }


def plan_for(body: dict[str, Any]) -> planning.ChargerPlan:
    site = v1alpha1.Site.model_validate(
        {"metadata": {"name": "parkside"}, "spec": {"plan": "Basic", "currency": "EUR"}}
    )
    return planning.plan_charger(v1alpha1.Charger.model_validate(body), site=site, tariff=None, grants=[])


def written(body: dict[str, Any], observed: ObservedState, *, now: datetime = NOW) -> kopf.Patch:
    """The patch one pass leaves, unchanged fields dropped."""
    patch = kopf.Patch()
    charger_status.write(body, patch, plan_for(body), observed, now=now)
    charger_status.drop_unchanged(body, patch)
    return patch


def applied(body: dict[str, Any], patch: kopf.Patch) -> dict[str, Any]:
    """``body`` after the API server merged ``patch`` into its status."""
    status = {**body["status"], **patch.get("status", {})}
    return {**body, "status": {key: value for key, value in status.items() if value is not None}}


def connected(body: dict[str, Any], *, last_seen: datetime = SEEN) -> ObservedState:
    return ObservedState(
        charge_point_id="CP-1", connected=True, last_seen=last_seen, applied_revision=plan_for(body).desired.revision
    )


def test_a_second_pass_with_nothing_new_leaves_an_empty_patch() -> None:
    body = document()
    first = written(body, connected(body))
    assert first["status"]["conditions"]

    again = written(applied(body, first), connected(body), now=NOW + timedelta(seconds=30))

    assert dict(again) == {}


def test_only_what_changed_is_written() -> None:
    body = document()
    body = applied(body, written(body, connected(body)))

    patch = written(body, connected(body).model_copy(update={"firmware_version": "2.1"}))

    assert patch["status"] == {"firmwareVersion": "2.1"}


def test_last_seen_of_a_connected_charger_moves_in_steps() -> None:
    body = document()
    body = applied(body, written(body, connected(body)))
    assert body["status"]["lastSeen"] == "2026-11-02T09:29:58Z"

    soon = written(body, connected(body, last_seen=SEEN + charger_status.LAST_SEEN_STEP - timedelta(seconds=1)))
    later = written(body, connected(body, last_seen=SEEN + charger_status.LAST_SEEN_STEP))

    assert "status" not in soon
    assert later["status"] == {"lastSeen": "2026-11-02T09:44:58Z"}


def test_last_seen_of_a_charger_that_disconnected_is_exact() -> None:
    body = document()
    body = applied(body, written(body, connected(body)))
    offline = ObservedState(charge_point_id="CP-1", connected=False, last_seen=SEEN + timedelta(seconds=40))

    patch = written(body, offline)

    assert patch["status"]["lastSeen"] == "2026-11-02T09:30:38Z"


def test_a_handler_plans_from_the_newest_status_not_its_own_older_body() -> None:
    older = kopf.Body(document())
    newer_status = {"conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "ok"}]}
    inventory = Inventory(sites={}, tariffs={}, chargers={}, subscriptions={}, statuses={"u-1": [newer_status]})

    seen = chargers.newest(older, inventory)

    assert seen["status"] == newer_status
    assert seen["metadata"]["generation"] == 7


def test_a_status_write_hands_out_the_same_parsed_charger() -> None:
    body = document()
    first = parsing.charger(body)
    again = parsing.charger({**body, "status": {"lastSeen": "2026-11-02T09:29:58Z"}})
    relabelled = parsing.charger({**body, "metadata": {**body["metadata"], "labels": {"garage": "north"}}})

    assert again is first
    assert first.status is None
    assert relabelled is not first
    assert relabelled.metadata["labels"] == {"garage": "north"}
