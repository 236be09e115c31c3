"""The queue of transaction-related messages a simulated charger owes the central system, in order.

OCPP 1.6 §3.7 (transaction-related messages): StartTransaction, StopTransaction and transaction MeterValues
must reach the central system, in chronological order, even when the charger was offline when they happened.
``outbox`` sends every such message through one ``TransactionQueue`` — online too, so that a message made
while an older one is still unacknowledged can never overtake it — and the queue only forgets a message once
it was answered (or given up on after TransactionMessageAttempts CALLERRORs, §3.8).

The catch in 1.6 is the transaction id: the central system assigns it in StartTransaction.conf. A session that
starts offline has none, so its queued MeterValues and StopTransaction carry a ``LocalRef`` instead, and the
queue rewrites ``transaction_id`` with the real id at the moment each message is sent, once the queued
StartTransaction ahead of it was answered. In 2.0.1 the station makes up the transactionId itself, so there
is nothing to rewrite; TransactionEvents made offline carry ``offline: true`` instead (use case E04).

Pure data: no I/O and no clock, so the ordering and rewriting rules are unit-tested without a socket.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NewType

from chargeops.simulator import errors

LocalRef = NewType("LocalRef", int)
"""The charger's own handle on a transaction until (and after) the central system numbers it."""


@dataclass
class QueuedMessage:
    """One transaction-related CALL waiting for its answer."""

    seq: int
    """Position in the order the messages were made; strictly increasing."""

    action: str
    """The OCPP action, e.g. ``StartTransaction``."""

    payload: dict[str, Any]
    """Keyword arguments of the ``ocpp`` call class for ``action`` (snake_case), as made."""

    local_ref: LocalRef | None = None
    """The 1.6 transaction this message belongs to, whose ``transaction_id`` is rewritten on sending."""

    starts_transaction: bool = False
    """Whether this is the transaction's first message (1.6 StartTransaction, whose answer numbers it when
    ``local_ref`` is set; 2.0.1 TransactionEvent Started)."""

    ends_transaction: bool = False
    """Whether this is the transaction's last message (StopTransaction, TransactionEvent Ended)."""

    queued_offline: bool = False
    """Whether the message was made while the charger had no connection."""

    attempts: int = field(default=0, compare=False)
    """How many times the central system answered it with a CALLERROR (or not at all)."""


class TransactionQueue:
    """Transaction-related messages in the order they were made, and the real ids of their transactions."""

    def __init__(self, *, capacity: int = 10_000) -> None:
        # A real charger's flash holds a few thousand messages; past ``capacity`` the oldest periodic
        # MeterValues give way, and StartTransaction / StopTransaction are kept regardless (§3.7 asks for
        # those; sampled values between them are the part a charger may thin out).
        self.capacity = capacity
        self._messages: deque[QueuedMessage] = deque()
        self._transaction_ids: dict[LocalRef, int] = {}
        self._next_seq = 0
        self._next_ref = 0
        self.thinned = 0
        """Periodic messages dropped because the queue was full."""

    def new_ref(self) -> LocalRef:
        """A handle for a new transaction."""
        self._next_ref += 1
        return LocalRef(self._next_ref)

    def append(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        local_ref: LocalRef | None = None,
        starts_transaction: bool = False,
        ends_transaction: bool = False,
        offline: bool = False,
    ) -> QueuedMessage:
        """Queue a message behind every message made before it."""
        if len(self._messages) >= self.capacity:
            self._thin()
        message = QueuedMessage(
            seq=self._next_seq,
            action=action,
            payload=dict(payload),
            local_ref=local_ref,
            starts_transaction=starts_transaction,
            ends_transaction=ends_transaction,
            queued_offline=offline,
        )
        self._next_seq += 1
        self._messages.append(message)
        return message

    def head(self) -> QueuedMessage | None:
        """The oldest message not yet acknowledged: the only one that may be sent now."""
        return self._messages[0] if self._messages else None

    def wire_payload(self, message: QueuedMessage) -> dict[str, Any]:
        """The payload to send now: ``transaction_id`` set to the real id of the message's transaction."""
        payload = dict(message.payload)
        if message.local_ref is None or message.starts_transaction:
            return payload
        real_id = self._transaction_ids.get(message.local_ref)
        if real_id is None:
            raise errors.UnknownTransactionError(
                f"{message.action} #{message.seq} belongs to a transaction that was never numbered",
                local_ref=message.local_ref,
            )
        payload["transaction_id"] = real_id
        return payload

    def delivered(self, message: QueuedMessage, *, transaction_id: int | None = None) -> None:
        """The central system answered ``message`` (the head); for a start, with ``transaction_id``."""
        self._pop_head(message)
        if message.local_ref is None:
            return
        if message.starts_transaction:
            if transaction_id is None:
                raise ValueError("an acknowledged StartTransaction must come with its transaction id")
            self._transaction_ids[message.local_ref] = transaction_id
        elif message.ends_transaction:
            self._transaction_ids.pop(message.local_ref, None)

    def discard(self, message: QueuedMessage) -> list[QueuedMessage]:
        """Give up on the head; a dropped start takes its transaction's later messages along. Returns all dropped."""
        self._pop_head(message)
        dropped = [message]
        if message.starts_transaction and message.local_ref is not None:
            orphans = [queued for queued in self._messages if queued.local_ref == message.local_ref]
            self._messages = deque(queued for queued in self._messages if queued.local_ref != message.local_ref)
            dropped.extend(orphans)
        return dropped

    def transaction_id(self, local_ref: LocalRef) -> int | None:
        """The central system's id for a transaction, once its start was acknowledged."""
        return self._transaction_ids.get(local_ref)

    def __len__(self) -> int:
        return len(self._messages)

    def __iter__(self) -> Iterator[QueuedMessage]:
        return iter(list(self._messages))

    def _pop_head(self, message: QueuedMessage) -> None:
        if not self._messages or self._messages[0] is not message:
            raise ValueError(f"{message.action} #{message.seq} is not at the head of the queue")
        self._messages.popleft()

    def _thin(self) -> None:
        # Never the head: it may be in flight right now.
        for index in range(1, len(self._messages)):
            candidate = self._messages[index]
            if not (candidate.starts_transaction or candidate.ends_transaction):
                del self._messages[index]
                self.thinned += 1
                return
