"""Invitation and account links cannot be forged: whatever is changed in a token, it yields no claims we
did not issue. (``tests/unit/portal/test_portal_links.py`` checks how the portal answers each refusal.)"""

import base64
import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargeops.invitations import tokens

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
CLAIMS = tokens.Claims(
    purpose=tokens.Purpose.INVITATION,
    namespace="garage",
    subscription="ada",
    uid="uid-1",
    nonce="n-1",
    expires=NOW + timedelta(days=7),
)
TOKEN = tokens.issue(CLAIMS, key=KEY)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def payload_of(token: str) -> dict[str, object]:
    encoded = token.split(".", maxsplit=1)[0]
    return dict(json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))))


def reason(token: str, *, key: bytes = KEY, purpose: tokens.Purpose = tokens.Purpose.INVITATION) -> str:
    with pytest.raises(tokens.TokenError) as refused:
        tokens.verify(token, key=key, purpose=purpose, now=NOW)
    return refused.value.reason


def test_a_payload_changed_under_its_signature_is_refused() -> None:
    signature = TOKEN.split(".")[1]
    for field, value in [("sub", "mallory"), ("ns", "other-team"), ("exp", 4102444800), ("p", "account")]:
        forged = b64(json.dumps({**payload_of(TOKEN), field: value}, separators=(",", ":")).encode())
        assert reason(f"{forged}.{signature}") == "InvalidSignature", field


def test_a_signature_from_another_token_is_refused() -> None:
    other = tokens.issue(dataclasses.replace(CLAIMS, subscription="mallory"), key=KEY)
    swapped = f"{TOKEN.split('.')[0]}.{other.split('.')[1]}"
    assert reason(swapped) == "InvalidSignature"


def test_a_token_signed_with_another_key_is_refused() -> None:
    assert reason(tokens.issue(CLAIMS, key=OTHER_KEY)) == "InvalidSignature"


def test_an_unsigned_or_empty_signature_is_refused() -> None:
    encoded = TOKEN.split(".")[0]
    assert reason(encoded) == "MalformedToken"
    assert reason(f"{encoded}.") == "MalformedToken"


def test_an_expired_token_is_refused_even_one_second_late() -> None:
    token = tokens.issue(dataclasses.replace(CLAIMS, expires=NOW), key=KEY)
    assert reason(token) == "ExpiredToken"


def test_an_invitation_is_not_an_account_link() -> None:
    assert reason(TOKEN, purpose=tokens.Purpose.ACCOUNT) == "WrongPurpose"


def test_a_short_key_can_neither_sign_nor_check() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        tokens.issue(CLAIMS, key=b"k" * 31)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        tokens.verify(TOKEN, key=b"k" * 31, purpose=tokens.Purpose.INVITATION, now=NOW)


@given(
    position=st.integers(0, len(TOKEN) - 1),
    replacement=st.sampled_from(ALPHABET),
    insert=st.booleans(),
)
def test_any_one_character_changed_yields_no_new_claims(position: int, replacement: str, insert: bool) -> None:
    """A changed character is refused, or (base64's unused low bits of the last character) decodes to the
    very bytes that were signed and so to the same claims: never to different ones."""
    forged = TOKEN[:position] + replacement + TOKEN[position + (0 if insert else 1) :]
    try:
        claims = tokens.verify(forged, key=KEY, purpose=tokens.Purpose.INVITATION, now=NOW)
    except tokens.TokenError:
        return
    assert claims == CLAIMS


@given(st.text(ALPHABET, max_size=200) | st.text(max_size=50))
def test_no_made_up_token_is_accepted(token: str) -> None:
    with pytest.raises(tokens.TokenError):
        tokens.verify(token, key=KEY, purpose=tokens.Purpose.INVITATION, now=NOW)
