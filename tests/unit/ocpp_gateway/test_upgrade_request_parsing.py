"""The charger's id comes from the URL and its credentials from HTTP Basic, both strictly parsed."""

import base64

import pytest

from chargeops.ocpp_gateway import auth


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ocpp/CP-0001", "CP-0001"),
        ("/ocpp/CP%2D0001", "CP-0001"),
        ("/ocpp/CP-0001?x=1", "CP-0001"),
        ("/ocpp/", None),
        ("/ocpp/a/b", None),
        ("/other/CP-0001", None),
        ("/ocpp/CP%3A1", None),
        ("/ocpp/" + "x" * 49, None),
    ],
)
def test_charge_point_id_from_path(path: str, expected: str | None) -> None:
    assert auth.charge_point_id(path) == expected


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_credentials_split_at_the_first_colon() -> None:
    assert auth.basic_credentials(basic("CP-1:pass:word")) == auth.Credentials("CP-1", "pass:word")


@pytest.mark.parametrize("header", [None, "", "Bearer abc", "Basic !!!", basic("no-colon")])
def test_missing_or_malformed_credentials_are_none(header: str | None) -> None:
    assert auth.basic_credentials(header) is None
