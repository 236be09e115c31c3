"""Checking charger passwords against the stored hashes without stalling the gateway or leaking them.

``Store.put_desired`` and ``Store.verify_password`` use one ``PasswordChecker``. scrypt costs tens of
milliseconds of CPU (``chargeops.ocpp_gateway.passwords``); with thousands of chargers connecting at
once it was most of the gateway's work, so the checker spends it as rarely as it safely can:

- A password verified once, or hashed here for a PUT, is remembered: charger id -> (the stored hash,
  HMAC-SHA256 of the password under a key that lives only in this process). The plain password is never
  kept. A connection whose password has that HMAC, against that same stored hash, is let in without
  scrypt; a new password changes the stored hash, and the entry stops matching. A reconnect storm costs
  at most one scrypt per charger, and none for a charger whose password was PUT to this process.
- Given a key shared by every replica (``--password-key-file``), a verified password is remembered in the
  store as well: ``password_verifier``, HMAC-SHA256 of (stored hash, password) under that key, written
  beside the hash by a PUT or after the first scrypt that verified it. A replica that has just started
  checks a charger against it without scrypt, so a restart of every replica costs no scrypt at all: at
  50,000 chargers one scrypt each was 2,450 CPU-seconds, twenty minutes of two cores, before the last
  charger was back. The verifier is worth nothing without the key, which lives in a Secret, not in
  the database; with both stolen, a password is guessed at HMAC speed rather than scrypt's, so its
  strength is then its own (OCPP passwords are 16-40 characters, machine-chosen). MaEVe keeps only an
  unsalted SHA-256 of each charger password; the scrypt hash stays here for installs without a key.
- A PUT of the password already stored keeps the stored hash: no new scrypt, and none at all when the
  password is remembered.
- Identical checks in flight (a charger retrying its handshake while its first check still queues)
  share one scrypt.
- scrypt runs on one thread per core (``scrypt_pool``). When the queue ahead is longer than a charger
  waits for its handshake (``wait_limit_s``), a check is refused at once with
  ``PasswordCheckBusyError`` (the server answers 503 with Retry-After), and a check still queued when
  its charger has given up is dropped unrun. ``busy_for`` tells the same before the store is read, so
  that a charger sure to be refused costs no read (at 50,000 chargers those reads queued past 3 s).
- The error says when the queue will have drained; the server gives each refused charger its own
  return time from then on (``return_times``), so that they do not all come back at once.
- A known charger with no stored password spends no scrypt: it waits as long as a check would take now
  (the queue ahead, then one of the recently measured scrypt durations), and is refused.

What the timing tells: a wrong password and a missing stored password take the same time, drawn from
the same distribution (a scrypt, or a wait as long as a recent scrypt, behind the same queue). Only the
right password is answered sooner, from memory, and only once it has been given — so a fast answer tells
the caller nothing it did not know. Whether an id is known at all is not hidden: the server names the
reason (``UnknownCharger``) in its 401 for the installer's sake, as charge point ids are not secret;
the secret is the password, and nothing here depends on how much of it is right (``hmac.compare_digest``).
"""

import asyncio
import dataclasses
import functools
import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable

from chargeops.api import gateway
from chargeops.ocpp_gateway import passwords
from chargeops.ocpp_gateway.store import errors, scrypt_pool

# How many (charger, password) pairs are remembered as verified: the 50,000 chargers a gateway is meant
# to hold, with room; about 10 MB.
_REMEMBERED = 65_536
# How long a charger waits for its websocket handshake before it gives up: websockets' default
# open_timeout; chargers in the field wait 10 to 30 s. A check answered later is work nobody waits for.
DEFAULT_WAIT_LIMIT_S = 10.0

_Check = tuple[str, str, bytes]  # charger id, stored hash, HMAC of the password
# Writes a charger's verifier beside the stored hash it was made for: (charger id, stored hash, verifier).
RecordVerifier = Callable[[str, str, str], Awaitable[None]]
# A key shorter than this is refused: it is all that stands between a stolen database and fast guessing.
MIN_KEY_BYTES = 32

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Login:
    """What a websocket handshake needs of the store, read at once: the charger's desired state (None:
    unknown), and the check of a password against the hash read with it."""

    desired: gateway.StoredDesiredState | None
    _checker: "PasswordChecker"
    _cp_id: str
    _stored: str | None
    _verifier: str | None = None

    async def verify(self, password: str) -> bool:
        """``PasswordChecker.verify`` against the hash and verifier read with ``desired``."""
        return await self._checker.verify(self._cp_id, password, stored=self._stored, verifier=self._verifier)


class PasswordChecker:
    """Hashes and verifies charger passwords on a thread per core, remembering the verified ones."""

    def __init__(
        self,
        *,
        wait_limit_s: float = DEFAULT_WAIT_LIMIT_S,
        workers: int | None = None,
        key: bytes | None = None,
        record: RecordVerifier | None = None,
    ) -> None:
        """``key``: the replicas' shared key for stored verifiers (None: remembered in this process only);
        ``record`` writes a verifier made after a scrypt check (``Store``)."""
        if key is not None and len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the password key must be at least {MIN_KEY_BYTES} bytes, not {len(key)}")
        self.wait_limit_s = wait_limit_s
        self._pool = scrypt_pool.ScryptPool(scrypt_pool.cores() if workers is None else workers)
        self._verified: dict[str, tuple[str, bytes]] = {}
        self._key = secrets.token_bytes(32)
        self._shared_key = key
        self._record = record
        self._checks: dict[_Check, asyncio.Future[bool]] = {}

    def verifier_for(self, stored: str, password: str) -> str | None:
        """What the store keeps beside ``stored`` once ``password`` is known to match it; None without a
        shared key. Bound to the hash (and so to its salt): a new password's hash makes it stale."""
        if self._shared_key is None:
            return None
        message = stored.encode() + b"\0" + password.encode()
        return hmac.new(self._shared_key, message, hashlib.sha256).hexdigest()

    async def hash_for(self, cp_id: str, password: str, *, stored: str | None, verifier: str | None = None) -> str:
        """The hash to store for ``cp_id``'s ``password``: ``stored`` itself if it already is one of it (and
        current; ``verifier`` is the one stored beside it), else a new one. Either way the password is
        remembered as verified against it."""
        fingerprint = self._fingerprint(password)
        if stored is not None and await self._still_matches(cp_id, password, stored, fingerprint, verifier):
            return stored
        new_hash = await self._pool.run(passwords.hash_password, password)
        # Should the write of ``new_hash`` fail, this entry matches no stored hash and is never used.
        self._remember(cp_id, new_hash, fingerprint)
        return new_hash

    async def verify(self, cp_id: str, password: str, *, stored: str | None, verifier: str | None = None) -> bool:
        """Whether ``password`` matches ``stored``, the hash of ``cp_id`` (None: unknown, or no password),
        with ``verifier`` the one stored beside it.

        Raises ``PasswordCheckBusyError`` when the check could not be answered within ``wait_limit_s``.
        """
        if stored is None:
            await asyncio.sleep(self._admit(cp_id) + self._one_scrypt_s())
            return False
        fingerprint = self._fingerprint(password)
        if self._remembers(cp_id, stored, fingerprint):
            return True
        if self._verifies(stored, password, verifier):
            self._remember(cp_id, stored, fingerprint)
            return True
        key = (cp_id, stored, fingerprint)
        check = self._checks.get(key)
        if check is None:
            self._admit(cp_id)
            # The job must start in time to finish within the limit; a later start has nobody to answer.
            deadline = time.monotonic() + self.wait_limit_s - self._pool.typical_s()
            check = asyncio.ensure_future(self._check(key, password, deadline=deadline))
            self._checks[key] = check
            check.add_done_callback(functools.partial(self._check_done, key))
        # Shielded: a charger that hangs up leaves the check running, and its result remembered for
        # the retry (and for the other waiters of the same check).
        return await asyncio.shield(check)

    def busy_for(self, cp_id: str, password: str) -> errors.PasswordCheckBusyError | None:
        """The refusal ``verify`` of ``password`` would raise now for want of room in the queue, before
        the stored hash is read; None if it may be let through: the queue has room, or ``password`` is the
        one remembered as verified for ``cp_id`` (``verify`` then needs no scrypt if the hash is unchanged).
        """
        remembered = self._verified.get(cp_id)
        if remembered is not None and hmac.compare_digest(remembered[1], self._fingerprint(password)):
            return None
        try:
            self._admit(cp_id)
        except errors.PasswordCheckBusyError as busy:
            return busy
        return None

    def forget(self, cp_id: str) -> None:
        """Drop what is remembered of ``cp_id`` (its desired state was deleted)."""
        self._verified.pop(cp_id, None)

    def close(self) -> None:
        """Stop the scrypt threads (queued checks are dropped)."""
        self._pool.close()

    async def _still_matches(
        self, cp_id: str, password: str, stored: str, fingerprint: bytes, verifier: str | None
    ) -> bool:
        """Whether ``stored`` is a current hash of ``password``: from memory or the stored verifier, else by
        one scrypt. (An operator that starts again PUTs every charger's password: after a restart of the
        gateway as well, each cost a scrypt only to find the password unchanged.)"""
        if passwords.needs_rehash(stored):
            return False
        if self._remembers(cp_id, stored, fingerprint):
            return True
        known = self._verifies(stored, password, verifier)
        if not known and not await self._pool.run(passwords.verify_password, password, stored):
            return False
        self._remember(cp_id, stored, fingerprint)
        return True

    async def _check(self, key: _Check, password: str, *, deadline: float) -> bool:
        cp_id, stored, fingerprint = key
        try:
            matches = await self._pool.run_before(deadline, passwords.verify_password, password, stored)
        except scrypt_pool.ExpiredError:
            raise self._busy(cp_id) from None
        if matches:
            self._remember(cp_id, stored, fingerprint)
            await self._record_verifier(cp_id, stored, password)
        return matches

    def _verifies(self, stored: str, password: str, verifier: str | None) -> bool:
        """Whether ``verifier``, stored beside ``stored``, is the one ``password`` makes under the shared key."""
        if verifier is None:
            return False
        expected = self.verifier_for(stored, password)
        return expected is not None and hmac.compare_digest(expected, verifier)

    async def _record_verifier(self, cp_id: str, stored: str, password: str) -> None:
        """Store the verifier of a password scrypt has just verified, so that no replica spends another."""
        verifier = self.verifier_for(stored, password)
        if verifier is None or self._record is None:
            return
        try:
            await self._record(cp_id, stored, verifier)
        except errors.StoreUnavailableError as error:
            # The charger is let in all the same; its next login after a restart costs a scrypt again.
            log.warning("[%s] Password verified, but its verifier could not be stored: %s", cp_id, error)

    def _check_done(self, key: _Check, check: asyncio.Future[bool]) -> None:
        self._checks.pop(key, None)
        if not check.cancelled():
            check.exception()  # retrieved here: every waiter may have gone

    def _admit(self, cp_id: str) -> float:
        """The queue's wait for a check of ``cp_id`` now; raise ``PasswordCheckBusyError`` if the check
        could not be answered within ``wait_limit_s``."""
        wait = self._pool.queue_wait_s()
        if wait + self._pool.typical_s() > self.wait_limit_s:
            raise self._busy(cp_id)
        return wait

    def _busy(self, cp_id: str) -> errors.PasswordCheckBusyError:
        return errors.PasswordCheckBusyError(
            f"Charge point {cp_id}: {self._pool.pending} password checks are queued, more than can be "
            f"answered within {self.wait_limit_s:g} s; try again later.",
            charge_point_id=cp_id,
            retry_after_s=max(1, math.ceil(self._pool.queue_wait_s())),
        )

    def _one_scrypt_s(self) -> float:
        """How long one scrypt takes: one of the recent durations, so that the wait for a charger with no
        password has the spread of a real check, not only its median."""
        durations = self._pool.durations()
        return secrets.choice(durations) if durations else scrypt_pool.FIRST_GUESS_S

    def _fingerprint(self, password: str) -> bytes:
        return hmac.digest(self._key, password.encode(), "sha256")

    def _remembers(self, cp_id: str, stored: str, fingerprint: bytes) -> bool:
        remembered = self._verified.get(cp_id)
        return remembered is not None and remembered[0] == stored and hmac.compare_digest(remembered[1], fingerprint)

    def _remember(self, cp_id: str, stored: str, fingerprint: bytes) -> None:
        self._verified.pop(cp_id, None)  # re-inserted last: the oldest entries go first
        if len(self._verified) >= _REMEMBERED:
            self._verified.pop(next(iter(self._verified)))
        self._verified[cp_id] = (stored, fingerprint)
