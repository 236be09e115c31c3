"""Charger passwords: salted scrypt hashes that never contain the password, verified in constant time."""

import base64
import hashlib

import pytest

from chargeops.ocpp_gateway import passwords

PASSWORD = "a-charger-password-of-24"


def test_two_hashes_of_one_password_differ() -> None:
    assert passwords.hash_password(PASSWORD) != passwords.hash_password(PASSWORD)


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    stored = passwords.hash_password(PASSWORD)

    assert passwords.verify_password(PASSWORD, stored)
    assert not passwords.verify_password(PASSWORD + "x", stored)
    assert not passwords.verify_password("", stored)


def test_the_hash_never_contains_the_password() -> None:
    stored = passwords.hash_password(PASSWORD)

    assert PASSWORD not in stored
    assert PASSWORD.encode().hex() not in stored


def test_the_hash_names_its_scheme_and_cost() -> None:
    stored = passwords.hash_password(PASSWORD)

    scheme, n, r, p, _salt, _key = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", passwords.SCRYPT_N, passwords.SCRYPT_R, passwords.SCRYPT_P)
    assert not passwords.needs_rehash(stored)


def test_a_hash_made_with_other_parameters_still_verifies_and_asks_for_a_rehash() -> None:
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=1024, r=8, p=1, dklen=32)
    older = f"scrypt$1024$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"

    assert passwords.verify_password(PASSWORD, older)
    assert passwords.needs_rehash(older)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text",
        "scrypt$16384$8$1$!!!$???",
        "bcrypt$x$y$z$a$b",
        "scrypt$0$8$1$AAAA$AAAA",
        "scrypt$16384$8$1$AAAA$",
    ],
)
def test_a_malformed_stored_value_matches_nothing(stored: str) -> None:
    assert not passwords.verify_password(PASSWORD, stored)


def test_unicode_passwords_work() -> None:
    stored = passwords.hash_password("pässwörd-ünïcödé-16")

    assert passwords.verify_password("pässwörd-ünïcödé-16", stored)
