"""Desired state per charger: upsert, passwords kept only as hashes, local-list versions by set of tags."""

import asyncio
from datetime import timedelta

import pytest

from chargeops.api.gateway import AuthorizationMode, DesiredState
from chargeops.ocpp_gateway import passwords
from chargeops.ocpp_gateway.store import Store, tables
from tests.unit.ocpp_gateway.store.support import NOW, Peek

PASSWORD = "correct-horse-battery"


async def test_put_then_get_returns_the_document_without_its_password(store: Store) -> None:
    desired = DesiredState(
        password=PASSWORD,
        authorization=AuthorizationMode.REQUIRED,
        configuration={"MeterValueSampleInterval": "60"},
        authorized_id_tags=["A", "B"],
        revision=7,
    )

    stored = await store.put_desired("CP-1", desired, now=NOW)

    assert stored == await store.get_desired("CP-1")
    assert stored.desired == desired.model_copy(update={"password": None})
    assert stored.has_password
    assert (stored.local_list_version, stored.updated_at) == (1, NOW)


async def test_unknown_charger_has_no_desired_state(store: Store) -> None:
    assert await store.get_desired("NOBODY") is None


async def test_the_password_is_stored_only_as_a_salted_hash(store: Store, peek: Peek) -> None:
    await store.put_desired("CP-1", DesiredState(password=PASSWORD))
    await store.put_desired("CP-2", DesiredState(password=PASSWORD))

    rows = await peek(tables.desired_states)
    hashes = [row["password_hash"] for row in rows]
    assert all(PASSWORD not in str(row) for row in rows)
    assert hashes[0] != hashes[1]
    assert all(passwords.verify_password(PASSWORD, stored_hash) for stored_hash in hashes)


async def test_a_put_without_password_keeps_the_stored_hash(store: Store, peek: Peek) -> None:
    await store.put_desired("CP-1", DesiredState(password=PASSWORD))
    before = (await peek(tables.desired_states))[0]["password_hash"]

    stored = await store.put_desired("CP-1", DesiredState(revision=2))

    assert stored.has_password
    assert (await peek(tables.desired_states))[0]["password_hash"] == before
    assert await store.verify_password("CP-1", PASSWORD)


async def test_putting_the_same_password_again_keeps_the_hash(store: Store, peek: Peek) -> None:
    await store.put_desired("CP-1", DesiredState(password=PASSWORD))
    before = (await peek(tables.desired_states))[0]["password_hash"]

    await store.put_desired("CP-1", DesiredState(password=PASSWORD))

    assert (await peek(tables.desired_states))[0]["password_hash"] == before


async def test_a_new_password_replaces_the_old_one(store: Store) -> None:
    await store.put_desired("CP-1", DesiredState(password=PASSWORD))
    assert await store.verify_password("CP-1", PASSWORD)

    await store.put_desired("CP-1", DesiredState(password="another-long-password"))

    assert not await store.verify_password("CP-1", PASSWORD)
    assert await store.verify_password("CP-1", "another-long-password")


async def test_verify_password_is_false_for_a_wrong_password_or_an_unknown_charger(store: Store) -> None:
    await store.put_desired("CP-1", DesiredState(password=PASSWORD))
    await store.put_desired("CP-NOPW", DesiredState())

    assert not await store.verify_password("CP-1", "wrong-password-here")
    assert not await store.verify_password("CP-UNKNOWN", PASSWORD)
    assert not await store.verify_password("CP-NOPW", PASSWORD)


async def test_local_list_version_counts_changes_of_the_set_of_tags(store: Store) -> None:
    async def version_after(tags: list[str]) -> int:
        return (await store.put_desired("CP-1", DesiredState(authorized_id_tags=tags))).local_list_version

    assert await version_after([]) == 0
    assert await version_after(["A"]) == 1
    assert await version_after(["A", "A"]) == 1  # duplicates do not count
    assert await version_after(["B", "A"]) == 2
    assert await version_after(["A", "B"]) == 2  # order does not count
    assert await version_after([]) == 3
    assert await version_after(["A", "B"]) == 4


async def test_first_put_with_tags_starts_at_version_one(store: Store) -> None:
    stored = await store.put_desired("CP-1", DesiredState(authorized_id_tags=["X"]))

    assert stored.local_list_version == 1


async def test_an_unchanged_put_keeps_updated_at(store: Store) -> None:
    first = await store.put_desired("CP-1", DesiredState(authorized_id_tags=["A"]), now=NOW)

    again = await store.put_desired("CP-1", DesiredState(authorized_id_tags=["A"]), now=NOW + timedelta(hours=1))

    assert again == first


async def test_concurrent_puts_never_give_two_sets_the_same_version(store: Store) -> None:
    tag_sets = [[f"TAG-{n}"] for n in range(12)]

    results = await asyncio.gather(
        *(store.put_desired("CP-1", DesiredState(authorized_id_tags=tags)) for tags in tag_sets)
    )

    versions = sorted(result.local_list_version for result in results)
    assert versions == list(range(1, len(tag_sets) + 1))


async def test_list_and_delete(store: Store) -> None:
    await store.put_desired("CP-B", DesiredState())
    await store.put_desired("CP-A", DesiredState())
    await store.update_observed("CP-A", {"connected": True})
    await store.start_transaction("CP-A", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=NOW)

    assert [d.charge_point_id for d in await store.list_desired()] == ["CP-A", "CP-B"]
    assert await store.delete_charger("CP-A")
    assert not await store.delete_charger("CP-A")
    assert [d.charge_point_id for d in await store.list_desired()] == ["CP-B"]
    assert (await store.get_observed("CP-A")).connected is False
    assert len((await store.list_sessions(charge_point_id="CP-A")).items) == 1  # sessions are history


async def test_an_unknown_charger_costs_no_password_check(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # It waits as long as a check would take instead (``credentials``); timing is for bench/.
    await store.put_desired("CP-NOPW", DesiredState())
    checked = count_password_checks(monkeypatch)

    assert not await store.verify_password("CP-UNKNOWN", PASSWORD)
    assert not await store.verify_password("CP-NOPW", PASSWORD)
    assert checked == []


async def test_a_verified_password_is_remembered_and_a_wrong_one_always_checked(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.put_desired("CP-1", DesiredState(password=PASSWORD))
    assert await store.verify_password("CP-1", PASSWORD)
    checked = count_password_checks(monkeypatch)

    assert await store.verify_password("CP-1", PASSWORD)
    assert not await store.verify_password("CP-1", "wrong-password-here")
    assert len(checked) == 1  # only the wrong one


def count_password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts scrypt verifications from now on (the store calls ``passwords.verify_password``)."""
    checked: list[str] = []
    real = passwords.verify_password

    def counting(password: str, stored: str) -> bool:
        checked.append(stored)
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return checked
