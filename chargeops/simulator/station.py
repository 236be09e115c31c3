"""One simulated charger: its connection to the gateway, boot, heartbeat, and the controls tests drive.

``fleet`` runs many of these and the e2e tests drive single ones. ``Station.run()`` keeps a websocket open to
``{gateway_url}/{charge_point_id}`` with the OCPP-J subprotocol of its version and HTTP Basic credentials
(security profile 1, or 2 with ``ssl_context``), reconnecting with exponential backoff and jitter whenever
it is lost, and never sooner than a gateway answering 503 asked (``Retry-After``). On the first connection
(and after a Reset) it boots: BootNotification until Accepted, waiting the answer's interval after Pending
or Rejected (OCPP 1.6 §4.2, 2.0.1 B01 to B03); then it reports every connector's status, delivers its
transaction queue (``outbox``) and sends a Heartbeat whenever nothing else was exchanged for
HeartbeatInterval (§4.6). ``go_offline()`` / ``go_online()`` cut and restore the link on
purpose, which is how tests make offline periods.
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from chargeops.simulator import errors, link, station_config
from chargeops.simulator.clock import Clock, SystemClock
from chargeops.simulator.dialect import BootResult
from chargeops.simulator.meter import PowerProfile
from chargeops.simulator.outbox import Outbox
from chargeops.simulator.sessions import Sessions
from chargeops.simulator.state import Session
from chargeops.simulator.station_config import StationConfig
from chargeops.simulator.stats import StationStats

WIRE_LOGGER = link.WIRE_LOGGER
_logger = logging.getLogger(__name__)
# Wait after a Pending or Rejected boot whose answer gave interval 0 (B02/B03 leave it to the station).
_BOOT_RETRY_S = 60


class Station:
    """A simulated charger; ``run()`` it as a task, drive it with the other methods, ``close()`` it."""

    def __init__(self, config: StationConfig, *, clock: Clock | None = None, rng: random.Random | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.stats = StationStats()
        self.dialect = station_config.dialect_for(config.ocpp_version)
        self.state = station_config.charger_state(config)
        self.logger = logging.LoggerAdapter(_logger, {"charge_point_id": config.charge_point_id})
        self.last_error: str | None = None
        self.outbox = Outbox(
            self.state, channel=self, dialect=self.dialect, clock=self.clock, stats=self.stats, logger=self.logger
        )
        self.sessions = Sessions(
            self.state,
            channel=self,
            outbox=self.outbox,
            dialect=self.dialect,
            clock=self.clock,
            stats=self.stats,
            logger=self.logger,
        )
        self._rng = rng or random.Random()  # noqa: S311  # jitter, not secrets
        self._link: link.Link | None = None
        self._booted = False
        self._boot_reason = "PowerUp"
        self._ready = asyncio.Event()
        self._want_online = asyncio.Event()
        self._want_online.set()
        self._closing = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # The connection (``outbox.Channel``).

    @property
    def online(self) -> bool:
        """Connected and booted."""
        return self._link is not None and self._link.ready

    async def request(self, payload: Any) -> Any:
        """Send one call on the current connection; see ``outbox.Channel``."""
        current = self._link
        if current is None or not current.ready:
            raise errors.NotConnectedError(
                f"{self.config.charge_point_id} is offline", charge_point_id=self.config.charge_point_id
            )
        return await current.call(payload)

    async def run(self) -> None:
        """Connect, boot and serve until ``close()``; reconnect after every loss."""
        delay = self.config.reconnect_initial_s
        while not self._closing:
            await self._want_online.wait()
            opened = False
            asked_to_wait_s = 0.0
            try:
                async with link.open_websocket(self.config, subprotocol=self.dialect.subprotocol) as websocket:
                    self.stats.connects += 1
                    opened = True
                    delay = self.config.reconnect_initial_s
                    await self._serve(websocket)
            except InvalidStatus as exc:
                status = exc.response.status_code
                self.stats.connect_failures += 1
                self.stats.auth_failures += status == 401
                asked_to_wait_s = retry_after_s(exc)
                self._record(f"the gateway answered the upgrade with HTTP {status}")
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed, errors.SimulatorError) as exc:
                self.stats.connect_failures += not opened
                self._record(f"connection failed or lost: {exc!r}")
            if self._closing or not self._want_online.is_set():
                continue
            # Full jitter, so a restarted gateway is not hit by every charger in the same instant; never
            # sooner than a busy gateway asked (503 with Retry-After).
            await asyncio.sleep(max(asked_to_wait_s, self._rng.uniform(0, delay)))
            delay = min(delay * 2, self.config.reconnect_max_s)

    async def close(self) -> None:
        """Disconnect for good and stop everything ``run()`` started."""
        self._closing = True
        self._want_online.set()
        await self._disconnect()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def go_offline(self) -> None:
        """Drop the connection and stay away until ``go_online()``; sessions go on, their messages queue."""
        self._want_online.clear()
        await self._disconnect()

    def go_online(self) -> None:
        """Connect again after ``go_offline()``."""
        self._want_online.set()

    async def wait_online(self, timeout_s: float | None = 10.0) -> None:
        """Wait until connected and booted; ``StationNotReadyError`` after ``timeout_s`` real seconds (None: ever)."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except TimeoutError as exc:
            raise self._not_ready(f"not online after {timeout_s} s") from exc

    async def wait_drained(self, timeout_s: float = 10.0) -> None:
        """Wait until every transaction message was delivered (or dropped)."""
        try:
            await asyncio.wait_for(self.outbox.drained(), timeout_s)
        except TimeoutError as exc:
            raise self._not_ready(f"{len(self.outbox)} transaction messages undelivered after {timeout_s} s") from exc

    async def start_session(
        self, id_tag: str, *, connector_id: int | None = None, profile: PowerProfile | None = None
    ) -> Session | None:
        """Present ``id_tag`` and charge; ``None`` when refused or busy (see ``sessions.Sessions.start``)."""
        return await self.sessions.start(id_tag, connector_id=connector_id, profile=profile)

    async def stop_session(self, connector_id: int = 1, *, reason: str = "Local") -> Session | None:
        """End the session on ``connector_id``."""
        return await self.sessions.stop(connector_id, reason=reason)

    # What handlers ask for (``state.Controls``).

    def remote_start(self, id_tag: str, connector_id: int, *, remote_start_id: int | None = None) -> None:
        self._spawn(
            self.sessions.start(id_tag, connector_id=connector_id, remote=True, remote_start_id=remote_start_id)
        )

    def remote_stop(self, connector_id: int) -> None:
        self._spawn(self.sessions.stop(connector_id, reason="Remote"))

    def reset(self, *, hard: bool) -> None:
        self._spawn(self._reset(hard=hard))

    def trigger(self, message: str, connector_id: int | None) -> None:
        self._spawn(self._triggered(message, connector_id))

    def availability_changed(self, connector_id: int) -> None:
        targets = list(self.state.connectors) if connector_id == 0 else [connector_id]
        for target in targets:
            self._spawn(self.sessions.report(target))

    # Inside.

    async def _serve(self, websocket: ClientConnection) -> None:
        if not self._want_online.is_set():
            return  # go_offline() came while the handshake was under way
        if websocket.subprotocol != self.dialect.subprotocol:
            # OCPP-J: a charger must not talk to a server that did not accept its subprotocol.
            raise errors.SimulatorError(f"the gateway chose subprotocol {websocket.subprotocol!r}")
        current = link.Link(
            websocket,
            config=self.config,
            dialect=self.dialect,
            state=self.state,
            controls=self,
            clock=self.clock,
            stats=self.stats,
        )
        self._link = current
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(current.serve())
                group.create_task(self._online(current))
        except* (ConnectionClosed, errors.NotConnectedError):
            pass
        finally:
            current.closed.set()
            self._link = None
            self._ready.clear()

    async def _online(self, current: link.Link) -> None:
        if not self._booted or self.config.boot_on_reconnect:
            await self._boot(current)
        current.ready = True
        self._ready.set()
        await self.sessions.report_all()
        async with asyncio.TaskGroup() as group:  # either failing (connection lost) ends both
            group.create_task(self.outbox.pump())
            group.create_task(self._heartbeat(current))

    async def _boot(self, current: link.Link) -> None:
        while True:
            try:
                result = await self._boot_once(current.call)
            except (OCPPError, TimeoutError) as exc:
                self._record(f"BootNotification failed: {exc!r}")
                await self.clock.sleep(_BOOT_RETRY_S)
                continue
            if result.status == "Accepted":
                self._booted = True
                self._boot_reason = "PowerUp"
                return
            self._record(f"BootNotification answered {result.status}")
            await self.clock.sleep(result.interval_s or _BOOT_RETRY_S)

    async def _boot_once(self, send: Callable[[Any], Awaitable[Any]]) -> BootResult:
        config = self.config
        payload = self.dialect.boot(
            vendor=config.vendor,
            model=config.model,
            firmware_version=config.firmware_version,
            serial_number=config.serial_number or config.charge_point_id,
            reason=self._boot_reason,
        )
        result = self.dialect.parse_boot(await send(payload))
        if result.status == "Accepted":
            self.state.settings.set_heartbeat_interval(result.interval_s)
            self.stats.boots += 1
        return result

    async def _heartbeat(self, current: link.Link) -> None:
        # 1.6 §9.1 HeartbeatInterval: "interval of inactivity (no OCPP exchanges)" before a Heartbeat.
        while True:
            interval = self.state.settings.heartbeat_interval_s or _BOOT_RETRY_S
            idle_s = (self.clock.now() - current.last_exchange).total_seconds()
            if idle_s < interval:
                await self.clock.sleep(interval - idle_s)
                continue
            try:
                await self.request(self.dialect.heartbeat())
                self.stats.heartbeats += 1
            except (OCPPError, TimeoutError) as exc:
                self._record(f"Heartbeat failed: {exc!r}")
                await self.clock.sleep(interval)

    async def _reset(self, *, hard: bool) -> None:
        # 1.6 §5.14: stop transactions (StopTransaction with reason Soft/HardReset), then reboot.
        await self.sessions.stop_all(reason="HardReset" if hard else "SoftReset")
        applied = self.state.settings.reboot()
        self.logger.info("Reset (%s); applied pending settings %s.", "hard" if hard else "soft", applied)
        self._booted = False
        self._boot_reason = "RemoteReset"
        await self._disconnect()

    async def _triggered(self, message: str, connector_id: int | None) -> None:
        try:
            if message == "BootNotification":
                self._boot_reason = "Triggered"
                await self._boot_once(self.request)
                self._boot_reason = "PowerUp"
            elif message == "Heartbeat":
                await self.request(self.dialect.heartbeat())
            elif message == "StatusNotification":
                for target in [connector_id] if connector_id else list(self.state.connectors):
                    await self.sessions.report(target)
            elif message == "MeterValues":
                for target in [connector_id] if connector_id else list(self.state.connectors):
                    register_wh = self.state.connectors[target].register.energy_wh
                    await self.request(self.dialect.meter_values(target, register_wh=register_wh, at=self.clock.now()))
            else:  # Diagnostics/FirmwareStatusNotification: nothing is uploading or updating
                await self.request(self.dialect.idle_notification(message))
        except (errors.SimulatorError, OCPPError, TimeoutError) as exc:
            self._record(f"triggered {message} failed: {exc!r}")

    async def _disconnect(self) -> None:
        if self._link is not None:
            await self._link.close()

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _record(self, message: str) -> None:
        self.last_error = message
        self.logger.info("%s: %s", self.config.charge_point_id, message)

    def _not_ready(self, what: str) -> errors.StationNotReadyError:
        return errors.StationNotReadyError(
            f"{self.config.charge_point_id}: {what} (last error: {self.last_error})",
            charge_point_id=self.config.charge_point_id,
            last_error=self.last_error,
        )


def retry_after_s(refused: InvalidStatus) -> float:
    """The seconds a 503 answer asks to wait (``Retry-After`` as delay-seconds); 0 for any other answer."""
    response = refused.response
    if response.status_code != 503:
        return 0.0
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:  # an HTTP date, which no gateway of ours sends: fall back to the backoff
        return 0.0
