"""A charger that reconnects already converged to its desired state has nothing to be sent."""

from datetime import UTC, datetime

import pytest

from chargeops.api.gateway import DesiredState, ObservedState, StoredDesiredState
from chargeops.ocpp_gateway.convergence import converge

DESIRED = StoredDesiredState(
    charge_point_id="CP-1",
    desired=DesiredState(authorized_id_tags=["A"], revision=7),
    has_password=True,
    local_list_version=3,
    updated_at=datetime(2026, 10, 1, tzinfo=UTC),
)
CONVERGED = ObservedState(charge_point_id="CP-1", applied_revision=7, local_list_revision=3)


def test_a_charger_converged_to_this_revision_and_list_is_settled() -> None:
    assert converge.is_settled(DESIRED, CONVERGED)


@pytest.mark.parametrize(
    "observed",
    [
        pytest.param(ObservedState(charge_point_id="CP-1"), id="never-converged"),
        pytest.param(CONVERGED.model_copy(update={"applied_revision": 6}), id="older-revision"),
        pytest.param(CONVERGED.model_copy(update={"local_list_revision": 2}), id="older-list"),
        pytest.param(CONVERGED.model_copy(update={"last_error": "ChangeConfiguration timed out"}), id="failed-since"),
    ],
)
def test_a_charger_behind_its_desired_state_or_failing_is_not_settled(observed: ObservedState) -> None:
    assert not converge.is_settled(DESIRED, observed)


def test_without_a_desired_state_or_unmanaged_nothing_is_settled() -> None:
    unmanaged = DESIRED.model_copy(update={"desired": DESIRED.desired.model_copy(update={"managed": False})})

    assert not converge.is_settled(None, CONVERGED)
    assert not converge.is_settled(unmanaged, CONVERGED)
