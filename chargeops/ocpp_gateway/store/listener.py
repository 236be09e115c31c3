"""What other replicas tell this one: PostgreSQL ``LISTEN`` on a connection of its own.

``desired`` notifies ``CHANGES_CHANNEL`` with the charge point id when a write changes a desired state;
``ocpp_gateway.relay`` notifies ``COMMANDS_CHANNEL`` with commands for the replica holding a charger and
their answers. ``ChangeListener`` hears every channel it is given a handler for, in every replica, and
hands each payload to that channel's handler. Notifications sent while
the listening connection is down (PostgreSQL restarted, network cut) are lost, not queued: after a
reconnect the listener calls ``on_reconnect`` so the gateway can check every charger it holds once.

The connection is asyncpg's own, not one from SQLAlchemy's pool: it stays open and idle for the life of
the process, and a pooled connection would be recycled or reset under it. A dead connection is found by
asyncpg's termination callback or, when the network fails silently, by a ``SELECT 1`` every
``check_interval_s``.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from chargeops.ocpp_gateway.store import errors

log = logging.getLogger(__name__)

# Waits between reconnect attempts: quick at first (a restarted PostgreSQL is back in seconds), then calm.
RECONNECT_BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)
# URL query parameters that mean the same to asyncpg's DSN parser; any other (SQLAlchemy's own options)
# would reach the server as a setting it does not know.
_DSN_PARAMETERS = ("ssl", "sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout")

# How the listening connection shows in pg_stat_activity.
APPLICATION_NAME = "chargeops-gateway-listener"

_CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def asyncpg_dsn(url: str) -> str:
    """The ``postgresql://`` DSN asyncpg connects to for a store URL ``postgresql+asyncpg://…``."""
    parsed = make_url(url)
    query = {key: value for key, value in parsed.query.items() if key in _DSN_PARAMETERS}
    return parsed.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


class ChangeListener:
    """Listens until stopped; reconnects, with backoff, when the connection drops."""

    def __init__(
        self,
        url: str,
        *,
        handlers: Mapping[str, Callable[[str], None]],
        on_reconnect: Callable[[], Awaitable[None]],
        check_interval_s: float,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._handlers = dict(handlers)
        self._channels = ", ".join(self._handlers)
        self._on_reconnect = on_reconnect
        self._check_interval_s = check_interval_s
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    async def start(self) -> None:
        """Open the connection and LISTEN; ``StoreUnavailableError`` if PostgreSQL cannot be reached."""
        try:
            connection, closed = await self._listen()
        except _CONNECTION_ERRORS as error:
            raise errors.StoreUnavailableError(f"Could not LISTEN on {self._channels}: {error!r}") from error
        self._task = asyncio.create_task(self._run(connection, closed), name=f"listen:{self._channels}")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> tuple[Any, asyncio.Event]:
        connection = await asyncpg.connect(
            self._dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME}
        )
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _connection: closed.set())
        try:
            for channel in self._handlers:
                await connection.add_listener(channel, self._notified)
        except BaseException:
            connection.terminate()
            raise
        return connection, closed

    def _notified(self, _connection: object, _pid: int, channel: str, payload: str) -> None:
        self._handlers[channel](payload)

    async def _run(self, connection: Any, closed: asyncio.Event) -> None:
        while True:
            try:
                await self._watch(connection, closed)
            finally:
                connection.terminate()
            connection, closed = await self._reconnect()
            self.reconnects += 1
            log.info("LISTEN %s restored; checking every charger held here for missed changes.", self._channels)
            try:
                await self._on_reconnect()
            except Exception:
                log.exception("Checking the held chargers after the LISTEN reconnect failed.")

    async def _watch(self, connection: Any, closed: asyncio.Event) -> None:
        """Return when the connection is found dead."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closed.wait(), self._check_interval_s)
            if closed.is_set():
                log.warning("LISTEN %s: the connection to PostgreSQL closed.", self._channels)
                return
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), self._check_interval_s)
            except Exception as error:  # whatever failed, this connection is of no more use
                log.warning("LISTEN %s: the connection to PostgreSQL failed its check: %r", self._channels, error)
                return

    async def _reconnect(self) -> tuple[Any, asyncio.Event]:
        attempt = 0
        while True:
            delay = RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)]
            await asyncio.sleep(delay)
            attempt += 1
            try:
                return await self._listen()
            except _CONNECTION_ERRORS as error:
                log.warning(
                    "LISTEN %s: reconnect attempt %s failed (%r); next in %s s.",
                    self._channels,
                    attempt,
                    error,
                    RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)],
                )
