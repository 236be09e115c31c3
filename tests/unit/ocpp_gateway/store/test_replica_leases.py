"""Replica leases, observed state held by a replica, and the NOTIFY of desired-state changes."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import pytest

from chargeops.api.gateway import AuthorizationMode, DesiredState
from chargeops.ocpp_gateway.store import Store
from chargeops.ocpp_gateway.store.desired import CHANGES_CHANNEL
from chargeops.ocpp_gateway.store.listener import asyncpg_dsn
from chargeops.ocpp_gateway.store.store import DEPARTURES_PER_WRITE
from tests.unit.ocpp_gateway.store.support import NOW, first_words_sent

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


async def test_a_stopping_replica_records_the_departure_of_the_chargers_it_still_holds(store: Store) -> None:
    await store.update_observed("CP-1", {"connected": True, "replica": "r1", "connector_status": {"1": "Charging"}})
    await store.update_observed("CP-2", {"connected": True, "replica": "r1"})
    await store.update_observed("CP-3", {"connected": True, "replica": "r2"})  # reconnected to r2 meanwhile

    await store.depart({"CP-1": NOW, "CP-2": None, "CP-3": NOW, "CP-GONE": NOW}, held_by="r1")

    first, second, third = [await store.get_observed(cp_id) for cp_id in ("CP-1", "CP-2", "CP-3")]
    assert (first.connected, first.replica, first.last_seen) == (False, None, NOW)
    assert first.connector_status == {"1": "Charging"}  # the rest of what was observed stays
    assert (second.connected, second.replica, second.last_seen) == (False, None, None)
    assert (third.connected, third.replica) == (True, "r2")
    assert [state.charge_point_id for state in await store.list_observed()] == ["CP-1", "CP-2", "CP-3"]


@pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_on_postgresql_departures_are_one_statement_per_batch(store: Store) -> None:
    held = {f"CP-{index}": NOW for index in range(DEPARTURES_PER_WRITE + 1)}
    for cp_id in held:
        await store.update_observed(cp_id, {"connected": True, "replica": "r1"})

    with first_words_sent(store) as sent:
        await store.depart(held, held_by="r1")

    assert sent == ["UPDATE", "UPDATE"]
    assert not any(state.connected for state in await store.list_observed())
