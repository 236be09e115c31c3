"""Errors of the OCPP gateway::

    ChargeOpsError
     └── GatewayError
          ├── ChargerRefusedError       the charger answered a call with a CallError or a refusal
          ├── ChargerTimeoutError       the charger did not answer a call in time
          ├── ChargerNotConnectedError  a command for a charger with no open connection (to any replica)
          ├── RelayFailedError          the replica holding the charger failed a relayed command otherwise
          └── GatewayConfigError        the gateway was started with settings that cannot work

Protocol violations by a charger are not ours: they are ``ocpp.exceptions`` raised inside handlers, and
the library turns their ``code`` into the CallError the charger receives.
"""

from chargeops.errors import ChargeOpsError


class GatewayError(ChargeOpsError):
    """Something the gateway could not do; the message says what and for which charger."""

    reason = "GatewayError"

    def __init__(self, message: str, *, charge_point_id: str | None = None) -> None:
        super().__init__(message)
        self.charge_point_id = charge_point_id


class ChargerRefusedError(GatewayError):
    """The charger answered with a CallError, or refused what was asked."""

    reason = "ChargerRefused"


class ChargerTimeoutError(GatewayError):
    """The charger did not answer a call within the response timeout."""

    reason = "ChargerTimeout"


class ChargerNotConnectedError(GatewayError):
    """No connection to the charger is open on this gateway."""

    reason = "ChargerNotConnected"


class RelayFailedError(GatewayError):
    """The replica holding the charger could not run a command relayed to it, for a reason of its own."""

    reason = "RelayFailed"


class GatewayConfigError(GatewayError):
    """The gateway's settings cannot work together (e.g. TLS key without certificate)."""

    reason = "InvalidGatewayConfig"
