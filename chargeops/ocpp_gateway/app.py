"""``Gateway``: one gateway process — the charger websocket server, the control API, and the store.

Called by ``chargeops gateway`` and by tests. It also implements the control API's ``Backend``: desired
state goes to the store and, when the charger is connected here, straight to its convergence runner;
observed state comes from the store, with connection facts of chargers connected here taken live.
"""

import asyncio
import contextlib
import gc
import logging
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
from chargeops.ocpp_gateway import server, validation
from chargeops.ocpp_gateway.context import Clock
from chargeops.ocpp_gateway.control import commands, routes
from chargeops.ocpp_gateway.errors import ChargerNotConnectedError
from chargeops.ocpp_gateway.registry import Registry
from chargeops.ocpp_gateway.settings import GatewaySettings
from chargeops.ocpp_gateway.store import Store

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

    @classmethod
    async def open(cls, settings: GatewaySettings, *, clock: Clock = utc_now) -> "Gateway":
        """Open the store (migrating it) and build a gateway; call ``start`` to listen."""
        store = await Store.open(settings.database_url, password_wait_limit_s=settings.password_wait_limit_s)
        return cls(settings, store, clock=clock)

    async def start(self) -> None:
        """Listen for chargers and for the control API."""
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
            compression=None,  # OCPP frames are small; per-message deflate costs CPU and memory per socket
            open_timeout=self.settings.password_wait_limit_s + HANDSHAKE_SLACK_S,
        )
        self._control = web.AppRunner(routes.application(self, token=self.settings.api_token), access_log=None)
        await self._control.setup()
        await web.TCPSite(self._control, self.settings.control_host, self.settings.control_port).start()
        log.info(
            "Gateway listening: chargers on %s://%s:%s/ocpp/{id}, control API on http://%s:%s.",
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
        """Close every connection, stop listening, close the store."""
        if self._ws is not None:
            self._ws.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._ws.wait_closed(), 10)
        if self._control is not None:
            await self._control.cleanup()
        await self.store.close()

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.settings.tls:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # OCPP 1.6 Security Whitepaper §2.4: TLS 1.2 or higher
        context.load_cert_chain(str(self.settings.tls_cert), str(self.settings.tls_key))
        return context

    # The control API's Backend.

    async def put_desired(self, cp_id: str, desired: DesiredState) -> StoredDesiredState:
        stored = await self.store.put_desired(cp_id, desired, now=self.clock())
        live = self.registry.get(cp_id)
        # A PUT that changes nothing (the operator hands over the password again, say) keeps ``updated_at``
        # and needs no convergence: the charger has, or is being brought to, this very state.
        if live is not None and stored != live.ctx.desired:
            live.ctx.set_desired(stored)
            live.runner.request()
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
        return self._with_live_facts(await self.store.get_observed(cp_id))

    async def all_observed(self) -> list[ObservedState]:
        return [self._with_live_facts(observed) for observed in await self.store.list_observed()]

    async def sessions(self, **query: Any) -> SessionPage:
        return await self.store.list_sessions(**query)

    async def sessions_with_readings(self, **query: Any) -> str:
        return await self.store.list_sessions_with_readings(**query)

    async def session(self, session_id: str) -> Session | None:
        return await self.store.get_session(session_id)

    async def readings(self, session_id: str) -> list[MeterReading]:
        return list(await self.store.meter_readings(session_id))

    async def command(self, cp_id: str, name: str, command: commands.Command) -> dict[str, Any]:
        live = self.registry.get(cp_id)
        if live is None:
            raise ChargerNotConnectedError(
                f"Charge point {cp_id} is not connected to this gateway.", charge_point_id=cp_id
            )
        return await commands.run(live.session, live.ctx.ocpp_version, name, command)

    async def ready(self) -> bool:
        try:
            await self.store.ping()
        except Exception:  # readiness answers no, whatever the store's trouble is
            return False
        return self._ws is not None

    def _with_live_facts(self, observed: ObservedState) -> ObservedState:
        live = self.registry.get(observed.charge_point_id)
        if live is not None:
            return observed.model_copy(update={"connected": True, "last_seen": live.ctx.last_seen})
        if observed.connected and self.settings.database_url.startswith("sqlite"):
            # A SQLite store has one gateway process: a charger that is not in its registry is not connected,
            # whatever a process killed before it could record the disconnect left in the store.
            return observed.model_copy(update={"connected": False})
        return observed
