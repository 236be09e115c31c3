"""``Gateway``: one gateway process — the charger websocket server, the control API, and the store.

Called by ``chargeops gateway`` and by tests. It also implements the control API's ``Backend``: desired
state goes to the store and, when the charger is connected here, straight to its convergence runner;
observed state comes from the store, with connection facts of chargers connected here taken live.

Several replicas (processes) may share one PostgreSQL store; each charger's websocket is held by one of
them. Each replica keeps a lease (``leases``) and LISTENs for desired-state changes (``store.listener``):
a change written through any replica's control API reaches the replica holding the charger, which
converges it as it would a PUT of its own. A command for a charger held by another replica is relayed to
it through the database (``relay``). On SQLite there is one replica and none of this runs.
"""

import asyncio
import contextlib
import gc
import logging
import socket
import ssl
from datetime import UTC, datetime
from typing import Any

import ocpp.messages
from aiohttp import web
from websockets.asyncio.server import Server, serve

from chargeops.api.gateway import (
    DesiredState,
    MeterReading,
    ObservedState,
    Session,
    SessionPage,
    StoredDesiredState,
)
from chargeops.ocpp_gateway import metrics, server, validation
from chargeops.ocpp_gateway.context import Clock
from chargeops.ocpp_gateway.control import commands, routes
from chargeops.ocpp_gateway.errors import ChargerNotConnectedError
from chargeops.ocpp_gateway.leases import LeaseKeeper
from chargeops.ocpp_gateway.registry import LiveCharger, Registry
from chargeops.ocpp_gateway.relay import CommandRelay
from chargeops.ocpp_gateway.settings import GatewaySettings
from chargeops.ocpp_gateway.store import Store
from chargeops.ocpp_gateway.store.desired import CHANGES_CHANNEL
from chargeops.ocpp_gateway.store.listener import ChangeListener
from chargeops.ocpp_gateway.store.replicas import COMMANDS_CHANNEL

log = logging.getLogger(__name__)

# The ocpp library validates every message in a thread-pool executor by default; the hand-off costs more
# than the validation of a small OCPP message (DESIGN.md, performance facts), so validation runs inline.
ocpp.messages.ASYNC_VALIDATION = False
# ... and with validators compiled from the library's schemas (``validation``).
validation.install()


# Python's cyclic GC pauses the whole process for a full collection, for as long as it takes to scan
# every object alive: a gateway holds about 150 per connected charger, and at 10,000 chargers a full
# collection stopped every charger for over a second (bench/gateway_load.py). Full collections follow
# from objects promoted out of the young generations, and most of those are transient (a frame in
# flight when a young collection happened to run): collecting the young generation every 50,000
# allocations instead of every 700 promotes far fewer of them. A young collection then scans at most
# 50,000 objects, a few milliseconds.
GC_THRESHOLDS = (50_000, 20, 10)


# websockets drops a handshake still unanswered after ``open_timeout`` (10 s by default) without a
# response. A password check admitted within ``password_wait_limit_s`` must still get its answer out: the
# rest of the handshake (the store read, TLS) and the error of the queue's estimate get this much more.
HANDSHAKE_SLACK_S = 5.0
# A relayed command waits for the holder's wait for the charger (the response timeout), and this much more.
RELAY_SLACK_S = 5.0


def settle_garbage_collector() -> None:
    """For a gateway process, once started: keep the start-up objects (modules, schemas, compiled
    statements) out of every collection, and collect the young generations less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def utc_now() -> datetime:
    """The system clock, aware and UTC."""
    return datetime.now(UTC)


class Gateway:
    """A running gateway process."""

    def __init__(self, settings: GatewaySettings, store: Store, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.registry = Registry()
        self.chargers = server.ChargerServer(settings, store, self.registry, clock)
        self._ws: Server | None = None
        self._control: web.AppRunner | None = None
        self._lease: LeaseKeeper | None = None
        self._listener: ChangeListener | None = None
        self._loop_lag: asyncio.Task[None] | None = None
        self._relay = CommandRelay(
            replica_id=settings.replica_id,
            notify=store.notify,
            run_here=self._command_here,
            # The holder's own wait for the charger, and time for the two notifications.
            timeout_s=settings.response_timeout_s + RELAY_SLACK_S,
        )
        self._changes: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(cls, settings: GatewaySettings, *, clock: Clock = utc_now) -> "Gateway":
        """Open the store (migrating it) and build a gateway; call ``start`` to listen."""
        store = await Store.open(
            settings.database_url,
            password_wait_limit_s=settings.password_wait_limit_s,
            password_key=None if settings.password_key is None else settings.password_key.encode(),
        )
        return cls(settings, store, clock=clock)

    @property
    def replicated(self) -> bool:
        """Whether other replicas may share the store (PostgreSQL), so leases and LISTEN run."""
        return self.store.dialect == "postgresql"

    async def start(self) -> None:
        """Listen for desired-state changes (PostgreSQL), for chargers and for the control API."""
        if self.replicated:
            self._listener = ChangeListener(
                self.settings.database_url,
                handlers={CHANGES_CHANNEL: self._desired_changed, COMMANDS_CHANNEL: self._relay.heard},
                on_reconnect=self._check_held_chargers,
                check_interval_s=self.settings.lease_interval_s,
            )
            await self._listener.start()
        self._ws = await serve(
            self.chargers.serve_connection,
            self.settings.ocpp_host,
            self.settings.ocpp_port,
            subprotocols=server.SUBPROTOCOLS,
            select_subprotocol=self.chargers.select_subprotocol,
            process_request=self.chargers.handshake,
            ssl=self._tls_context(),
            max_size=self.settings.max_frame_bytes,
            ping_interval=self.settings.ping_interval_s,
            ping_timeout=self.settings.ping_timeout_s,
            compression=None,  # OCPP frames are small; per-message deflate costs CPU and memory per socket
            open_timeout=self.settings.password_wait_limit_s + HANDSHAKE_SLACK_S,
        )
        control_app = routes.application(self, token=self.settings.api_token, read_token=self.settings.api_read_token)
        self._control = web.AppRunner(control_app, access_log=None)
        await self._control.setup()
        await web.TCPSite(self._control, self.settings.control_host, self.settings.control_port).start()
        if self.replicated:
            self._lease = LeaseKeeper(
                self.store,
                self.settings.replica_id,
                ocpp_address=f"{_advertised(self.settings.ocpp_host)}:{self.ocpp_port}",
                control_address=f"{_advertised(self.settings.control_host)}:{self.control_port}",
                interval_s=self.settings.lease_interval_s,
                ttl_s=self.settings.lease_ttl_s,
            )
            await self._lease.start()
        self._loop_lag = asyncio.create_task(
            metrics.sample_event_loop_lag(self.chargers.admission.observe_lag), name="event-loop-lag"
        )
        log.info(
            "Gateway replica %s listening: chargers on %s://%s:%s/ocpp/{id}, control API on http://%s:%s.",
            self.settings.replica_id,
            "wss" if self.settings.tls else "ws",
            self.settings.ocpp_host,
            self.ocpp_port,
            self.settings.control_host,
            self.control_port,
        )

    @property
    def ocpp_port(self) -> int:
        """The port chargers connect to (the real one when 0 was asked for)."""
        assert self._ws is not None
        return int(next(iter(self._ws.sockets)).getsockname()[1])

    @property
    def control_port(self) -> int:
        """The control API's port (the real one when 0 was asked for)."""
        assert self._control is not None
        return int(next(iter(self._control.addresses))[1])

    async def stop(self) -> None:
        """Close every connection, stop listening, end the lease, close the store."""
        if self._loop_lag is not None:
            self._loop_lag.cancel()
        if self._listener is not None:
            await self._listener.stop()
        if self._ws is not None:
            self._ws.close()
            await self.chargers.record_departures()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._ws.wait_closed(), 10)
        if self._control is not None:
            await self._control.cleanup()
        for task in list(self._changes):
            task.cancel()
        await asyncio.gather(*self._changes, return_exceptions=True)
        if self._lease is not None:
            await self._lease.stop()
        await self.store.close()

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.settings.tls:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # OCPP 1.6 Security Whitepaper §2.4: TLS 1.2 or higher
        context.load_cert_chain(str(self.settings.tls_cert), str(self.settings.tls_key))
        return context

    # Desired-state changes written through other replicas (PostgreSQL LISTEN).

    def _desired_changed(self, cp_id: str) -> None:
        """A replica (maybe this one) changed the desired state of ``cp_id``: converge it if held here."""
        if self.registry.get(cp_id) is None:
            return
        task = asyncio.create_task(self._reload_desired(cp_id), name=f"desired-changed:{cp_id}")
        self._changes.add(task)
        task.add_done_callback(self._changes.discard)

    async def _reload_desired(self, cp_id: str) -> None:
        try:
            stored = await self.store.get_desired(cp_id)
        except Exception:
            # The runner reads the desired state again on its next convergence (drift timer, reconnect).
            log.exception("[%s] Could not read the changed desired state.", cp_id)
            return
        live = self.registry.get(cp_id)
        if live is not None:
            await self._adopt(live, stored)

    async def _check_held_chargers(self) -> None:
        """After LISTEN was down, notifications may be lost: compare every held charger once."""
        desired = {stored.charge_point_id: stored for stored in await self.store.list_desired()}
        held = self.registry.all()
        for live in held:
            await self._adopt(live, desired.get(live.ctx.charge_point_id))
        log.info("Checked the desired state of %s chargers held by replica %s.", len(held), self.settings.replica_id)

    async def _adopt(self, live: LiveCharger, stored: StoredDesiredState | None) -> None:
        """Bring a held charger to ``stored``, as a local PUT or DELETE does; nothing if it has it already."""
        if stored is None:
            if live.ctx.desired is not None:  # deleted through another replica
                await live.connection.close(1008, "This charge point is no longer known to the gateway.")
            return
        if _converge_to(live, stored):
            live.ctx.logger.info("Desired state changed (revision %s); converging.", stored.desired.revision)

    # The control API's Backend.

    async def put_desired(self, cp_id: str, desired: DesiredState) -> StoredDesiredState:
        stored = await self.store.put_desired(cp_id, desired, now=self.clock())
        live = self.registry.get(cp_id)
        if live is not None:
            _converge_to(live, stored)
        return stored

    async def get_desired(self, cp_id: str) -> StoredDesiredState | None:
        return await self.store.get_desired(cp_id)

    async def delete_charger(self, cp_id: str) -> bool:
        deleted = await self.store.delete_charger(cp_id)
        live = self.registry.get(cp_id)
        if live is not None:
            await live.connection.close(1008, "This charge point is no longer known to the gateway.")
        return bool(deleted)

    async def observed(self, cp_id: str) -> ObservedState:
        observed = await self.store.get_observed(cp_id)
        return self._with_live_facts(observed, await self._live_replicas([observed]))

    async def all_observed(self) -> list[ObservedState]:
        every = await self.store.list_observed()
        live_replicas = await self._live_replicas(every)
        return [self._with_live_facts(observed, live_replicas) for observed in every]

    async def sessions(self, **query: Any) -> SessionPage:
        return await self.store.list_sessions(**query)

    async def sessions_with_readings(self, **query: Any) -> str:
        return await self.store.list_sessions_with_readings(**query)

    async def session(self, session_id: str) -> Session | None:
        return await self.store.get_session(session_id)

    async def readings(self, session_id: str) -> list[MeterReading]:
        return list(await self.store.meter_readings(session_id))

    async def command(self, cp_id: str, name: str, command: commands.Command) -> dict[str, Any]:
        if self.registry.get(cp_id) is None:
            holder = await self._holder_elsewhere(cp_id)
            if holder is not None:
                return await self._relay.send(holder, cp_id, name, command)
        return await self._command_here(cp_id, name, command)

    async def _command_here(self, cp_id: str, name: str, command: commands.Command) -> dict[str, Any]:
        """Run ``command`` on the charger's connection to this replica, never relayed."""
        live = self.registry.get(cp_id)
        if live is None:
            raise ChargerNotConnectedError(
                f"Charge point {cp_id} is not connected to gateway replica {self.settings.replica_id}.",
                charge_point_id=cp_id,
            )
        return await commands.run(live.session, live.ctx.ocpp_version, name, command)

    async def _holder_elsewhere(self, cp_id: str) -> str | None:
        """The live replica other than this one that holds ``cp_id``, if any."""
        if not self.replicated:
            return None
        observed = await self.store.get_observed(cp_id)
        holder = observed.replica
        if not observed.connected or holder is None or holder == self.settings.replica_id:
            return None
        return holder if holder in await self.store.live_replicas() else None

    async def ready(self) -> bool:
        try:
            await self.store.ping()
        except Exception:  # readiness answers no, whatever the store's trouble is
            return False
        return self._ws is not None

    async def _live_replicas(self, observed: list[ObservedState]) -> frozenset[str]:
        """The replicas whose lease runs, read only if some charger reads connected to another one."""
        if self.replicated and any(state.connected and state.replica != self.settings.replica_id for state in observed):
            return frozenset(await self.store.live_replicas())
        return frozenset()

    def _with_live_facts(self, observed: ObservedState, live_replicas: frozenset[str]) -> ObservedState:
        live = self.registry.get(observed.charge_point_id)
        if live is not None:
            return observed.model_copy(
                update={"connected": True, "last_seen": live.ctx.last_seen, "replica": self.settings.replica_id}
            )
        if not observed.connected:
            return observed
        # Not here: on SQLite there is no other gateway process, and on PostgreSQL the replica named must
        # still hold its lease. Otherwise a process killed before it could record the disconnect left it.
        if self.replicated and observed.replica != self.settings.replica_id and observed.replica in live_replicas:
            return observed
        return observed.model_copy(update={"connected": False, "replica": None})


def _converge_to(live: LiveCharger, stored: StoredDesiredState) -> bool:
    """Have a held charger converge to ``stored``; False if it has it already. A PUT that changes nothing
    (the operator hands over the password again, say) needs no convergence: the charger has, or is being
    brought to, this very state."""
    if stored == live.ctx.desired:
        return False
    live.ctx.set_desired(stored)
    live.runner.request()
    return True


def _advertised(host: str) -> str:
    """The address other replicas and operators can use: the host name in place of a wildcard address."""
    return socket.gethostname() if host in {"", "0.0.0.0", "::"} else host  # noqa: S104 - compared, not bound
