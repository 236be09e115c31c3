"""Salted password hashes for charger Basic auth (OCPP security profiles 1 and 2).

The store calls ``hash_password`` when the operator PUTs a charger's password and ``verify_password``
when a charger opens its websocket; the plain password is never stored. The hash is scrypt from the
standard library, self-describing so that its cost can be raised later without a migration::

    scrypt$16384$8$1$<salt, base64>$<key, base64>

Both functions are CPU-bound (tens of milliseconds by design) and synchronous: async callers run them in
a thread (``asyncio.to_thread``) so the event loop keeps serving other chargers meanwhile.
"""

import base64
import binascii
import hashlib
import hmac
import secrets

_SCHEME = "scrypt"

# scrypt cost: N=2**14, r=8, p=1 is the "interactive login" setting of the scrypt paper and of Python's
# hashlib docs: 16 MiB of memory (128 * r * N bytes) and about 50 ms on one core here. The OCPP
# password is at least 16 bytes and chosen by a machine, so a larger cost buys little while making a
# reconnect storm of thousands of chargers expensive.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
# 16 random bytes of salt make every hash unique; 32 bytes of key match SHA-256's strength.
SALT_BYTES = 16
KEY_BYTES = 32
# OpenSSL refuses scrypt above its default 32 MiB; room for N up to 2**15 at r=8 if the cost is raised.
_MAX_MEMORY_BYTES = 64 * 1024 * 1024

_FIELDS = 6


def hash_password(password: str) -> str:
    """A new salted scrypt hash of ``password``: a different string every call for the same password."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return "$".join((_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)))


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from; False for a malformed ``stored``.

    The final comparison is constant-time (``hmac.compare_digest``), so the answer's timing tells
    nothing about how much of the key matched.
    """
    parts = stored.split("$")
    if len(parts) != _FIELDS or parts[0] != _SCHEME:
        return False
    try:
        n, r, p = (int(value) for value in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
        actual = _derive(password, salt=salt, n=n, r=r, p=p, length=len(expected))
    except (ValueError, binascii.Error):
        # Not a hash we wrote (or parameters OpenSSL refuses): it matches nothing.
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's, so a new hash should replace it."""
    return not stored.startswith(f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")


def dummy_hash() -> str:
    """A hash of a random password, to verify against when a charger id is unknown.

    Spending the same scrypt time for unknown ids keeps the answer's timing from telling which ids exist.
    """
    return hash_password(secrets.token_urlsafe(24))


def _derive(password: str, *, salt: bytes, n: int, r: int, p: int, length: int = KEY_BYTES) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY_BYTES, dklen=length)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
