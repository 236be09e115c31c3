"""The subscriber's answer annotation becomes status.invitation.answeredAt (UTC), written once."""

from typing import Any

import kopf
import pytest

from chargeops.api import v1alpha1
from chargeops.operator.handlers import invitations


def body(annotations: dict[str, str], status: dict[str, Any] | None = None) -> kopf.Body:
    raw = {
        "apiVersion": "chargeops.io/v1alpha1",
        "kind": "Subscription",
        "metadata": {"name": "ada", "namespace": "ops", "annotations": annotations},
        "spec": {
            "siteRef": {"name": "parkside"},
            "subscriber": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "idTags": ["04A2B3C4D5E6F7"],
            "chargerRefs": [{"name": "n1"}],
            "startDate": "2026-10-01",
        },
        "status": status or {},
    }
    return kopf.Body(raw)


def recorded(annotations: dict[str, str], status: dict[str, Any] | None = None) -> dict[str, Any]:
    given = body(annotations, status)
    patch = kopf.Patch()
    invitations.record_answer(given, patch, v1alpha1.Subscription.model_validate(dict(given)))
    return dict(patch)


@pytest.mark.parametrize(
    ("annotations", "answered_at"),
    [
        ({"chargeops.io/accepted": "2026-09-28T18:04:00Z"}, "2026-09-28T18:04:00Z"),
        ({"chargeops.io/declined": "2026-09-28T20:04:00+02:00"}, "2026-09-28T18:04:00Z"),
        ({"chargeops.io/declined": "2026-09-28T18:04:00.123456Z"}, "2026-09-28T18:04:00Z"),
    ],
)
def test_the_answer_time_is_written_in_utc(annotations: dict[str, str], answered_at: str) -> None:
    assert recorded(annotations) == {"status": {"invitation": {"answeredAt": answered_at}}}


@pytest.mark.parametrize(
    "annotations",
    [{}, {"chargeops.io/accepted": "yes"}, {"chargeops.io/accepted": "2026-09-28T18:04:00"}],
    ids=["no answer", "not a time", "no offset"],
)
def test_nothing_is_written_without_an_answer_time(annotations: dict[str, str]) -> None:
    assert recorded(annotations) == {}


def test_an_answer_already_recorded_is_not_written_again() -> None:
    status = {"invitation": {"answeredAt": "2026-09-28T18:04:00Z"}}
    assert recorded({"chargeops.io/accepted": "2026-09-28T18:04:00Z"}, status) == {}
