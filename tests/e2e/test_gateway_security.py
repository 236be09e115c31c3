"""Who may talk to a gateway, beyond the handshake and control API tests' first cases.

Chargers: a charger's credentials open only its own URL; a password of another charger, a user name
that is not the URL's id, a header in any other scheme or malformed, are each refused with 401 and leave
the charger disconnected. Control API: every operation its OpenAPI document marks as needing the bearer
token refuses a request without it, with a wrong one or with one that merely starts like it, and changes
nothing; only the three operations the document leaves open answer without one.
"""

import base64

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chargeops.ocpp_gateway.control import openapi
from tests.e2e.harness import PASSWORD, Control, RawCharger, RunningGateway

pytestmark = pytest.mark.e2e

OTHER_PASSWORD = "another-charger-password-42"


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


WRONG_CHARGER_AUTHORIZATIONS = {
    "another charger's credentials": basic(f"CP-OTHER:{OTHER_PASSWORD}"),
    "its id with another charger's password": basic(f"CP-SEC:{OTHER_PASSWORD}"),
    "another id with its password": basic(f"CP-OTHER:{PASSWORD}"),
    "its password with no user name": basic(f":{PASSWORD}"),
    "an empty password": basic("CP-SEC:"),
    "no separator": basic(f"CP-SEC{PASSWORD}"),
    "not base64": "Basic CP-SEC:" + PASSWORD,
    "a bearer token": f"Bearer {PASSWORD}",
    "the password with a trailing space": basic(f"CP-SEC:{PASSWORD} "),
    "the password's prefix": basic(f"CP-SEC:{PASSWORD[:-1]}"),
}


@pytest.mark.parametrize("authorization", WRONG_CHARGER_AUTHORIZATIONS.values(), ids=WRONG_CHARGER_AUTHORIZATIONS)
async def test_a_charger_is_refused_with_anything_but_its_own_credentials(
    control: Control, raw_charger: RawCharger, gateway: RunningGateway, authorization: str
) -> None:
    await control.put_desired("CP-SEC", password=PASSWORD)
    await control.put_desired("CP-OTHER", password=OTHER_PASSWORD)
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            f"{gateway.ocpp_url}/CP-SEC",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers={"Authorization": authorization},
            open_timeout=5,
        )
    assert refused.value.response.status_code == 401
    assert (await control.observed("CP-SEC"))["connected"] is False
    opened = await raw_charger("CP-SEC")  # and its own credentials still work
    await opened.close()


PROTECTED = [
    (method.upper(), path)
    for path, operations in openapi.document()["paths"].items()
    for method, operation in operations.items()
    if operation.get("security")
]
OPEN = [
    (method.upper(), path)
    for path, operations in openapi.document()["paths"].items()
    for method, operation in operations.items()
    if not operation.get("security")
]


def test_only_health_readiness_and_metrics_are_open() -> None:
    assert sorted(OPEN) == [("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/readyz")]
    assert len(PROTECTED) >= 14


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
async def test_every_protected_operation_refuses_a_missing_or_wrong_token_and_changes_nothing(
    gateway: RunningGateway, control: Control, method: str, path: str
) -> None:
    await control.put_desired("CP-SEC", password=PASSWORD)
    before = await control.request("GET", "/v1/chargers/CP-SEC/desired")
    url = gateway.control_url + path.replace("{cp_id}", "CP-SEC").replace("{session_id}", "1")
    wrong = {
        "none": {},
        "wrong": {"Authorization": "Bearer not-the-token"},
        "prefix": {"Authorization": f"Bearer {gateway.token[:-1]}"},
        "extended": {"Authorization": f"Bearer {gateway.token}x"},
        "other scheme": {"Authorization": f"Basic {gateway.token}"},
        "bare": {"Authorization": gateway.token},
    }
    body = {"password": "an-attackers-password-1", "connectorId": 1, "idTag": "X", "type": "Hard"}
    async with aiohttp.ClientSession() as http:
        for what, headers in wrong.items():
            async with http.request(method, url, headers=headers, json=body) as response:
                assert response.status == 401, what
                assert response.headers["WWW-Authenticate"].startswith("Bearer "), what
    assert await control.request("GET", "/v1/chargers/CP-SEC/desired") == before
