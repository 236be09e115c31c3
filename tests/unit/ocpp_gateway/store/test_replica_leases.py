"""Replica leases, observed state held by a replica, and the NOTIFY of desired-state changes."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import pytest

from chargeops.api.gateway import AuthorizationMode, DesiredState
from chargeops.ocpp_gateway.store import Store
from chargeops.ocpp_gateway.store.desired import CHANGES_CHANNEL
from chargeops.ocpp_gateway.store.listener import asyncpg_dsn

PASSWORD = "correct-horse-battery-staple"


async def _renew(store: Store, replica_id: str, ttl_s: float = 60.0) -> None:
    await store.renew_lease(replica_id, ocpp_address="h:9000", control_address="h:9001", ttl_s=ttl_s)


async def test_a_renewed_lease_runs_and_a_released_one_does_not(store: Store) -> None:
    await _renew(store, "r1")
    await _renew(store, "r2")

    assert set(await store.live_replicas()) == {"r1", "r2"}
    assert await store.release_lease("r1")
    assert set(await store.live_replicas()) == {"r2"}
    assert not await store.release_lease("r1")


async def test_a_lease_not_renewed_within_its_ttl_has_expired(store: Store) -> None:
    await _renew(store, "r1", ttl_s=0.0)

    assert await store.live_replicas() == {}


async def test_renewing_extends_the_lease_and_keeps_its_start(store: Store) -> None:
    first = await store.renew_lease("r1", ocpp_address="h:1", control_address="h:2", ttl_s=0.0)
    second = await store.renew_lease("r1", ocpp_address="h:3", control_address="h:4", ttl_s=60.0)

    assert second.started_at == first.started_at
    assert second.expires_at > first.expires_at
    assert (await store.live_replicas())["r1"].control_address == "h:4"


async def test_a_disconnect_by_a_replica_that_no_longer_holds_the_charger_writes_nothing(store: Store) -> None:
    await store.update_observed("CP-1", {"connected": True, "replica": "r1"})
    await store.update_observed("CP-1", {"connected": True, "replica": "r2"})  # reconnected to r2

    await store.update_observed("CP-1", {"connected": False, "replica": None}, if_held_by="r1")
    assert (await store.get_observed("CP-1")).replica == "r2"
    assert (await store.get_observed("CP-1")).connected

    await store.update_observed("CP-1", {"connected": False, "replica": None}, if_held_by="r2")
    assert not (await store.get_observed("CP-1")).connected


async def test_a_disconnect_of_a_deleted_charger_leaves_no_row(store: Store) -> None:
    state = await store.update_observed("CP-GONE", {"connected": False}, if_held_by="r1")

    assert state.connected is False
    assert await store.list_observed() == []


@pytest.fixture
async def notifications(store: Store, store_url: str) -> AsyncIterator[asyncio.Queue[str]]:
    if store.dialect != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; SQLite has one replica")
    received: asyncio.Queue[str] = asyncio.Queue()
    connection = await asyncpg.connect(asyncpg_dsn(store_url))
    await connection.add_listener(CHANGES_CHANNEL, lambda *args: received.put_nowait(args[-1]))
    yield received
    await connection.close()


async def _next(received: asyncio.Queue[str]) -> str:
    return await asyncio.wait_for(received.get(), 10)


async def test_a_desired_state_change_is_notified_once_with_the_charge_point_id(
    store: Store, notifications: asyncio.Queue[str]
) -> None:
    wanted = DesiredState(password=PASSWORD, authorization=AuthorizationMode.REQUIRED, authorized_id_tags=["A"])
    await store.put_desired("CP-1", wanted)
    assert await _next(notifications) == "CP-1"

    await store.put_desired("CP-1", wanted)  # unchanged: nobody needs to converge
    await store.put_desired("CP-2", wanted)
    assert await _next(notifications) == "CP-2"

    await store.delete_charger("CP-1")
    assert await _next(notifications) == "CP-1"
    assert notifications.empty()


def test_the_listen_dsn_keeps_the_connection_and_drops_sqlalchemy_options() -> None:
    dsn = asyncpg_dsn("postgresql+asyncpg://u:p%40ss@db:5433/store?sslmode=require&prepared_statement_cache_size=0")

    assert dsn == "postgresql://u:p%40ss@db:5433/store?sslmode=require"
