"""A simulated charger answered 503 comes back no sooner than the gateway's Retry-After, as a charger should.

The other end is a real websockets server that refuses every upgrade with 503 and ``Retry-After: 1``;
the charger's own backoff starts at 0.05 s, so without honouring the header it would be back at once.
"""

import asyncio
import http
import itertools

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from chargeops.simulator.station import Station, retry_after_s
from chargeops.simulator.station_config import StationConfig

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

PASSWORD = "a-password-of-16-bytes"


async def test_a_charger_answered_503_waits_the_retry_after_it_was_given() -> None:
    loop = asyncio.get_running_loop()
    attempts: list[float] = []
    third = asyncio.Event()

    def busy(connection: ServerConnection, request: Request) -> Response:
        attempts.append(loop.time())
        if len(attempts) == 3:
            third.set()
        response = connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "busy\n")
        response.headers["Retry-After"] = "1"
        return response

    async with serve(lambda _: asyncio.sleep(0), "127.0.0.1", 0, process_request=busy) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        config = StationConfig("CP-1", f"ws://127.0.0.1:{port}/ocpp", password=PASSWORD, reconnect_initial_s=0.05)
        station = Station(config)
        task = asyncio.create_task(station.run())
        try:
            await asyncio.wait_for(third.wait(), 30)
        finally:
            await station.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert min(gaps) >= 1.0, gaps
    assert station.stats.connect_failures >= 2  # the third is still being answered
    assert station.last_error == "the gateway answered the upgrade with HTTP 503"


def refusal(status: int, headers: dict[str, str]) -> InvalidStatus:
    return InvalidStatus(Response(status, http.HTTPStatus(status).phrase, Headers(headers), b""))


@pytest.mark.parametrize(
    ("status", "headers", "wait_s"),
    [
        pytest.param(503, {"Retry-After": "17"}, 17.0, id="503 with seconds"),
        pytest.param(503, {}, 0.0, id="503 without the header"),
        pytest.param(503, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, 0.0, id="503 with a date"),
        pytest.param(401, {"Retry-After": "17"}, 0.0, id="not 503"),
    ],
)
def test_retry_after_is_read_only_from_a_503_in_seconds(status: int, headers: dict[str, str], wait_s: float) -> None:
    assert retry_after_s(refusal(status, headers)) == wait_s
