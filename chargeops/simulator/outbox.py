"""Delivery of a simulated charger's transaction-related messages, oldest first, whenever it is connected.

``sessions`` submits every StartTransaction / MeterValues / StopTransaction (2.0.1: TransactionEvent) here
and ``station`` runs ``pump()`` for as long as each connection lasts. The pump sends only the head of the
``offline.TransactionQueue`` and moves on only once it was answered, so messages reach the central system in
the order they were made across any number of disconnects (OCPP 1.6 §3.7). A CALLERROR is retried after
TransactionMessageRetryInterval times the attempts so far, up to TransactionMessageAttempts (§3.8); a lost
connection is not an attempt: the message simply waits for the next one.
"""

import asyncio
import logging
from typing import Any, Protocol

from ocpp.exceptions import OCPPError

from chargeops.simulator import errors
from chargeops.simulator.clock import Clock
from chargeops.simulator.dialect import Dialect, Draft, TxAck
from chargeops.simulator.offline import QueuedMessage
from chargeops.simulator.state import ChargerState
from chargeops.simulator.stats import StationStats


class Channel(Protocol):
    """The station's current connection, as its parts use it."""

    @property
    def online(self) -> bool:
        """Whether a connection is open and the charger is booted (calls may be sent)."""

    async def request(self, payload: Any) -> Any:
        """Send one call and return its result; raises ``NotConnectedError``, ``OCPPError``, ``TimeoutError``."""


class Outbox:
    """The transaction queue of one station and the loop that empties it."""

    def __init__(
        self,
        state: ChargerState,
        *,
        channel: Channel,
        dialect: Dialect,
        clock: Clock,
        stats: StationStats,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    ) -> None:
        self._state = state
        self._queue = state.queue
        self._channel = channel
        self._dialect = dialect
        self._clock = clock
        self._stats = stats
        self._logger = logger
        self._waiting: dict[int, asyncio.Future[TxAck]] = {}
        self._work = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()

    def submit(self, draft: Draft, *, offline: bool) -> asyncio.Future[TxAck]:
        """Queue ``draft`` behind everything made before it; the future resolves when it is answered."""
        message = self._queue.append(
            draft.action,
            draft.payload,
            local_ref=draft.local_ref,
            starts_transaction=draft.starts_transaction,
            ends_transaction=draft.ends_transaction,
            offline=offline,
        )
        if offline:
            self._stats.offline_messages += 1
        future: asyncio.Future[TxAck] = asyncio.get_running_loop().create_future()
        self._waiting[message.seq] = future
        self._empty.clear()
        self._work.set()
        return future

    async def pump(self) -> None:
        """Deliver the queue in order until the connection is lost (``NotConnectedError``)."""
        while True:
            message = self._queue.head()
            if message is None:
                self._empty.set()
                self._work.clear()
                await self._work.wait()
                continue
            try:
                payload = self._queue.wire_payload(message)
            except errors.UnknownTransactionError:
                self._drop(message, reason="its transaction was never started")
                continue
            try:
                result = await self._channel.request(self._dialect.transaction_call(message.action, payload))
            except (OCPPError, TimeoutError) as exc:
                await self._failed(message, exc)
                continue
            ack = self._dialect.parse_ack(message.action, result)
            self._queue.delivered(message, transaction_id=ack.transaction_id)
            if ack.transaction_id is not None:
                self._numbered(message, ack.transaction_id)
            self._settle(message, ack)

    async def drained(self) -> None:
        """Wait until every queued message was answered or dropped."""
        await self._empty.wait()

    def __len__(self) -> int:
        return len(self._queue)

    async def _failed(self, message: QueuedMessage, exc: Exception) -> None:
        message.attempts += 1
        settings = self._state.settings
        if message.attempts >= settings.message_attempts:
            self._drop(message, reason=f"{message.attempts} attempts failed, the last with {exc!r}")
            return
        # §3.8: wait TransactionMessageRetryInterval multiplied by the number of attempts so far.
        await self._clock.sleep(settings.message_retry_interval_s * message.attempts)

    def _drop(self, message: QueuedMessage, *, reason: str) -> None:
        dropped = self._queue.discard(message)
        self._stats.messages_dropped += len(dropped)
        self._logger.warning(
            "Dropped %s #%d (and %d after it): %s", message.action, message.seq, len(dropped) - 1, reason
        )
        for gone in dropped:
            future = self._waiting.pop(gone.seq, None)
            if future is not None and not future.done():
                future.set_exception(errors.SimulatorError(f"{gone.action} #{gone.seq} was dropped: {reason}"))
                future.exception()  # retrieved here, so nobody awaiting it is not an "unretrieved" warning

    def _numbered(self, message: QueuedMessage, transaction_id: int) -> None:
        # 1.6: the session learns the id the central system gave, for RemoteStopTransaction and the logs.
        for connector in self._state.connectors.values():
            if connector.session is not None and connector.session.local_ref == message.local_ref:
                connector.session.transaction_id = str(transaction_id)

    def _settle(self, message: QueuedMessage, ack: TxAck) -> None:
        future = self._waiting.pop(message.seq, None)
        if future is not None and not future.done():
            future.set_result(ack)
