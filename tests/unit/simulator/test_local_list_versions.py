"""The local authorization list keeps OCPP's version rules (1.6 §5.10, §5.15; 2.0.1 D01, D02)."""

from datetime import UTC, datetime, timedelta

from chargeops.simulator.local_list import IdTagInfo, ListEntry, LocalAuthorizationList, UpdateStatus, UpdateType

ACCEPTED = IdTagInfo(status="Accepted")
FULL, DIFFERENTIAL = UpdateType.FULL, UpdateType.DIFFERENTIAL


def entries(*tags: str) -> list[ListEntry]:
    return [ListEntry(tag, ACCEPTED) for tag in tags]


def new_list(*, max_length: int = 10, max_per_message: int = 5) -> LocalAuthorizationList:
    return LocalAuthorizationList(max_length=max_length, max_per_message=max_per_message)


def test_a_new_list_is_empty_with_version_zero() -> None:
    local = new_list()
    assert local.version == 0
    assert len(local) == 0


def test_full_update_replaces_the_list_whatever_its_version() -> None:
    local = new_list()
    assert local.apply(5, FULL, entries("A", "B")) is UpdateStatus.ACCEPTED
    assert local.apply(2, FULL, entries("C")) is UpdateStatus.ACCEPTED
    assert local.version == 2
    assert list(local.entries) == ["C"]


def test_differential_with_a_version_not_newer_is_a_mismatch_and_changes_nothing() -> None:
    local = new_list()
    local.apply(3, FULL, entries("A"))
    assert local.apply(3, DIFFERENTIAL, entries("B")) is UpdateStatus.VERSION_MISMATCH
    assert local.apply(2, DIFFERENTIAL, entries("B")) is UpdateStatus.VERSION_MISMATCH
    assert local.version == 3
    assert list(local.entries) == ["A"]


def test_differential_adds_updates_and_removes() -> None:
    local = new_list()
    local.apply(1, FULL, entries("A", "B"))
    blocked = IdTagInfo(status="Blocked")
    update = [ListEntry("A", None), ListEntry("B", blocked), ListEntry("C", ACCEPTED)]
    assert local.apply(2, DIFFERENTIAL, update) is UpdateStatus.ACCEPTED
    assert local.entries == {"B": blocked, "C": ACCEPTED}
    assert local.version == 2


def test_a_list_split_over_messages_advances_once_per_message() -> None:
    # What the gateway does with more tags than SendLocalListMaxLength: one Full, then Differentials.
    local = new_list(max_per_message=2)
    assert local.apply(10, FULL, entries("A", "B")) is UpdateStatus.ACCEPTED
    assert local.apply(11, DIFFERENTIAL, entries("C", "D")) is UpdateStatus.ACCEPTED
    assert local.apply(12, DIFFERENTIAL, entries("E")) is UpdateStatus.ACCEPTED
    assert (local.version, len(local)) == (12, 5)


def test_more_entries_than_one_message_may_carry_fail() -> None:
    local = new_list(max_per_message=2)
    assert local.apply(1, FULL, entries("A", "B", "C")) is UpdateStatus.FAILED
    assert local.version == 0


def test_overflowing_the_list_fails_and_changes_nothing() -> None:
    local = new_list(max_length=3)
    local.apply(1, FULL, entries("A", "B", "C"))
    assert local.apply(2, DIFFERENTIAL, entries("D")) is UpdateStatus.FAILED
    assert (local.version, sorted(local.entries)) == (1, ["A", "B", "C"])
    # Removing and adding in one update is fine as long as the result fits.
    assert local.apply(2, DIFFERENTIAL, [ListEntry("A", None), *entries("D")]) is UpdateStatus.ACCEPTED


def test_an_empty_full_update_clears_the_list_to_version_zero() -> None:
    local = new_list()
    local.apply(4, FULL, entries("A"))
    assert local.apply(5, FULL, []) is UpdateStatus.ACCEPTED
    assert (local.version, len(local)) == (0, 0)


def test_a_charger_without_local_lists_answers_not_supported() -> None:
    local = new_list()
    assert local.apply(1, FULL, entries("A"), supported=False) is UpdateStatus.NOT_SUPPORTED
    assert local.version == 0


def test_an_entry_is_valid_only_while_accepted_and_unexpired() -> None:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    assert IdTagInfo("Accepted").is_valid_at(now)
    assert IdTagInfo("Accepted", expiry_date=now + timedelta(days=1)).is_valid_at(now)
    assert not IdTagInfo("Accepted", expiry_date=now).is_valid_at(now)
    assert not IdTagInfo("Blocked").is_valid_at(now)
