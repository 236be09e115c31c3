"""Errors of the simulated chargers, raised to the CLI, the fleet runner and the tests that drive a station.

A simulated charger keeps going through almost everything a real one survives (lost connections, CALLERRORs,
rejected boots), so few things are errors here; these are the ones a caller has to see::

    ChargeOpsError
     └── SimulatorError
          ├── SimulatorConfigError        a station or fleet was configured with something impossible
          ├── NotConnectedError           an online-only call was made while the station had no websocket
          ├── StationNotReadyError        a test waited for a state (connected, drained) that never came
          └── UnknownTransactionError     a queued message names a transaction whose start was dropped
"""

from chargeops.errors import ChargeOpsError


class SimulatorError(ChargeOpsError):
    """A simulated charger could not do what was asked."""

    reason = "SimulatorFailed"


class SimulatorConfigError(SimulatorError):
    """A station or fleet setting is impossible (a short password, no connectors, an unknown version)."""

    reason = "SimulatorConfigInvalid"

    def __init__(self, message: str, *, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


class NotConnectedError(SimulatorError):
    """The station has no open websocket, or lost it while waiting for an answer."""

    reason = "NotConnected"

    def __init__(self, message: str, *, charge_point_id: str) -> None:
        super().__init__(message)
        self.charge_point_id = charge_point_id


class StationNotReadyError(SimulatorError):
    """A wait for a station state timed out; ``last_error`` says what the station last ran into."""

    reason = "StationNotReady"

    def __init__(self, message: str, *, charge_point_id: str, last_error: str | None) -> None:
        super().__init__(message)
        self.charge_point_id = charge_point_id
        self.last_error = last_error


class UnknownTransactionError(SimulatorError):
    """A queued message belongs to a transaction whose StartTransaction was never acknowledged and was dropped."""

    reason = "UnknownTransaction"

    def __init__(self, message: str, *, local_ref: int) -> None:
        super().__init__(message)
        self.local_ref = local_ref
