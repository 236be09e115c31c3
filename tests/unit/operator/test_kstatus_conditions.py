"""Reconciling and Stalled beside Ready: present only while True, with Ready's reason and message."""

from datetime import UTC, datetime
from typing import Any

import kopf
import pytest

from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import kstatus
from chargeops.operator.planning import Verdict

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def body(*existing: dict[str, Any], generation: int = 4) -> dict[str, Any]:
    return {"metadata": {"name": "cp", "generation": generation}, "status": {"conditions": list(existing)}}


def condition(condition_type: str, status: str = "True", reason: str = "Progressing") -> dict[str, Any]:
    return {
        "type": condition_type,
        "status": status,
        "reason": reason,
        "message": "earlier",
        "lastTransitionTime": "2026-11-01T08:00:00Z",
    }


def types(patch: kopf.Patch) -> dict[str, tuple[str, str]]:
    return {x["type"]: (x["status"], x["reason"]) for x in patch["status"]["conditions"]}


def test_ready_true_shows_neither() -> None:
    ready = Verdict(c.READY, True, c.SUCCEEDED, "Charging is free.")
    assert kstatus.progress(ready, settled=False) == (None, None)


@pytest.mark.parametrize("reason", sorted(c.SPEC_ERRORS | c.WAITING_FOR_PERSON))
def test_a_reason_only_a_person_can_resolve_is_stalled_with_readys_words(reason: str) -> None:
    ready = Verdict(c.READY, False, reason, "Tariff peak does not exist.")
    reconciling, stalled = kstatus.progress(ready, settled=False)
    assert reconciling is None
    assert stalled == Verdict(c.STALLED, True, reason, "Tariff peak does not exist.")


@pytest.mark.parametrize("reason", [c.CONVERGING, c.CONVERGENCE_FAILED, c.CHARGER_OFFLINE])
def test_work_in_progress_is_reconciling_with_the_given_reason(reason: str) -> None:
    ready = Verdict(c.READY, False, reason, "The gateway is bringing the charger to the desired state.")
    reconciling, stalled = kstatus.progress(ready, settled=False, working_reason=c.CONVERGING)
    assert stalled is None
    assert reconciling == Verdict(
        c.RECONCILING, True, c.CONVERGING, "The gateway is bringing the charger to the desired state."
    )


def test_ready_false_with_nothing_left_to_do_shows_neither() -> None:
    offline = Verdict(c.READY, False, c.CHARGER_OFFLINE, "Charge point CP-1 has no connection to the gateway.")
    assert kstatus.progress(offline, settled=True) == (None, None)


def test_show_removes_both_once_ready_and_refreshes_observed_generation() -> None:
    existing = body(condition("Ready", "False", c.CONVERGING), condition("Reconciling"), condition("Stalled"))
    patch = kopf.Patch()
    kstatus.show(existing, patch, Verdict(c.READY, True, c.SUCCEEDED, "ok"), settled=True, now=NOW)
    assert types(patch) == {"Ready": ("False", c.CONVERGING)}  # Ready itself is the caller's to write
    assert patch["status"]["observedGeneration"] == 4


def test_show_swaps_reconciling_for_stalled() -> None:
    existing = body(condition("Reconciling", reason=c.CONVERGING))
    patch = kopf.Patch()
    ready = Verdict(c.READY, False, c.AWAITING_APPROVAL, "Set the annotation.")
    kstatus.show(existing, patch, ready, settled=False, now=NOW)
    assert types(patch) == {"Stalled": ("True", c.AWAITING_APPROVAL)}
    assert patch["status"]["conditions"][0]["message"] == "Set the annotation."
    assert patch["status"]["conditions"][0]["observedGeneration"] == 4


def test_working_marks_reconciling_and_clears_stalled() -> None:
    existing = body(condition("Stalled", reason=c.TARIFF_NOT_FOUND))
    patch = kopf.Patch()
    kstatus.working(existing, patch, c.PROGRESSING, "Handing the desired state to the gateway.", now=NOW)
    assert types(patch) == {"Reconciling": ("True", c.PROGRESSING)}


def test_follow_ready_reads_ready_as_the_handler_left_it() -> None:
    existing = body(condition("Ready", "False", c.INVALID_TIME_ZONE), condition("Reconciling"))
    patch = kopf.Patch()
    kstatus.follow_ready(existing, patch, settled=True, now=NOW)
    assert types(patch) == {"Ready": ("False", c.INVALID_TIME_ZONE), "Stalled": ("True", c.INVALID_TIME_ZONE)}
