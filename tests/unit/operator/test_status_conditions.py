"""Condition helpers: the whole list goes into the patch, transition times move only on change."""

from datetime import UTC, datetime
from typing import Any

import kopf

from chargeops.operator import conditions

EARLIER = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def body(*existing: dict[str, Any], generation: int = 3) -> dict[str, Any]:
    return {"metadata": {"name": "cp", "generation": generation}, "status": {"conditions": list(existing)}}


def ready(status: str = "True", reason: str = "Succeeded", message: str = "ok", when: str = "2026-11-01T08:00:00Z"):
    return {"type": "Ready", "status": status, "reason": reason, "message": message, "lastTransitionTime": when}


def test_new_condition_is_added_with_generation_and_time() -> None:
    patch = kopf.Patch()
    assert conditions.mark_false(body(), patch, "Approved", "AwaitingApproval", "Set the annotation.", now=LATER)
    assert patch["status"]["conditions"] == [
        {
            "type": "Approved",
            "status": "False",
            "reason": "AwaitingApproval",
            "message": "Set the annotation.",
            "lastTransitionTime": "2026-11-02T09:30:00Z",
            "observedGeneration": 3,
        }
    ]
    assert patch["status"]["observedGeneration"] == 3


def test_an_unchanged_condition_keeps_its_transition_time() -> None:
    patch = kopf.Patch()
    assert not conditions.mark_true(body(ready()), patch, "Ready", "Succeeded", "ok", now=LATER)
    assert patch["status"]["conditions"][0]["lastTransitionTime"] == "2026-11-01T08:00:00Z"


def test_a_new_message_moves_the_transition_time() -> None:
    patch = kopf.Patch()
    assert conditions.mark_true(body(ready()), patch, "Ready", "Succeeded", "other", now=LATER)
    assert patch["status"]["conditions"][0]["lastTransitionTime"] == "2026-11-02T09:30:00Z"


def test_the_whole_list_is_written_and_calls_build_on_each_other() -> None:
    patch = kopf.Patch()
    existing = body(
        ready(),
        {
            "type": "Connected",
            "status": "True",
            "reason": "ChargerConnected",
            "message": "",
            "lastTransitionTime": "2026-11-01T08:00:00Z",
        },
    )
    conditions.mark_false(existing, patch, "Connected", "ChargerOffline", "No connection.", now=LATER)
    conditions.mark_false(existing, patch, "Ready", "ChargerOffline", "No connection.", now=LATER)
    types = [(c["type"], c["status"]) for c in patch["status"]["conditions"]]
    assert types == [("Ready", "False"), ("Connected", "False")]
    assert conditions.get_reason(existing, patch, "Ready") == "ChargerOffline"
    assert not conditions.is_true(existing, patch, "Connected")


def test_reconciling_is_removed_when_done() -> None:
    patch = kopf.Patch()
    existing = body(
        ready(),
        {
            "type": "Reconciling",
            "status": "True",
            "reason": "Progressing",
            "message": "",
            "lastTransitionTime": "2026-11-01T08:00:00Z",
        },
    )
    assert conditions.delete(existing, patch, "Reconciling")
    assert [c["type"] for c in patch["status"]["conditions"]] == ["Ready"]
    assert not conditions.delete(existing, patch, "Reconciling")
