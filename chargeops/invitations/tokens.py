"""Signed, expiring links for subscribers: what the operator puts in an email and the portal checks.

A token is ``<payload>.<signature>``, both base64url without padding: the payload is compact JSON naming
the purpose (``invitation`` or ``account``), the Subscription (namespace, name, uid), the invitation's
``nonce`` and the expiry (Unix seconds); the signature is HMAC-SHA256 over the payload's bytes with the
site operator's signing key. Checking a token proves only that we issued it and that it has not
expired; *single use* is the portal's job: an invitation token is good only while the Subscription's
``status.invitation.nonce`` still equals the token's and nobody has answered yet.
"""

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, datetime
from enum import StrEnum

# Below this a key could be guessed; 32 random bytes is what `chargeops portal` and the chart generate.
MIN_KEY_BYTES = 32
MAX_TOKEN_CHARS = 2048


class Purpose(StrEnum):
    """What a link lets its holder do."""

    INVITATION = "invitation"  # accept or decline, once
    ACCOUNT = "account"  # read the subscription's sessions and invoices


class TokenError(ValueError):
    """The token is not one we issued, or no longer valid. ``reason`` is one CamelCase word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Claims:
    """What a token says."""

    purpose: Purpose
    namespace: str
    subscription: str
    uid: str
    nonce: str
    expires: datetime


def issue(claims: Claims, *, key: bytes) -> str:
    """The token for ``claims``, signed with ``key``."""
    _check_key(key)
    payload = json.dumps(
        {
            "p": claims.purpose.value,
            "ns": claims.namespace,
            "sub": claims.subscription,
            "uid": claims.uid,
            "n": claims.nonce,
            "exp": int(claims.expires.timestamp()),
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    return f"{_b64(payload)}.{_b64(_sign(payload, key))}"


def verify(token: str, *, key: bytes, purpose: Purpose, now: datetime) -> Claims:
    """The claims of ``token`` if we issued it for ``purpose`` and it has not expired; else TokenError."""
    _check_key(key)
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise TokenError("MalformedToken", "This link is damaged: it is not one of ours.")
    encoded, signature = token.split(".")
    try:
        payload, given = _unb64(encoded), _unb64(signature)
    except (binascii.Error, ValueError):
        raise TokenError("MalformedToken", "This link is damaged: it is not one of ours.") from None
    if not hmac.compare_digest(given, _sign(payload, key)):
        raise TokenError("InvalidSignature", "This link was changed or was not issued by us.")
    try:
        fields = json.loads(payload)
        claims = Claims(
            purpose=Purpose(fields["p"]),
            namespace=str(fields["ns"]),
            subscription=str(fields["sub"]),
            uid=str(fields["uid"]),
            nonce=str(fields["n"]),
            expires=datetime.fromtimestamp(int(fields["exp"]), UTC),
        )
    except (ValueError, KeyError, TypeError):
        raise TokenError("MalformedToken", "This link is damaged: it is not one of ours.") from None
    if claims.purpose is not purpose:
        raise TokenError("WrongPurpose", f"This link is for {claims.purpose.value}, not {purpose.value}.")
    if now >= claims.expires:
        raise TokenError("ExpiredToken", f"This link expired on {claims.expires:%Y-%m-%d %H:%M} UTC.")
    return claims


def _sign(payload: bytes, key: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def _check_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a signing key needs at least {MIN_KEY_BYTES} bytes, got {len(key)}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
