"""Checking charger passwords against the stored hashes without stalling the gateway or leaking ids.

``Store.put_desired`` and ``Store.verify_password`` use one ``PasswordChecker``. scrypt costs tens of
milliseconds of CPU (``chargeops.ocpp_gateway.passwords``), so it runs in a worker thread, and a
password verified once is remembered: a reconnect storm of every charger would otherwise cost one
scrypt each. An unknown id spends the same scrypt as a known one, so timing does not tell which ids
exist; only a *correct* password is answered faster.
"""

import asyncio
import hmac
import secrets

from chargeops.ocpp_gateway import passwords

# How many (charger, password) pairs are remembered as verified: the 50,000 chargers a gateway is meant
# to hold, with room; about 10 MB.
_REMEMBERED = 65_536


class PasswordChecker:
    """Hashes and verifies charger passwords off the event loop, remembering the verified ones."""

    def __init__(self) -> None:
        # Charger id -> (the stored hash it was verified against, HMAC of the password under a key that
        # lives only in this process). A changed password changes the hash, so the entry stops matching.
        self._verified: dict[str, tuple[str, bytes]] = {}
        self._key = secrets.token_bytes(32)
        self._unknown_id_hash: str | None = None

    async def hash_for(self, password: str, *, stored: str | None) -> str:
        """The hash to store for ``password``: ``stored`` itself if it already is one of it (and current)."""
        if stored is not None and not passwords.needs_rehash(stored) and await _matches(password, stored):
            return stored
        return await asyncio.to_thread(passwords.hash_password, password)

    async def verify(self, cp_id: str, password: str, *, stored: str | None) -> bool:
        """Whether ``password`` matches ``stored``, the hash of ``cp_id`` (None: unknown, or no password)."""
        if stored is None:
            if self._unknown_id_hash is None:
                self._unknown_id_hash = await asyncio.to_thread(passwords.dummy_hash)
            await _matches(password, self._unknown_id_hash)
            return False
        fingerprint = hmac.digest(self._key, password.encode(), "sha256")
        remembered = self._verified.get(cp_id)
        if remembered is not None and remembered[0] == stored and hmac.compare_digest(remembered[1], fingerprint):
            return True
        if not await _matches(password, stored):
            return False
        if len(self._verified) >= _REMEMBERED:
            self._verified.pop(next(iter(self._verified)))  # the oldest entry
        self._verified[cp_id] = (stored, fingerprint)
        return True

    def forget(self, cp_id: str) -> None:
        """Drop what is remembered of ``cp_id`` (its desired state was deleted)."""
        self._verified.pop(cp_id, None)


async def _matches(password: str, stored: str) -> bool:
    """``passwords.verify_password`` in a worker thread: scrypt must not stall the event loop."""
    return await asyncio.to_thread(passwords.verify_password, password, stored)
