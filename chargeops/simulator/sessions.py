"""Charging sessions on a simulated charger: authorize, start, sample the meter, stop.

``station`` calls ``Sessions.start`` / ``stop`` (from a test, the activity driver in ``schedule``, or a remote
start/stop handler). Authorization follows the charger's configuration:

- online, the id tag goes to the central system in Authorize, unless LocalPreAuthorize finds it valid in
  the local list or the cache (OCPP 1.6 §9.1 LocalPreAuthorize; 2.0.1 C01/C12);
- offline, LocalAuthorizeOffline lets the local list (then the cache) decide, and
  AllowOfflineTxForUnknownId admits tags found in neither;
- a 2.0.1 station with AuthCtrlr.Enabled false charges without asking (free charging).

While a session runs, the register advances by ``meter.PowerProfile`` and a sample goes out every
MeterValueSampleInterval (2.0.1: SampledDataCtrlr.TxUpdatedInterval). Every transaction message goes through
``outbox``, made with ``offline`` set when the charger has no connection at that moment. If the central
system answers a start with a non-Accepted id tag and StopTransactionOnInvalidId is set, the session stops
with reason DeAuthorized (1.6 §4.8).
"""

import asyncio
import contextlib
import logging
from datetime import datetime

from ocpp.exceptions import OCPPError

from chargeops.simulator import errors
from chargeops.simulator.clock import Clock
from chargeops.simulator.dialect import Dialect, TxAck
from chargeops.simulator.local_list import IdTagInfo
from chargeops.simulator.meter import PowerProfile
from chargeops.simulator.outbox import Channel, Outbox
from chargeops.simulator.state import ChargerState, Connector, ConnectorStatus, Session
from chargeops.simulator.stats import StationStats

# The register advances in steps no longer than this, so the taper of a long sample interval is smooth.
_STEP_S = 10
# With sampling off (interval 0) the sampler still wakes this often, to keep SuspendedEV up to date.
_IDLE_SAMPLE_S = 60


class Sessions:
    """The sessions of one station."""

    def __init__(
        self,
        state: ChargerState,
        *,
        channel: Channel,
        outbox: Outbox,
        dialect: Dialect,
        clock: Clock,
        stats: StationStats,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    ) -> None:
        self._state = state
        self._channel = channel
        self._outbox = outbox
        self._dialect = dialect
        self._clock = clock
        self._stats = stats
        self._logger = logger
        self._samplers: dict[int, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(
        self,
        id_tag: str,
        *,
        connector_id: int | None = None,
        profile: PowerProfile | None = None,
        remote: bool = False,
        remote_start_id: int | None = None,
    ) -> Session | None:
        """Authorize ``id_tag`` and start charging; ``None`` when refused or no connector is free."""
        connector = self._reserve(connector_id, remote=remote)
        if connector is None:
            return None
        info = await self._authorize(id_tag, remote=remote)
        now = self._clock.now()
        if info is not None and not info.is_valid_at(now):
            self._stats.authorizations_rejected += 1
            self._logger.info("Id tag %s refused (%s); not charging.", id_tag, info.status)
            await self._set_status(connector, self._idle_status(connector))
            return None
        session = Session(
            connector_id=connector.connector_id,
            id_tag=id_tag,
            started_at=now,
            meter_start_wh=connector.register.energy_wh,
            profile=profile or PowerProfile(),
            local_ref=self._state.queue.new_ref(),
            remote_start_id=remote_start_id,
            last_sample_at=now,
        )
        connector.session = session
        offline = not self._channel.online
        started = self._outbox.submit(self._dialect.started(session, at=now, offline=offline), offline=offline)
        started.add_done_callback(lambda done: self._check_start(done, connector.connector_id, session))
        self._stats.sessions_started += 1
        self._samplers[connector.connector_id] = asyncio.create_task(self._sample(connector, session))
        await self._set_status(connector, ConnectorStatus.CHARGING)
        return session

    async def stop(self, connector_id: int, *, reason: str = "Local") -> Session | None:
        """Stop the session on ``connector_id`` (``reason``: a 1.6 Reason); the stopped session, if any."""
        connector = self._state.connectors[connector_id]
        session = connector.session
        if session is None:
            return None
        connector.session = None  # before any await, so a second stop finds nothing to stop
        sampler = self._samplers.pop(connector_id, None)
        if sampler is not None:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        now = self._clock.now()
        self._advance(connector, session, now)
        offline = not self._channel.online
        draft = self._dialect.stopped(
            session, register_wh=connector.register.energy_wh, reason=reason, at=now, offline=offline
        )
        self._outbox.submit(draft, offline=offline)
        self._stats.sessions_stopped += 1
        self._stats.energy_wh += connector.register.energy_wh - session.meter_start_wh
        await self._set_status(connector, ConnectorStatus.FINISHING)
        await self._set_status(connector, self._idle_status(connector))
        return session

    async def stop_all(self, *, reason: str) -> None:
        """Stop every running session."""
        for connector_id, connector in self._state.connectors.items():
            if connector.session is not None:
                await self.stop(connector_id, reason=reason)

    async def report_all(self) -> None:
        """StatusNotification for every connector, as after a boot or a reconnect."""
        for connector in self._state.connectors.values():
            await self._set_status(connector, connector.status)

    async def report(self, connector_id: int) -> None:
        """StatusNotification for one connector."""
        connector = self._state.connectors[connector_id]
        await self._set_status(
            connector, self._idle_status(connector) if connector.session is None else connector.status
        )

    def _reserve(self, connector_id: int | None, *, remote: bool) -> Connector | None:
        if remote and connector_id is not None:
            # The remote start handler already took this connector (status Preparing) when it answered.
            connector = self._state.connectors.get(connector_id)
            return connector if connector is not None and connector.session is None else None
        connector = self._state.free_connector(connector_id)
        if connector is not None:
            connector.status = ConnectorStatus.PREPARING
        return connector

    async def _authorize(self, id_tag: str, *, remote: bool) -> IdTagInfo | None:
        settings = self._state.settings
        if not settings.authorization_enabled or (remote and not settings.authorize_remote_start):
            return None
        local = self._state.local_list.lookup(id_tag) if settings.local_list_enabled else None
        cached = self._state.cache.lookup(id_tag) if settings.cache_enabled else None
        known = local or cached
        now = self._clock.now()
        if self._channel.online:
            if settings.local_pre_authorize and known is not None and known.is_valid_at(now):
                return known
            try:
                info = self._dialect.parse_authorize(await self._channel.request(self._dialect.authorize(id_tag)))
            except (errors.NotConnectedError, OCPPError, TimeoutError) as exc:
                self._logger.info("Authorize of %s got no answer (%r); deciding offline.", id_tag, exc)
            else:
                if settings.cache_enabled:
                    self._state.cache.remember(id_tag, info)
                return info
        if settings.local_authorize_offline and known is not None:
            return known
        if settings.offline_unknown_allowed and known is None:
            return IdTagInfo(status="Accepted")
        return IdTagInfo(status="Invalid")

    def _check_start(self, done: "asyncio.Future[TxAck]", connector_id: int, session: Session) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        info = done.result().id_tag_info
        if info is None or info.status == "Accepted" or not self._state.settings.stop_on_invalid_id:
            return
        connector = self._state.connectors[connector_id]
        if connector.session is session:
            self._logger.info("Central system refused %s at start (%s): stopping.", session.id_tag, info.status)
            task = asyncio.create_task(self._stop_quietly(connector_id, reason="DeAuthorized"))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _stop_quietly(self, connector_id: int, *, reason: str) -> None:
        await self.stop(connector_id, reason=reason)

    async def _sample(self, connector: Connector, session: Session) -> None:
        while True:
            interval = self._state.settings.sample_interval_s
            await self._clock.sleep(interval or _IDLE_SAMPLE_S)
            now = self._clock.now()
            power_w = self._advance(connector, session, now)
            if interval:
                offline = not self._channel.online
                draft = self._dialect.sampled(
                    session, register_wh=connector.register.energy_wh, power_w=power_w, at=now, offline=offline
                )
                self._outbox.submit(draft, offline=offline)
            full = session.profile.is_full(connector.register.energy_wh - session.meter_start_wh)
            if full and connector.status is ConnectorStatus.CHARGING:
                await self._set_status(connector, ConnectorStatus.SUSPENDED_EV)

    def _advance(self, connector: Connector, session: Session, now: datetime) -> int:
        """Advance the register from the last sample to ``now``; return the power drawn at the end."""
        since = session.last_sample_at or session.started_at
        remaining_ms = max(int((now - since).total_seconds() * 1000), 0)
        elapsed_s = int((since - session.started_at).total_seconds())
        power_w = 0
        while remaining_ms > 0:
            step_ms = min(remaining_ms, _STEP_S * 1000)
            delivered_wh = connector.register.energy_wh - session.meter_start_wh
            power_w = session.profile.power_w(elapsed_s=elapsed_s, delivered_wh=delivered_wh)
            connector.register.advance(power_w=power_w, elapsed_ms=step_ms)
            remaining_ms -= step_ms
            elapsed_s += step_ms // 1000
        session.last_sample_at = now
        return power_w

    def _idle_status(self, connector: Connector) -> ConnectorStatus:
        return ConnectorStatus.AVAILABLE if connector.operative else ConnectorStatus.UNAVAILABLE

    async def _set_status(self, connector: Connector, status: ConnectorStatus) -> None:
        connector.status = status
        if not self._channel.online:
            return  # a station reports its statuses again when it reconnects
        try:
            await self._channel.request(self._dialect.status(connector.connector_id, status, at=self._clock.now()))
        except (errors.NotConnectedError, OCPPError, TimeoutError) as exc:
            self._logger.info("StatusNotification %s for connector %d failed: %r", status, connector.connector_id, exc)
