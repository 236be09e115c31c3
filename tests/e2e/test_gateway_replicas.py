"""Three gateway replicas share one PostgreSQL: chargers spread over them, one replica killed.

Real ``chargeops gateway`` processes, a real PostgreSQL, simulated chargers over real websockets. A
desired state written through one replica reaches the charger another replica holds (LISTEN/NOTIFY), and
so do commands sent through one replica's control API, with the charger's answer back; sessions started
on every replica land in one store; the chargers of a SIGKILLed replica reconnect
to the others, converge, and finish their sessions exactly once; a charger that does not come back
reads disconnected once the killed replica's lease has expired.
"""

import asyncio
import contextlib
import dataclasses
import functools
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Connection, func, select, update

from chargeops.api.gateway import DesiredState
from chargeops.ocpp_gateway.store import database, desired, tables
from chargeops.ocpp_gateway.store.listener import APPLICATION_NAME
from chargeops.simulator.clock import SystemClock
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e.harness import PASSWORD, Control, RunningGateway, control_client, gateway_settings, running_gateway
from tests.e2e.test_gateway_convergence import eventually
from tests.e2e.test_gateway_crash_recovery import GatewayProcess

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(240)]

REPLICAS = ("replica-a", "replica-b", "replica-c")
CHARGERS_PER_REPLICA = 2
# Short, so that the killed replica's lease runs out within a test: three missed renewals, 1.5 s.
LEASE_INTERVAL_S = 0.5
TOKEN = secrets.token_urlsafe(24)


class Replica(GatewayProcess):
    """One ``chargeops gateway`` process of the replica set, on its own ports."""

    def __init__(self, replica_id: str, database_url: str) -> None:
        super().__init__(
            database_url,
            token=TOKEN,
            extra_args=("--replica-id", replica_id, "--lease-interval", str(LEASE_INTERVAL_S)),
        )
        self.replica_id = replica_id


@pytest.fixture
async def replicas(postgres_database: str) -> AsyncIterator[dict[str, Replica]]:
    """Three replicas on one empty database, started at once (they race to migrate it)."""
    started = {replica_id: Replica(replica_id, postgres_database) for replica_id in REPLICAS}
    try:
        await asyncio.gather(*(replica.launch() for replica in started.values()))
        await asyncio.gather(*(replica.wait_ready(timeout_s=60) for replica in started.values()))
        yield started
    finally:
        await asyncio.gather(*(replica.stop() for replica in started.values()))


@pytest.fixture
async def controls(replicas: dict[str, Replica]) -> AsyncIterator[dict[str, Control]]:
    """A control API client per replica."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        yield {replica_id: Control(http, replica.control_url) for replica_id, replica in replicas.items()}


@dataclasses.dataclass
class Fleet:
    """The simulated chargers and the tasks running them."""

    stations: dict[str, Station]
    tasks: list[asyncio.Task[None]]

    def move(self, cp_id: str, to: Replica) -> None:
        """Point a charger at another replica: its next reconnect goes there."""
        station = self.stations[cp_id]
        station.config = dataclasses.replace(station.config, gateway_url=to.ocpp_url)


@contextlib.asynccontextmanager
async def fleet(assignment: dict[str, Replica] | dict[str, RunningGateway]) -> AsyncIterator[Fleet]:
    """Chargers connected to the replicas ``assignment`` gives them, online; closed afterwards."""
    stations = {
        cp_id: Station(
            StationConfig(
                cp_id,
                replica.ocpp_url,
                password=PASSWORD,
                reconnect_initial_s=0.1,
                reconnect_max_s=0.5,
                response_timeout_s=3,
            ),
            clock=SystemClock(),
        )
        for cp_id, replica in assignment.items()
    }
    tasks = [asyncio.create_task(station.run()) for station in stations.values()]
    try:
        await asyncio.gather(*(station.wait_online(timeout_s=30) for station in stations.values()))
        yield Fleet(stations, tasks)
    finally:
        for station in stations.values():
            await station.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def held_tags(station: Station) -> set[str]:
    return set(station.state.local_list.entries)


async def observed_on(control: Control, cp_id: str, **expected: Any) -> dict[str, Any]:
    """The observed state of ``cp_id`` once every ``expected`` field has its value."""

    async def check() -> dict[str, Any] | None:
        observed = await control.observed(cp_id)
        return observed if all(observed.get(key) == value for key, value in expected.items()) else None

    return dict(await eventually(check, timeout_s=30))


async def test_replicas_share_desired_state_sessions_and_survive_a_killed_replica(
    replicas: dict[str, Replica], controls: dict[str, Control]
) -> None:
    a, b, c = (replicas[replica_id] for replica_id in REPLICAS)
    control_a, control_b, _ = (controls[replica_id] for replica_id in REPLICAS)
    assignment = {
        f"REP-{replica.replica_id[-1]}{n}": replica for replica in (a, b, c) for n in range(CHARGERS_PER_REPLICA)
    }
    away = "REP-AWAY"  # held by C, and does not come back after C is killed
    for cp_id in [*assignment, away]:
        await control_a.put_desired(
            cp_id, password=PASSWORD, authorization="Required", authorizedIdTags=["T"], revision=1
        )

    async with fleet({**assignment, away: c}) as chargers:
        # Every charger is held by the replica it connected to, whichever replica is asked.
        for cp_id, replica in assignment.items():
            observed = await observed_on(control_b, cp_id, connected=True, appliedRevision=1)
            assert observed["replica"] == replica.replica_id

        # A desired state written through A reaches a charger that C holds (NOTIFY to C).
        on_c = "REP-c0"
        await control_a.put_desired(
            on_c, password=PASSWORD, authorization="Required", authorizedIdTags=["T", "NEW-ON-C"], revision=2
        )
        await eventually(lambda: held_tags(chargers.stations[on_c]) == {"T", "NEW-ON-C"}, timeout_s=30)
        await observed_on(control_a, on_c, connected=True, appliedRevision=2)

        # Sessions started through A's control API, one per charger: the commands for the chargers B and C
        # hold are relayed to them through the database (NOTIFY), and their answers come back through A.
        for cp_id in assignment:
            status, body = await control_a.request(
                "POST", f"/v1/chargers/{cp_id}/commands/remote-start-transaction", {"idTag": "T", "connectorId": 1}
            )
            assert status == 200, (cp_id, body)
            assert body["status"] == "Accepted", (cp_id, body)
        # A charger's refusal comes back through the relay too: C's charger knows no transaction 999999.
        status, body = await control_a.request(
            "POST", f"/v1/chargers/{on_c}/commands/remote-stop-transaction", {"transactionId": 999999}
        )
        assert (status, body) == (200, {"status": "Rejected"})
        await eventually(
            lambda: all(
                station.state.connectors[1].session is not None
                for station in chargers.stations.values()
                if station.config.charge_point_id != away
            ),
            timeout_s=30,
        )
        meter_starts = {
            cp_id: chargers.stations[cp_id].state.connectors[1].session.meter_start_wh  # type: ignore[union-attr]
            for cp_id in assignment
        }

        # C dies mid-session; its chargers go to A and B, one charger stays away for good.
        c.kill()
        await c.wait()
        await chargers.stations[away].close()
        moved = [cp_id for cp_id, replica in assignment.items() if replica is c]
        for cp_id, new_home in zip(moved, (a, b), strict=False):
            chargers.move(cp_id, new_home)
            assignment[cp_id] = new_home
        for cp_id in moved:
            await chargers.stations[cp_id].wait_online(timeout_s=30)
            observed = await observed_on(control_a, cp_id, connected=True, replica=assignment[cp_id].replica_id)
            assert observed["appliedRevision"] == (2 if cp_id == on_c else 1)

        # The moved chargers converge to a change written through the other surviving replica.
        for cp_id in moved:
            writer = control_b if assignment[cp_id] is a else control_a
            await writer.put_desired(
                cp_id, password=PASSWORD, authorization="Required", authorizedIdTags=["T", "AFTER-KILL"], revision=3
            )
        for cp_id in moved:
            station = chargers.stations[cp_id]
            await eventually(functools.partial(lambda s: held_tags(s) == {"T", "AFTER-KILL"}, station))
            await observed_on(control_a, cp_id, connected=True, appliedRevision=3)

        # Every session, including those C started before it died, is stopped after the kill.
        expected_energy = {}
        for cp_id, station in chargers.stations.items():
            if cp_id == away:
                continue
            await station.stop_session(1)
            expected_energy[cp_id] = station.state.connectors[1].register.energy_wh - meter_starts[cp_id]
        await asyncio.gather(*(chargers.stations[cp_id].wait_drained(timeout_s=30) for cp_id in expected_energy))

        # The charger that stayed away reads disconnected once C's lease has run out.
        observed = await observed_on(control_b, away, connected=False)
        assert observed["replica"] is None

    status, page = await control_b.request("GET", "/v1/sessions?limit=1000")
    assert status == 200, page
    sessions: list[dict[str, Any]] = page["items"]
    assert sorted(s["chargePointId"] for s in sessions) == sorted(expected_energy), sessions
    assert all(s["stoppedAt"] for s in sessions), sessions
    assert {s["chargePointId"]: s["energyWh"] for s in sessions} == expected_energy


def _write_unnotified(_db: database.Database, conn: Connection, cp_id: str, wanted: DesiredState) -> None:
    # What a notification lost while LISTEN was down leaves behind: a desired state nobody was told of.
    row = tables.desired_states.c
    conn.execute(
        update(tables.desired_states)
        .where(row.charge_point_id == cp_id)
        .values(
            document=wanted.model_dump(mode="json", by_alias=False, exclude={"password"}),
            id_tags_digest=desired.id_tags_digest(wanted.authorized_id_tags),
            local_list_version=row.local_list_version + 1,
            updated_at=datetime.now(UTC),
        )
    )


def _end_listener(_db: database.Database, conn: Connection) -> int:
    activity = func.pg_stat_get_activity(None).table_valued("pid", "application_name")
    pids = select(func.pg_terminate_backend(activity.c.pid)).where(activity.c.application_name == APPLICATION_NAME)
    return len(conn.execute(pids).all())


async def test_a_change_missed_while_listen_was_down_reaches_the_charger_after_the_reconnect(
    postgres_database: str,
) -> None:
    settings = gateway_settings(postgres_database, lease_interval_s=LEASE_INTERVAL_S, drift_interval_s=3600.0)
    async with running_gateway(settings) as gateway, control_client(gateway) as control:
        await control.put_desired("REP-LISTEN", password=PASSWORD, authorization="Required", authorizedIdTags=["T"])
        async with fleet({"REP-LISTEN": gateway}) as chargers:
            charger = chargers.stations["REP-LISTEN"]
            await eventually(lambda: held_tags(charger) == {"T"})
            db = database.Database.connect(postgres_database)
            try:
                wanted = DesiredState(authorization="Required", authorized_id_tags=["T", "MISSED"], revision=2)
                await db.write(_write_unnotified, "REP-LISTEN", wanted)
                assert await db.write(_end_listener) == 1
            finally:
                await db.dispose()
            await eventually(lambda: held_tags(charger) == {"T", "MISSED"}, timeout_s=30)
