"""Errors of the session store, raised to the gateway's protocol code and its control API.

A store error never means data was lost: a write either committed whole or raised. The control API
turns ``InvalidCursorError`` and ``InvalidPageLimitError`` into 400 answers, the protocol code turns
``StoreUnavailableError`` into an OCPP ``InternalError`` — or, for a BootNotification, into ``Pending``
with a jittered interval after which the charger boots again (``actions.registration``), and for a
transaction-related message into no answer and a closed connection, so the charger keeps the message
queued — and the websocket handshake and readiness into 503. The websocket handshake turns
``PasswordCheckBusyError`` into 503 with Retry-After::

    ChargeOpsError
     └── StoreError
          ├── UnsupportedDatabaseUrlError   the URL names neither SQLite nor postgresql+asyncpg
          ├── StoreUnavailableError         the database refused, dropped or timed out a connection
          ├── NaiveTimestampError           a datetime without a time zone was passed in
          ├── InvalidTransactionIdError     a 1.6 transactionId outside the 64-bit range the store issues
          ├── InvalidCursorError            ``list_sessions`` got a cursor it did not make
          ├── InvalidPageLimitError         ``list_sessions`` limit outside 1…1000
          ├── InvalidObservedStateError     ``update_observed`` named an unknown field or a bad value
          └── PasswordCheckBusyError        too many password checks queued to answer this one in time
"""

from chargeops.errors import ChargeOpsError


class StoreError(ChargeOpsError):
    """The session store could not do what was asked."""

    reason = "StoreFailed"


class UnsupportedDatabaseUrlError(StoreError):
    """The database URL is not one the store supports; the message lists those that are."""

    reason = "UnsupportedDatabaseUrl"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class StoreUnavailableError(StoreError):
    """The database could not be reached or failed the statement; nothing was committed."""

    reason = "StoreUnavailable"


class NaiveTimestampError(StoreError):
    """A timestamp without a time zone: the store keeps UTC and refuses to guess the offset."""

    reason = "NaiveTimestamp"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransactionIdError(StoreError):
    """A 1.6 transactionId the store cannot have issued: its ids are 64-bit integers from 1 up."""

    reason = "InvalidTransactionId"

    def __init__(self, message: str, *, transaction_id: int) -> None:
        super().__init__(message)
        self.transaction_id = transaction_id


class InvalidCursorError(StoreError):
    """A ``list_sessions`` cursor that is not one a previous page returned."""

    reason = "InvalidCursor"


class InvalidPageLimitError(StoreError):
    """A ``list_sessions`` page size outside the accepted range."""

    reason = "InvalidPageLimit"

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class InvalidObservedStateError(StoreError):
    """``update_observed`` changes that do not make a valid ObservedState; nothing was stored."""

    reason = "InvalidObservedState"


class PasswordCheckBusyError(StoreError):
    """The password checks queued ahead would keep this one past the time a charger waits for its
    handshake; nothing was checked. ``retry_after_s``: the queue will have drained by then, and no
    sooner is worth trying again."""

    reason = "PasswordCheckBusy"

    def __init__(self, message: str, *, charge_point_id: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.charge_point_id = charge_point_id
        self.retry_after_s = retry_after_s
