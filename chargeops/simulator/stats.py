"""Counters of what simulated chargers did, for ``chargeops simulate``'s progress line and summary.

Each station owns a ``StationStats``; ``fleet`` adds them up. Plain integers, bumped by ``station``,
``outbox`` and ``sessions`` where the thing happens: nothing here is read back to decide behaviour.
"""

from dataclasses import dataclass, fields


@dataclass
class StationStats:
    """What one station (or, summed, a fleet) has done so far."""

    connects: int = 0
    """Websocket connections opened (the first one and every reconnect)."""

    connect_failures: int = 0
    """Connection attempts that failed: refused, timed out, or answered with an HTTP error."""

    auth_failures: int = 0
    """Upgrades answered 401: wrong id or password."""

    boots: int = 0
    """BootNotifications answered Accepted."""

    frames_sent: int = 0
    """OCPP-J frames sent: calls and the answers to the gateway's calls."""

    frames_received: int = 0
    """OCPP-J frames received."""

    calls_answered: int = 0
    """Calls of ours the central system answered with a CALLRESULT."""

    call_errors: int = 0
    """Calls of ours the central system answered with a CALLERROR."""

    call_timeouts: int = 0
    """Calls of ours the central system did not answer in time."""

    heartbeats: int = 0
    """Heartbeats sent."""

    sessions_started: int = 0
    """Transactions started (StartTransaction / TransactionEvent Started queued)."""

    sessions_stopped: int = 0
    """Transactions stopped (StopTransaction / TransactionEvent Ended queued)."""

    authorizations_rejected: int = 0
    """Id tags refused before a transaction started (online answer, or offline rules)."""

    offline_messages: int = 0
    """Transaction-related messages made while offline (delivered later)."""

    messages_dropped: int = 0
    """Transaction-related messages given up on (TransactionMessageAttempts CALLERRORs, or orphans)."""

    energy_wh: int = 0
    """Energy delivered in stopped transactions."""

    def add(self, other: "StationStats") -> None:
        """Add ``other``'s counters to these."""
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    @property
    def errors(self) -> int:
        """Everything that went wrong, in one number for the summary."""
        return self.connect_failures + self.call_errors + self.call_timeouts + self.messages_dropped
