"""The chargers connected to this gateway process, one live connection per charge point id.

A second connection for the same id replaces the first (a charger that reconnects before the old TCP
connection timed out): the old one is closed cleanly and its cleanup leaves the new one in place.
"""

import dataclasses
from typing import Any

from chargeops.ocpp_gateway.context import ChargerContext
from chargeops.ocpp_gateway.convergence.runner import ConvergenceRunner

REPLACED_CLOSE_CODE = 1000
REPLACED_REASON = "Replaced by a newer connection for this charge point."


@dataclasses.dataclass(eq=False)
class LiveCharger:
    """One open connection: the websocket, the OCPP session on it, its context and convergence."""

    connection: Any
    session: Any
    ctx: ChargerContext
    runner: ConvergenceRunner


class Registry:
    """Connected chargers by id."""

    def __init__(self) -> None:
        self._live: dict[str, LiveCharger] = {}

    def attach(self, live: LiveCharger) -> LiveCharger | None:
        """Register ``live``; return the connection it replaces, which the caller closes."""
        previous = self._live.get(live.ctx.charge_point_id)
        self._live[live.ctx.charge_point_id] = live
        return previous

    def detach(self, live: LiveCharger) -> bool:
        """Forget ``live`` if it is still the current connection; False if a newer one replaced it."""
        if self._live.get(live.ctx.charge_point_id) is live:
            del self._live[live.ctx.charge_point_id]
            return True
        return False

    def get(self, charge_point_id: str) -> LiveCharger | None:
        """The live connection of a charger, if it is connected here."""
        return self._live.get(charge_point_id)

    def __len__(self) -> int:
        return len(self._live)

    def all(self) -> list[LiveCharger]:
        """Every live connection."""
        return list(self._live.values())
