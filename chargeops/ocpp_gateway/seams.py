"""The one seam through which protocol code reaches storage, written as a Protocol.

Actions and convergence depend on this shape, not on SQLAlchemy: ``chargeops.ocpp_gateway.store.Store``
implements it, and a unit test can call an action with any object that does.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Literal, Protocol

from chargeops.api.gateway import ObservedState, SessionFlag, StoredDesiredState
from chargeops.ocpp_gateway.store.errors import PasswordCheckBusyError


class Login(Protocol):
    """A charger's desired state and the check of its password, read together for its handshake."""

    @property
    def desired(self) -> StoredDesiredState | None: ...

    async def verify(self, password: str) -> bool: ...


class StartOutcome(Protocol):
    """What storing a StartTransaction gave."""

    @property
    def transaction_id(self) -> int: ...

    @property
    def session_id(self) -> str: ...

    @property
    def duplicate(self) -> bool: ...


class StopOutcome(Protocol):
    """What storing a StopTransaction gave."""

    @property
    def duplicate(self) -> bool: ...

    @property
    def unknown(self) -> bool: ...


class EventOutcome(Protocol):
    """What storing a TransactionEvent gave."""

    @property
    def session_id(self) -> str: ...

    @property
    def duplicate(self) -> bool: ...


class Store(Protocol):
    """The storage operations the protocol side needs."""

    async def get_desired(self, cp_id: str) -> StoredDesiredState | None: ...

    async def login(self, cp_id: str) -> Login: ...

    def password_check_busy(self, cp_id: str, password: str) -> PasswordCheckBusyError | None: ...

    async def get_observed(self, cp_id: str) -> ObservedState: ...

    async def update_observed(
        self,
        cp_id: str,
        changes: Mapping[str, object],
        *,
        replace: Collection[str] = (),
        now: datetime | None = None,
        if_held_by: str | None = None,
    ) -> ObservedState: ...

    async def depart(
        self, last_seen: Mapping[str, datetime | None], *, held_by: str, now: datetime | None = None
    ) -> None: ...

    async def start_transaction(
        self,
        cp_id: str,
        *,
        connector_id: int,
        id_tag: str,
        meter_start_wh: int,
        timestamp: datetime,
        flags: Sequence[SessionFlag] = (),
        now: datetime | None = None,
    ) -> StartOutcome: ...

    async def stop_transaction(
        self,
        cp_id: str,
        transaction_id: int,
        *,
        meter_stop_wh: int,
        timestamp: datetime,
        reason: str | None,
        id_tag: str | None,
        transaction_data: Sequence[Mapping[str, object]] = (),
        readings: Sequence[tuple[datetime, int]] = (),
        now: datetime | None = None,
    ) -> StopOutcome: ...

    async def add_meter_values(
        self,
        cp_id: str,
        *,
        connector_id: int,
        transaction_id: str | None,
        readings: Sequence[tuple[datetime, int]],
        raw: Sequence[Mapping[str, object]] = (),
        now: datetime | None = None,
    ) -> int: ...

    async def record_transaction_event(
        self,
        cp_id: str,
        *,
        event_type: Literal["Started", "Updated", "Ended"],
        transaction_id: str,
        seq_no: int,
        timestamp: datetime,
        connector_id: int | None,
        id_tag: str | None,
        meter_wh: int | None,
        offline: bool,
        stopped_reason: str | None,
        raw: Mapping[str, object],
        now: datetime | None = None,
    ) -> EventOutcome: ...
