"""Errors of invitations::

    ChargeOpsError
     └── InvitationError
          └── TariffUnavailableError   a tariff the offer must state does not exist (yet)

Signed links have their own ``tokens.TokenError``: the portal shows its message to the subscriber.
"""

from chargeops.errors import ChargeOpsError


class InvitationError(ChargeOpsError):
    """An invitation could not be written."""

    reason = "InvitationError"


class TariffUnavailableError(InvitationError):
    """A Tariff that prices the subscriber's sessions (or monthly fee) does not exist."""

    reason = "TariffNotFound"

    def __init__(self, name: str) -> None:
        super().__init__(f"Tariff {name} does not exist; the offer cannot state its prices.")
        self.name = name
