"""The control API by hand, where a generated case cannot say what is right: tokens, error messages, paging.

``test_control_api_contract.py`` checks every operation against the OpenAPI document; these tests pin
the behaviour the operator relies on beyond the document's shapes.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from tests.e2e.harness import PASSWORD, Control, Frames, RawCharger, RunningGateway

pytestmark = pytest.mark.e2e

SESSIONS = 25
PAGE = 7


WRONG_AUTHORIZATIONS = {
    "no token": None,
    "a wrong token": "Bearer not-the-token-at-all",
    "a charger's Basic credentials": "Basic Q1AtMTpjb3JyZWN0LWhvcnNlLWJhdHRlcnktc3RhcGxl",
}


async def test_a_request_without_the_right_token_is_refused_with_401_and_a_challenge(gateway: RunningGateway) -> None:
    async with aiohttp.ClientSession() as http:
        for what, authorization in WRONG_AUTHORIZATIONS.items():
            headers = {"Authorization": authorization} if authorization else {}
            for path in ("/v1/chargers", "/v1/sessions", "/v1/chargers/CP-1/observed"):
                async with http.get(gateway.control_url + path, headers=headers) as response:
                    assert response.status == 401, (what, path)
                    assert response.headers["WWW-Authenticate"].startswith("Bearer "), (what, path)
                    assert (await response.json())["reason"] == "Unauthorized", (what, path)


async def test_the_read_token_reads_everything_and_changes_nothing(gateway: RunningGateway, control: Control) -> None:
    await control.put_desired("CP-1", password=PASSWORD, revision=1)
    reader = {"Authorization": f"Bearer {gateway.read_token}"}
    writes = [
        ("PUT", "/v1/chargers/CP-1/desired", {"revision": 2, "authorization": "Free"}),
        ("DELETE", "/v1/chargers/CP-1", None),
        ("POST", "/v1/chargers/CP-1/commands/ClearCache", {}),
    ]

    async with aiohttp.ClientSession() as http:
        for path in ("/v1/chargers", "/v1/chargers/CP-1/desired", "/v1/chargers/CP-1/observed", "/v1/sessions"):
            async with http.get(gateway.control_url + path, headers=reader) as response:
                assert response.status == 200, path
        for method, path, body in writes:
            async with http.request(method, gateway.control_url + path, json=body, headers=reader) as response:
                assert response.status == 403, (method, path)
                refusal = await response.json()
                assert refusal["reason"] == "ReadOnlyToken", (method, path)
                assert "needs the gateway's API token" in refusal["message"], (method, path)

    status, stored = await control.request("GET", "/v1/chargers/CP-1/desired")
    assert (status, stored["desired"]["revision"]) == (200, 1)


async def test_health_readiness_metrics_and_the_document_need_no_token(gateway: RunningGateway) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
            async with http.get(gateway.control_url + path) as response:
                assert response.status == 200, path


INVALID_DESIRED_STATES = [
    ({"heartbeatIntervalS": 5}, "heartbeatIntervalS"),
    ({"authorization": "Sometimes"}, "authorization"),
    ({"password": "short"}, "password"),
    ({"ocppVersion": "1.5"}, "ocppVersion"),
    ({"authorizedIdTags": ["A" * 37]}, "authorizedIdTags.0"),
    ({"colour": "red"}, "colour"),
]


async def test_an_invalid_desired_state_is_refused_with_422_naming_the_field_and_nothing_is_stored(
    control: Control,
) -> None:
    for document, field in INVALID_DESIRED_STATES:
        status, body = await control.request("PUT", "/v1/chargers/CP-1/desired", document)
        assert status == 422, document
        assert body["reason"] == "InvalidDesiredState"
        assert body["message"].startswith(f"{field}: "), body
    status, _ = await control.request("GET", "/v1/chargers/CP-1/desired")
    assert status == 404


async def test_a_desired_state_that_is_not_json_is_refused_with_422(gateway: RunningGateway, control: Control) -> None:
    async with control.http.put(f"{gateway.control_url}/v1/chargers/CP-1/desired", data=b"{not json") as response:
        assert response.status == 422
        assert "Invalid JSON" in (await response.json())["message"]


async def test_a_path_that_cannot_hold_a_charge_point_id_is_refused_with_400(control: Control) -> None:
    for method, path in [
        ("GET", "/v1/chargers/has%20space/observed"),
        ("PUT", "/v1/chargers/" + "x" * 49 + "/desired"),
        ("DELETE", "/v1/chargers/%C2%84"),
        ("POST", "/v1/chargers/a%2Fb/commands/reset"),
    ]:
        status, body = await control.request(method, path, {} if method == "PUT" else None)
        assert (status, body["reason"]) == (400, "InvalidChargePointId"), (method, path)


async def test_a_nul_character_in_a_filter_or_id_is_refused_with_400(control: Control) -> None:
    # PostgreSQL text cannot hold U+0000: before the check these were 500s there (and 200s on SQLite).
    for path in [
        "/v1/sessions?idTag=A%00",
        "/v1/sessions?chargePointId=CP%00",
        "/v1/sessions/%00",
        "/v1/sessions/%00/readings",
    ]:
        status, body = await control.request("GET", path)
        assert (status, body["reason"]) == (400, "InvalidRequest"), path


async def test_a_cursor_the_gateway_did_not_make_is_refused_with_400(control: Control) -> None:
    # Empty, not base64, base64 of a JSON list too short, base64 of ["x","y"] (no timestamp).
    for cursor in ["", "not-a-cursor", "W10", "WyJ4IiwieSJd"]:
        status, body = await control.request("GET", f"/v1/sessions?cursor={cursor}")
        assert (status, body["reason"]) == (400, "InvalidQuery"), cursor


async def test_paging_returns_every_session_exactly_once_in_a_stable_order(
    control: Control, raw_charger: RawCharger
) -> None:
    ids = ("CP-PAGE-A", "CP-PAGE-B")
    for cp_id in ids:
        await control.put_desired(cp_id, password=PASSWORD)
    chargers = [Frames(await raw_charger(cp_id)) for cp_id in ids]
    start = datetime.now(UTC).replace(microsecond=0)
    transaction_ids = set()
    for number in range(SESSIONS):
        # Pairs of sessions share a start time, so the order must fall back on the session id.
        moment = (start + timedelta(seconds=number // 2)).isoformat().replace("+00:00", "Z")
        charger = chargers[number % 2]
        payload = {"connectorId": 1 + number % 3, "idTag": f"TAG-{number}", "meterStart": number, "timestamp": moment}
        started = await charger.call("StartTransaction", payload)
        transaction_ids.add(started["transactionId"])
    assert len(transaction_ids) == SESSIONS

    async def walk() -> list[list[dict[str, Any]]]:
        pages, cursor = [], None
        while True:
            query = f"limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
            status, page = await control.request("GET", f"/v1/sessions?{query}")
            assert status == 200
            pages.append(page["items"])
            cursor = page["nextCursor"]
            if cursor is None:
                return pages

    pages = await walk()
    assert [len(page) for page in pages] == [7, 7, 7, 4]
    walked = [session for page in pages for session in page]
    assert len({session["id"] for session in walked}) == SESSIONS
    assert sorted(session["idTag"] for session in walked) == sorted(f"TAG-{n}" for n in range(SESSIONS))
    assert [(s["startedAt"], s["id"]) for s in walked] == sorted((s["startedAt"], s["id"]) for s in walked)
    _, whole = await control.request("GET", "/v1/sessions?limit=1000")
    assert [s["id"] for s in whole["items"]] == [s["id"] for s in walked]
    assert [[s["id"] for s in page] for page in await walk()] == [[s["id"] for s in page] for page in pages]


async def test_paging_with_a_filter_keeps_to_the_filter_on_every_page(
    control: Control, raw_charger: RawCharger
) -> None:
    await control.put_desired("CP-FILTER", password=PASSWORD)
    charger = Frames(await raw_charger("CP-FILTER"))
    start = datetime.now(UTC).replace(microsecond=0)
    for number in range(10):
        moment = (start + timedelta(seconds=number)).isoformat().replace("+00:00", "Z")
        tag = "MINE" if number % 2 else "OTHER"
        await charger.call("StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": moment})
    seen: list[str] = []
    cursor = None
    while True:
        status, page = await control.request(
            "GET", "/v1/sessions?idTag=MINE&limit=2" + (f"&cursor={cursor}" if cursor else "")
        )
        assert status == 200
        assert all(session["idTag"] == "MINE" for session in page["items"])
        seen += [session["id"] for session in page["items"]]
        if (cursor := page["nextCursor"]) is None:
            break
    assert len(seen) == len(set(seen)) == 5
