"""What a connected charger's handlers share: its identity, the store, the clock and its desired state.

One ``ChargerContext`` lives as long as one websocket. Actions receive it as ``ctx`` and reach storage
only through ``ctx.store``; they read the clock only through ``ctx.now()``, so tests can move time.
"""

import asyncio
import dataclasses
import logging
from collections.abc import Callable, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from chargeops.api.gateway import AuthorizationMode, StoredDesiredState
from chargeops.api.v1alpha1 import OcppVersion
from chargeops.ocpp_gateway import seams

Clock = Callable[[], datetime]

# A transaction message stamped this long before it arrives was queued by a charger while offline
# (OCPP 1.6 §4.x "offline" queueing). Longer than any clock skew or retry delay seen in practice.
LATE_AFTER = timedelta(minutes=5)


class ChargerLogger(logging.LoggerAdapter[logging.Logger]):
    """Prefixes every line with ``[charger-id]``, as kopf's ObjectLogger does with ``[namespace/name]``."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = self.extra or {}
        kwargs["extra"] = {**extra, **kwargs.get("extra", {})}
        return f"[{extra['charge_point_id']}] {msg}", kwargs


@dataclasses.dataclass
class ChargerContext:
    """Per-connection state handed to every action."""

    charge_point_id: str
    ocpp_version: OcppVersion
    store: seams.Store
    clock: Clock
    logger: ChargerLogger
    desired: StoredDesiredState | None = None
    dev_mode: bool = False
    booted: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    last_seen: datetime | None = None
    _authorized: frozenset[str] = frozenset()

    def now(self) -> datetime:
        """The gateway's current time, aware and UTC."""
        return self.clock()

    def set_desired(self, desired: StoredDesiredState | None) -> None:
        """Adopt a new desired state; authorization decisions follow at once."""
        self.desired = desired
        self._authorized = frozenset(desired.desired.authorized_id_tags) if desired else frozenset()

    @property
    def authorization(self) -> AuthorizationMode:
        """Free or Required; a charger without a desired state (development switch) charges free."""
        return self.desired.desired.authorization if self.desired else AuthorizationMode.FREE

    def is_authorized(self, id_tag: str) -> bool:
        """Whether ``id_tag`` may charge here now."""
        return self.authorization is AuthorizationMode.FREE or id_tag in self._authorized

    def heartbeat_interval_s(self) -> int:
        """The heartbeat interval to tell the charger at boot."""
        return self.desired.desired.heartbeat_interval_s if self.desired else 300

    def is_late(self, timestamp: datetime) -> bool:
        """Whether a message stamped ``timestamp`` was delivered after an offline period."""
        return self.now() - timestamp > LATE_AFTER


def charger_logger(charge_point_id: str, *, name: str = "chargeops.gateway") -> ChargerLogger:
    """A logger that names the charger on every line and in the record's ``charge_point_id``."""
    return ChargerLogger(logging.getLogger(name), {"charge_point_id": charge_point_id})
