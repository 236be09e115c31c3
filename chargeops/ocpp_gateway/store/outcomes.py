"""What the transaction-recording methods of ``Store`` answer, beyond the stored records themselves.

The protocol code (``ocpp_gateway/actions/*``) reads these to build its OCPP reply: a retried message is
answered exactly like the first (``duplicate``), and an unknown transaction is still stored (``unknown``).
"""

import dataclasses
from typing import Literal

from chargeops.api import gateway

# OCPP 2.0.1 TransactionEventEnumType.
TransactionEventType = Literal["Started", "Updated", "Ended"]


@dataclasses.dataclass(frozen=True)
class StartOutcome:
    """An OCPP 1.6 StartTransaction, stored."""

    transaction_id: int
    """The transactionId for StartTransaction.conf; the same one again for a retried request."""
    session_id: str
    """The gateway's id of the session (``Session.id``)."""
    duplicate: bool
    """The charger had sent this StartTransaction before (its answer was lost); nothing new was stored."""


@dataclasses.dataclass(frozen=True)
class StopOutcome:
    """An OCPP 1.6 StopTransaction, stored."""

    session: gateway.Session | None
    """The closed session; None when the transaction is unknown."""
    duplicate: bool
    """The transaction had been stopped before; nothing changed."""
    unknown: bool
    """No session of this charger has that transaction id; the stop is kept as an orphan record."""


@dataclasses.dataclass(frozen=True)
class EventOutcome:
    """An OCPP 2.0.1 TransactionEvent, stored."""

    session_id: str
    """The gateway's id of the session the event belongs to."""
    duplicate: bool
    """The same (charger, transactionId, seqNo) had been stored before; nothing changed."""
