"""Errors of the operator::

    ChargeOpsError
     └── OperatorError
          ├── GatewayUnreachableError   the gateway's control API did not answer (retried with backoff)
          └── GatewayRefusedError       the control API answered with an error (a bug or a version skew)

Each carries ``reason``, which handlers copy into the condition they set before raising
``kopf.TemporaryError``.
"""

from chargeops.api.v1alpha1 import conditions
from chargeops.errors import ChargeOpsError


class OperatorError(ChargeOpsError):
    """Something the operator could not do."""

    reason = "OperatorError"


class GatewayUnreachableError(OperatorError):
    """The gateway's control API could not be reached or was not ready."""

    reason = conditions.GATEWAY_UNREACHABLE


class GatewayRefusedError(OperatorError):
    """The gateway's control API refused a request."""

    reason = "GatewayRefused"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status
