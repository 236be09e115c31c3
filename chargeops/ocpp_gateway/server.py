"""The websocket side: who may connect, in which protocol, and the life of one connection.

``Gateway`` (``app.py``) serves ``ChargerServer.handshake`` as websockets' ``process_request`` and
``ChargerServer.serve_connection`` as the connection handler. The handshake refuses, with a reason in the
response body and a log line: a path that is not ``/ocpp/{id}``, no supported subprotocol, an unknown
id, a missing or wrong password (401), security profile 2 over plain TCP, a password check that could
not be answered before the charger gives up (503 with Retry-After, ``store.credentials``), and any new
charger while the gateway is overloaded (503 with Retry-After, ``admission``).
"""

import asyncio
import contextlib
import functools
import http
import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from chargeops.api.gateway import StoredDesiredState
from chargeops.api.v1alpha1 import OcppVersion
from chargeops.ocpp_gateway import auth, inbox, metrics, seams
from chargeops.ocpp_gateway.admission import Admission
from chargeops.ocpp_gateway.context import ChargerContext, Clock, charger_logger
from chargeops.ocpp_gateway.convergence.runner import ConvergenceRunner
from chargeops.ocpp_gateway.registry import REPLACED_CLOSE_CODE, REPLACED_REASON, LiveCharger, Registry
from chargeops.ocpp_gateway.return_times import AdmissionPace, ReturnTimes
from chargeops.ocpp_gateway.session import SESSION_CLASSES, TRY_AGAIN_LATER_CLOSE_CODE
from chargeops.ocpp_gateway.settings import GatewaySettings
from chargeops.ocpp_gateway.store import errors as store_errors

_SUBPROTOCOL = {OcppVersion.V16: Subprotocol("ocpp1.6"), OcppVersion.V201: Subprotocol("ocpp2.0.1")}
SUBPROTOCOLS = list(_SUBPROTOCOL.values())

# The least a charger is asked to wait before connecting again while the store is unavailable or slow, and
# while the gateway is overloaded (``admission``): more, when others were refused before it
# (``return_times``). Long enough for a store's restart or a loop's burst to pass.
STORE_RETRY_AFTER_S = 5
OVERLOADED_RETRY_AFTER_S = 10
# The handshake's store read may take this long. Slower, the database is overloaded (its pool's queue
# was 30 s deep at 50,000 chargers connecting): a 503 with Retry-After sends the charger away for a while,
# where websockets would drop the handshake unanswered at its open timeout. Within the handshake's slack
# (``app.HANDSHAKE_SLACK_S``), which also covers TLS and the reply.
LOGIN_READ_LIMIT_S = 3.0

log = logging.getLogger(__name__)


class ChargerServer:
    """Handshake checks and connection handling for chargers."""

    def __init__(self, settings: GatewaySettings, store: seams.Store, registry: Registry, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry
        self.clock = clock
        self.admission = Admission(settings.overload_lag_s)
        # When each charger answered 503 here is to come back, paced by how fast chargers are let in.
        self._returns = ReturnTimes()
        self._pace = AdmissionPace()
        # Between the handshake and the handler: what the handshake decided about each connection.
        self._admitted: dict[ServerConnection, tuple[str, OcppVersion, StoredDesiredState | None]] = {}
        # Login reads under way, by charger: a charger's retries share one (``_login``).
        self._logins: dict[str, asyncio.Future[seams.Login]] = {}
        # Set once the gateway stops: the departures are recorded together (``record_departures``), and a
        # connection that closes writes nothing of its own.
        self._stopping = False

    async def handshake(  # noqa: PLR0911 - one early answer per reason a charger is refused
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """websockets' ``process_request``: admit the connection, or answer why not."""
        cp_id = auth.charge_point_id(request.path)
        if cp_id is None:
            return _refuse(
                connection,
                http.HTTPStatus.NOT_FOUND,
                "BadPath",
                "Connect to /ocpp/{chargePointId}; the id is 1-48 characters of A-Z a-z 0-9 *_=+|@.-",
            )
        if self.admission.overloaded:
            # Before the store is asked anything: a refusal must cost the overloaded process next to nothing.
            self.admission.refuse()
            return self._come_back_later(
                connection,
                cp_id,
                "Overloaded",
                f"Charge point {cp_id}: the gateway is overloaded; try again later.",
                at_least_s=OVERLOADED_RETRY_AFTER_S,
                logged=False,  # ``admission`` logs the episode, not each of thousands of refusals
            )
        credentials = auth.basic_credentials(request.headers.get("Authorization"))
        busy = None if credentials is None else self.store.password_check_busy(cp_id, credentials.password)
        if busy is not None:
            # Refused all the same once its stored hash was read: refused before, the read is not spent.
            return self._password_check_busy(connection, busy)
        offered = _offered_subprotocols(request.headers)
        try:
            login = await asyncio.wait_for(asyncio.shield(self._login(cp_id)), LOGIN_READ_LIMIT_S)
        except store_errors.StoreUnavailableError as error:
            return self._store_unavailable(connection, cp_id, f"unavailable ({error})")
        except TimeoutError:
            return self._store_unavailable(connection, cp_id, f"too slow to answer within {LOGIN_READ_LIMIT_S:g} s")
        desired = login.desired
        version = _choose_version(offered, desired)
        if version is None:
            return _refuse(
                connection,
                http.HTTPStatus.BAD_REQUEST,
                "NoSubprotocol",
                f"Charge point {cp_id}: offer subprotocol ocpp1.6 or ocpp2.0.1 "
                f"(Sec-WebSocket-Protocol); offered: {', '.join(offered) or 'none'}",
            )
        refusal = await self._authenticate(connection, cp_id, login, credentials)
        if refusal is not None:
            return refusal
        self._admitted[connection] = (cp_id, version, desired)
        self._pace.admitted(time.monotonic())
        return None

    def _come_back_later(
        self,
        connection: ServerConnection,
        cp_id: str,
        reason: str,
        message: str,
        *,
        at_least_s: float,
        logged: bool = True,
    ) -> Response:
        """503 with a Retry-After of ``cp_id``'s own: its place after the chargers refused before it, at the
        pace this gateway takes chargers in (``return_times``), and not sooner than ``at_least_s``."""
        now = time.monotonic()
        self._pace.refused(now)
        back_at = self._returns.time_for(cp_id, now=now, earliest=now + at_least_s, spacing_s=1 / self._pace.per_s)
        retry_after = str(max(1, math.ceil(back_at - now)))
        status = http.HTTPStatus.SERVICE_UNAVAILABLE
        return _refuse(connection, status, reason, message, headers={"Retry-After": retry_after}, logged=logged)

    def _password_check_busy(self, connection: ServerConnection, busy: store_errors.PasswordCheckBusyError) -> Response:
        # Queued any longer, the check would be answered after the charger gave up (a reconnect storm).
        return self._come_back_later(
            connection, busy.charge_point_id, busy.reason, str(busy), at_least_s=busy.retry_after_s
        )

    def _store_unavailable(self, connection: ServerConnection, cp_id: str, cause: str) -> Response:
        message = f"Charge point {cp_id}: the gateway's store is {cause}; try again later."
        return self._come_back_later(connection, cp_id, "StoreUnavailable", message, at_least_s=STORE_RETRY_AFTER_S)

    def _login(self, cp_id: str) -> asyncio.Future[seams.Login]:
        """The charger's login read: the one under way, else a new one.

        A read given up on (``LOGIN_READ_LIMIT_S``) is not cancelled, as cancelling a database call
        midway costs its connection; it is left to finish. A charger answered 503 comes back while it
        is still queued: sharing it keeps the queue at one read per charger. With a new read per
        retry, an overloaded store's queue grew with every retry of every charger (50,000 chargers).
        """
        read = self._logins.get(cp_id)
        if read is None:
            read = self._logins[cp_id] = asyncio.ensure_future(self.store.login(cp_id))
            read.add_done_callback(functools.partial(self._login_done, cp_id))
        return read

    def _login_done(self, cp_id: str, read: asyncio.Future[seams.Login]) -> None:
        del self._logins[cp_id]
        if not read.cancelled():
            read.exception()  # retrieved, so that asyncio does not log it as never retrieved

    def select_subprotocol(self, connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        """websockets' ``select_subprotocol``: the version the handshake chose."""
        admitted = self._admitted.get(connection)
        return _SUBPROTOCOL[admitted[1]] if admitted else None

    async def _authenticate(  # noqa: PLR0911 - one early answer per reason a charger is refused
        self, connection: ServerConnection, cp_id: str, login: seams.Login, credentials: auth.Credentials | None
    ) -> Response | None:
        desired = login.desired
        if desired is None:
            if self.settings.dev_accept_unknown:
                log.warning(
                    "[%s] DEVELOPMENT SWITCH: unknown charger admitted without a password, charging free.", cp_id
                )
                return None
            return _refuse(
                connection,
                http.HTTPStatus.UNAUTHORIZED,
                "UnknownCharger",
                f"Charge point {cp_id} is not known to this gateway.",
            )
        profile = desired.desired.security_profile
        if profile == 0:
            if self.settings.dev_accept_unknown:
                return None
            return _refuse(
                connection,
                http.HTTPStatus.UNAUTHORIZED,
                "ProfileNotAllowed",
                f"Charge point {cp_id} has security profile 0, allowed only with the development switch.",
            )
        if profile == 2 and not self.settings.tls:
            return _refuse(
                connection,
                http.HTTPStatus.FORBIDDEN,
                "TlsRequired",
                f"Charge point {cp_id} uses security profile 2: connect over wss:// (TLS).",
            )
        if credentials is None or credentials.username != cp_id:
            return _refuse(
                connection,
                http.HTTPStatus.UNAUTHORIZED,
                "NoCredentials",
                f"Charge point {cp_id}: send HTTP Basic credentials with the charge point id as user.",
            )
        try:
            verified = await login.verify(credentials.password)
        except store_errors.PasswordCheckBusyError as busy:
            return self._password_check_busy(connection, busy)
        if not verified:
            return _refuse(
                connection, http.HTTPStatus.UNAUTHORIZED, "WrongPassword", f"Charge point {cp_id}: wrong password."
            )
        return None

    async def serve_connection(self, connection: ServerConnection) -> None:
        """websockets' handler: run one charger's session until the connection ends."""
        cp_id, version, desired = self._admitted.pop(connection)
        ctx = ChargerContext(
            charge_point_id=cp_id,
            ocpp_version=version,
            store=self.store,
            clock=self.clock,
            logger=charger_logger(cp_id),
            dev_mode=self.settings.dev_accept_unknown,
        )
        ctx.set_desired(desired)
        session = SESSION_CLASSES[version](ctx, connection, response_timeout_s=self.settings.response_timeout_s)
        runner = ConvergenceRunner(
            session, ctx, boot_wait_s=self.settings.boot_wait_s, drift_interval_s=self.settings.drift_interval_s
        )
        live = LiveCharger(connection=connection, session=session, ctx=ctx, runner=runner)
        previous = self.registry.attach(live)
        if previous is not None:
            ctx.logger.info("New connection replaces the previous one.")
            await previous.connection.close(REPLACED_CLOSE_CODE, REPLACED_REASON)
        now = ctx.now()
        ctx.last_seen = now
        try:
            observed = await self.store.update_observed(
                cp_id,
                {
                    "connected": True,
                    "connected_since": now,
                    "last_seen": now,
                    "ocpp_version": version.value,
                    "replica": self.settings.replica_id,
                },
                now=now,
            )
        except store_errors.StoreUnavailableError as error:
            # Unrecorded, the connection would be held here while the store says the charger is away.
            self.registry.detach(live)
            ctx.logger.warning("Connection closed, its arrival could not be stored: %s", error)
            await connection.close(TRY_AGAIN_LATER_CLOSE_CODE, "The gateway's store is unavailable; try again later.")
            return
        metrics.CONNECTIONS.labels(version.value).inc()
        ctx.logger.info("Connected (OCPP %s).", version.value)
        runner.start(observed)
        try:
            await self._receive(live)
        finally:
            metrics.CONNECTIONS.labels(version.value).dec()
            await runner.stop()
            await self._disconnected(live)

    async def _receive(self, live: LiveCharger) -> None:
        def seen() -> None:
            live.ctx.last_seen = live.ctx.now()

        await inbox.route_frames(live.connection, live.session.route_message, seen)

    async def record_departures(self) -> None:
        """The gateway is stopping: store, in a few statements, that every charger it holds has left, each
        with when it was last heard from. From now on a connection that closes writes nothing.

        Not one write per connection as it closes: at 16,667 connections per replica the close handshakes
        took longer than the 10 s the gateway waits for them, and the writes of those closing later queued
        behind each other until the replica had taken 84–93 s to stop.
        """
        self._stopping = True
        departed = {live.ctx.charge_point_id: live.ctx.last_seen for live in self.registry.all()}
        if not departed:
            return
        try:
            await self.store.depart(departed, held_by=self.settings.replica_id)
        except store_errors.StoreError as error:
            # The store may be why the gateway stops. Readers learn the same from the lease's end, later.
            log.warning("The departure of %d chargers could not be recorded: %s", len(departed), error)
            return
        log.info("Recorded the departure of %d chargers.", len(departed))

    async def _disconnected(self, live: LiveCharger) -> None:
        current = self.registry.detach(live)
        if self._stopping:
            live.ctx.logger.info("Disconnected: the gateway is stopping (close code %s).", live.connection.close_code)
            return
        changes: dict[str, Any] = {"last_seen": live.ctx.last_seen}
        if current:
            changes["connected"] = False
            changes["replica"] = None
        # Only while this replica holds the charger: it may have reconnected to another replica already.
        update = self.store.update_observed(
            live.ctx.charge_point_id, changes, now=live.ctx.now(), if_held_by=self.settings.replica_id
        )
        with contextlib.suppress(Exception):
            # The store may be the reason the connection ended; a disconnect must still finish cleanly.
            await asyncio.shield(update)
        live.ctx.logger.info("Disconnected (%s).", _how_it_closed(live.connection))


def _how_it_closed(connection: ServerConnection) -> str:
    """The close code received; and what the gateway sent, when it closed first and heard nothing back.
    A charger cut for not answering pings (1011, keepalive ping timeout) otherwise reads 1006, like one
    that vanished: a reconnect storm of 50,000 lost 1,725 chargers so, and the log could not say which."""
    sent = connection.protocol.close_sent
    if connection.protocol.close_rcvd is None and sent is not None:
        return f"close code {connection.close_code}; the gateway closed it: {sent.code} {sent.reason}".rstrip()
    return f"close code {connection.close_code}"


def _offered_subprotocols(headers: Headers) -> list[str]:
    offered = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        offered += [item.strip() for item in value.split(",") if item.strip()]
    return offered


def _choose_version(offered: Sequence[str], desired: StoredDesiredState | None) -> OcppVersion | None:
    """The desired version if offered; without a desired state, the newest offered."""
    candidates = [version for version, name in _SUBPROTOCOL.items() if name in offered]
    if desired is not None:
        wanted = desired.desired.ocpp_version
        return wanted if wanted in candidates else None
    return candidates[-1] if candidates else None


def _refuse(
    connection: ServerConnection,
    status: http.HTTPStatus,
    reason: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    logged: bool = True,
) -> Response:
    if logged:
        log.warning("Connection refused (%s): %s", reason, message)
    metrics.CONNECTIONS_REFUSED.labels(reason).inc()
    response = connection.respond(status, message + "\n")
    if status is http.HTTPStatus.UNAUTHORIZED:
        response.headers["WWW-Authenticate"] = 'Basic realm="chargeops", charset="UTF-8"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
