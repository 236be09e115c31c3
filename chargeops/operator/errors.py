"""Errors of the operator::

    ChargeOpsError
     └── OperatorError
          ├── GatewayUnreachableError   the gateway's control API did not answer (retried with backoff)
          ├── GatewayRefusedError       the control API answered with an error (a bug or a version skew)
          ├── SecretNotFoundError       a Secret (or its key) a Charger names does not exist (retried)
          └── MailError
               ├── MailRefusedError     the SMTP server refused the message or could not be reached:
               │                        certainly not delivered (retried with backoff)
               └── MailUncertainError   the connection broke after the message was handed over:
                                        perhaps delivered (never retried by itself)

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


class SecretNotFoundError(OperatorError):
    """A Secret, or the key in it, that a spec names does not exist."""

    reason = conditions.SECRET_NOT_FOUND

    def __init__(self, namespace: str, name: str, key: str, *, secret_exists: bool) -> None:
        where = f"Secret {namespace}/{name}"
        super().__init__(f"{where} has no key {key}." if secret_exists else f"{where} (key {key}) does not exist.")
        self.namespace = namespace
        self.name = name
        self.key = key
        self.secret_exists = secret_exists


class MailError(OperatorError):
    """An email could not be handed to the SMTP server."""

    reason = conditions.INVITATION_FAILED

    def __init__(self, message: str, *, server: str) -> None:
        super().__init__(message)
        self.server = server


class MailRefusedError(MailError):
    """The server refused the message, or the session failed before the message was handed over: it was
    certainly not delivered, and sending it again is safe."""

    reason = conditions.INVITATION_FAILED


class MailUncertainError(MailError):
    """The session broke after the whole message was sent but before the server confirmed it: the server
    may have accepted it. Sending again could deliver it twice."""

    reason = conditions.DELIVERY_UNKNOWN
