"""Verified passwords remembered in the store, under a key the replicas share: a restarted replica checks
them without scrypt, and nothing else gets through faster."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from chargeops.api.gateway import DesiredState
from chargeops.ocpp_gateway.errors import GatewayConfigError
from chargeops.ocpp_gateway.settings import GatewaySettings
from chargeops.ocpp_gateway.store import Store, desired, tables
from chargeops.ocpp_gateway.store.credentials import PasswordChecker
from tests.unit.ocpp_gateway.store.support import NOW, T0, Peek
from tests.unit.ocpp_gateway.store.test_password_checks import PASSWORD

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
WRONG = "wrong-password-here"

OpenReplica = Callable[..., Awaitable[Store]]


@pytest.fixture
async def replica(store_url: str) -> AsyncIterator[OpenReplica]:
    """Opens stores on one database, as the gateway replicas (or one replica restarted) do."""
    opened: list[Store] = []

    async def open_replica(key: bytes | None = KEY) -> Store:
        opened.append(await Store.open(store_url, password_key=key))
        return opened[-1]

    yield open_replica
    for store in opened:
        await store.close()


async def test_a_restarted_replica_checks_a_password_put_before_without_scrypt(
    replica: OpenReplica, scrypts: list[int]
) -> None:
    await (await replica()).put_desired("CP-1", DesiredState(password=PASSWORD))
    scrypts.clear()

    assert await (await replica()).verify_password("CP-1", PASSWORD)
    assert scrypts == []


async def test_without_a_shared_key_a_restarted_replica_spends_a_scrypt(
    replica: OpenReplica, scrypts: list[int]
) -> None:
    await (await replica(key=None)).put_desired("CP-1", DesiredState(password=PASSWORD))
    scrypts.clear()

    assert await (await replica(key=None)).verify_password("CP-1", PASSWORD)
    assert len(scrypts) == 1


async def test_a_wrong_password_is_checked_by_scrypt_whatever_is_stored(
    replica: OpenReplica, scrypts: list[int]
) -> None:
    await (await replica()).put_desired("CP-1", DesiredState(password=PASSWORD))
    restarted = await replica()
    scrypts.clear()

    assert not await restarted.verify_password("CP-1", WRONG)
    assert not await restarted.verify_password("CP-2", PASSWORD)  # unknown: no verifier to lean on
    assert len(scrypts) == 1


@pytest.mark.parametrize(
    "hashed_under",
    [pytest.param(None, id="hashed-before-the-key"), pytest.param(OTHER_KEY, id="hashed-under-another-key")],
)
async def test_a_password_scrypt_verified_once_costs_the_next_replica_none(
    replica: OpenReplica, scrypts: list[int], hashed_under: bytes | None
) -> None:
    # An upgrade to a key, or a new key: the first login verifies by scrypt and stores the verifier under
    # the key of now; the next replica to start finds it.
    await (await replica(key=hashed_under)).put_desired("CP-1", DesiredState(password=PASSWORD))
    scrypts.clear()

    assert await (await replica()).verify_password("CP-1", PASSWORD)
    assert len(scrypts) == 1
    assert await (await replica()).verify_password("CP-1", PASSWORD)
    assert len(scrypts) == 1


async def test_a_new_password_leaves_no_verifier_for_the_old_one(replica: OpenReplica) -> None:
    writer = await replica()
    await writer.put_desired("CP-1", DesiredState(password=PASSWORD))
    await writer.put_desired("CP-1", DesiredState(password="the-new-password-1234"))

    restarted = await replica()
    assert not await restarted.verify_password("CP-1", PASSWORD)
    assert await restarted.verify_password("CP-1", "the-new-password-1234")


async def test_a_verifier_for_a_hash_no_longer_stored_is_not_written(replica: OpenReplica, peek: Peek) -> None:
    store = await replica()
    await store.put_desired("CP-1", DesiredState(password=PASSWORD))
    [before] = await peek(tables.desired_states)

    await store._db.write(desired.put_verifier, "CP-1", "scrypt$an-older-hash", "f" * 64)

    [after] = await peek(tables.desired_states)
    assert after["password_verifier"] == before["password_verifier"]
    assert len(before["password_verifier"]) == 64


async def test_storing_a_verifier_alone_is_no_change_of_desired_state(replica: OpenReplica, peek: Peek) -> None:
    # The same PUT again, now by a replica with a key: the verifier is added, and nothing else changes
    # (no new updated_at, no notification that would set the charger's convergence going).
    await (await replica(key=None)).put_desired("CP-1", DesiredState(password=PASSWORD), now=T0)

    stored = await (await replica()).put_desired("CP-1", DesiredState(password=PASSWORD), now=NOW)

    [row] = await peek(tables.desired_states)
    assert row["password_verifier"] is not None
    assert stored.updated_at == T0


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        PasswordChecker(key=b"k" * 31)
    settings: dict[str, Any] = {"api_token": "t" * 16, "password_key": "k" * 31}
    with pytest.raises(GatewayConfigError, match="password key must be at least 32 bytes"):
        GatewaySettings(**settings)


def test_without_a_key_nothing_is_stored_beside_the_hash() -> None:
    checker = PasswordChecker()
    try:
        assert checker.verifier_for("scrypt$...", PASSWORD) is None
    finally:
        checker.close()


async def test_a_restarted_replica_finds_an_unchanged_password_put_again_without_scrypt(
    replica: OpenReplica, scrypts: list[int]
) -> None:
    # The operator, started again, PUTs every charger's password: unchanged, it is known from the verifier.
    first = await (await replica()).put_desired("CP-1", DesiredState(password=PASSWORD, revision=1))
    scrypts.clear()

    again = await (await replica()).put_desired("CP-1", DesiredState(password=PASSWORD, revision=2))

    assert scrypts == []
    assert again.desired.revision == 2
    assert await (await replica()).verify_password("CP-1", PASSWORD)
    assert first.has_password
    assert again.has_password
