"""What the operator remembers handing the gateway: the document it holds, and the password it was sent."""

from datetime import UTC, datetime

from chargeops.api.gateway import DesiredState, OcppVersion, StoredDesiredState
from chargeops.operator.handover import Handover

PASSWORD = "example-north-1-secret-pass"


def stored(revision: int, *, has_password: bool = True, managed: bool = True) -> StoredDesiredState:
    desired = DesiredState(ocpp_version=OcppVersion.V16, revision=revision, managed=managed)
    return StoredDesiredState(
        charge_point_id="CP-1",
        desired=desired,
        has_password=has_password,
        local_list_version=0,
        updated_at=datetime(2026, 11, 2, tzinfo=UTC),
    )


def test_what_the_gateway_confirmed_is_remembered_and_nothing_else() -> None:
    handover = Handover()
    assert handover.held("CP-1") is None

    held = handover.record("CP-1", stored(7, has_password=False), now=5.0)

    assert held is not None
    assert (held.revision, held.managed, held.has_password, held.confirmed_at) == (7, True, False, 5.0)
    assert handover.held("CP-1") == held
    assert handover.held("CP-2") is None


def test_a_gateway_that_holds_nothing_is_forgotten_with_the_password() -> None:
    handover = Handover()
    handover.record("CP-1", stored(7), now=5.0)
    handover.record_password("CP-1", PASSWORD)

    assert handover.record("CP-1", None, now=6.0) is None
    assert handover.held("CP-1") is None
    assert not handover.password_sent("CP-1", PASSWORD)


def test_only_the_password_last_sent_for_that_charge_point_counts_as_sent() -> None:
    handover = Handover()
    handover.record_password("CP-1", PASSWORD)

    assert handover.password_sent("CP-1", PASSWORD)
    assert not handover.password_sent("CP-1", PASSWORD + "-rotated")
    assert not handover.password_sent("CP-2", PASSWORD)


def test_a_new_process_has_sent_nothing() -> None:
    first = Handover()
    first.record_password("CP-1", PASSWORD)

    assert not Handover().password_sent("CP-1", PASSWORD)
