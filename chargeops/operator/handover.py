"""What this operator process knows the gateway holds for each charge point, so a pass that would hand
over the same again sends nothing.

``reconcile.push`` records every desired-state document the gateway confirmed (answering ``GET`` or
``PUT``) and every password it accepted. A pass whose plan has the revision the gateway holds makes no
request; a password goes over only when it is new to the gateway or differs from the one this process
handed over (each one costs the gateway a deliberately slow password hash). The memory starts empty, so
after a restart every charger's document is read once and its password sent once.

Passwords are remembered as HMACs under a key made at start-up and never stored anywhere, so the
memory holds nothing that would help guess a password. Passes for one charge point (its change handler,
its timer, a subscription's fan-out) take turns (``turn``), so the second finds what the first handed
over instead of sending it, and its password, again.
"""

import asyncio
import dataclasses
import hashlib
import hmac
import secrets
import weakref

from chargeops.api.gateway import StoredDesiredState


@dataclasses.dataclass(frozen=True)
class Held:
    """The gateway's document for one charge point, as it last confirmed it."""

    revision: int
    managed: bool
    has_password: bool
    confirmed_at: float
    """When the gateway confirmed it (the caller's monotonic clock)."""


class Handover:
    """Per charge point id: the document the gateway holds and the password this process handed it."""

    def __init__(self) -> None:
        self._held: dict[str, Held] = {}
        self._passwords: dict[str, bytes] = {}
        self._key = secrets.token_bytes(32)
        # A lock lives while a pass holds or waits for it.
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def turn(self, cp_id: str) -> asyncio.Lock:
        """The lock a pass for ``cp_id`` holds while it reads, decides and hands over."""
        lock = self._turns.get(cp_id)
        if lock is None:
            lock = self._turns[cp_id] = asyncio.Lock()
        return lock

    def held(self, cp_id: str) -> Held | None:
        """What the gateway holds for ``cp_id``, as far as this process knows; None when it does not know."""
        return self._held.get(cp_id)

    def record(self, cp_id: str, stored: StoredDesiredState | None, *, now: float) -> Held | None:
        """Remember what the gateway answered for ``cp_id`` (None: it holds nothing)."""
        if stored is None:
            self.forget(cp_id)
            return None
        held = Held(stored.desired.revision, stored.desired.managed, stored.has_password, now)
        self._held[cp_id] = held
        return held

    def password_sent(self, cp_id: str, password: str) -> bool:
        """Whether this process handed ``password`` over for ``cp_id`` last."""
        sent = self._passwords.get(cp_id)
        return sent is not None and hmac.compare_digest(sent, self._digest(cp_id, password))

    def record_password(self, cp_id: str, password: str) -> None:
        """Remember that the gateway accepted ``password`` for ``cp_id``."""
        self._passwords[cp_id] = self._digest(cp_id, password)

    def forget(self, cp_id: str) -> None:
        """Forget ``cp_id`` (the gateway no longer holds it, or the Charger is gone)."""
        self._held.pop(cp_id, None)
        self._passwords.pop(cp_id, None)

    def _digest(self, cp_id: str, password: str) -> bytes:
        return hmac.new(self._key, f"{cp_id}\0{password}".encode(), hashlib.sha256).digest()
