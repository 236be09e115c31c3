"""Prometheus ``/metrics`` after real traffic: connections, messages by action and result, CallErrors
sent, refused upgrades, call latency. The counters live for the whole process, so each test compares
the scrape before its traffic with the one after.
"""

import asyncio
import time
from collections.abc import Mapping

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus

from chargeops.ocpp_gateway import metrics
from tests.e2e.harness import PASSWORD, Control, Frames, RawCharger, RunningGateway, recv_reply
from tests.e2e.test_gateway_convergence import eventually

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(gateway: RunningGateway) -> Samples:
    """Every sample of ``/metrics``, fetched without a token as Prometheus does."""
    async with aiohttp.ClientSession() as http, http.get(f"{gateway.control_url}/metrics") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, labels: Mapping[str, str]) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_without_a_token_count_connections_messages_call_errors_and_refusals(
    gateway: RunningGateway, control: Control, raw_charger: RawCharger
) -> None:
    await control.put_desired("CP-METRICS", password=PASSWORD)
    before = await scrape(gateway)

    connection = await raw_charger("CP-METRICS")
    charger = Frames(connection)
    for _ in range(3):
        await charger.call("Heartbeat", {})
    await charger.call("Authorize", {"idTag": "ANY"})
    await connection.send("this is not json")
    assert (await recv_reply(connection))[2] == "FormationViolation"
    await connection.send('[2,"nope","NoSuchAction",{}]')
    assert (await recv_reply(connection))[2] == "NotImplemented"
    with pytest.raises(InvalidStatus):
        await raw_charger("CP-METRICS", password="wrong-password-123456")
    with pytest.raises(InvalidStatus):
        await raw_charger("CP-NOBODY")

    during = await scrape(gateway)

    def grew(name: str, by: float, **labels: str) -> None:
        assert value(during, name, labels) - value(before, name, labels) == by, (name, labels)

    grew("chargeops_gateway_connections", 1, ocpp_version="1.6")
    grew("chargeops_gateway_messages_total", 3, action="Heartbeat", result="ok")
    grew("chargeops_gateway_messages_total", 1, action="Authorize", result="ok")
    grew("chargeops_gateway_messages_total", 1, action="Unknown", result="NotImplemented")
    grew("chargeops_gateway_call_errors_sent_total", 1, code="FormationViolation")
    grew("chargeops_gateway_call_errors_sent_total", 1, code="NotImplemented")
    grew("chargeops_gateway_connections_refused_total", 1, reason="WrongPassword")
    grew("chargeops_gateway_connections_refused_total", 1, reason="UnknownCharger")
    grew("chargeops_gateway_call_duration_seconds_count", 3, action="Heartbeat")
    # Labels stay bounded: actions and codes, never charger ids.
    assert not any("CP-" in label for _, labels in during for _, label in labels)

    await connection.close()

    async def disconnected() -> bool:
        after = await scrape(gateway)
        return value(after, "chargeops_gateway_connections", {"ocpp_version": "1.6"}) == value(
            before, "chargeops_gateway_connections", {"ocpp_version": "1.6"}
        )

    await eventually(disconnected)


async def test_the_event_loop_lag_is_sampled_and_shows_a_stall(gateway: RunningGateway) -> None:
    lag = "chargeops_gateway_event_loop_lag_seconds"
    before = await scrape(gateway)
    # Blocking the event loop, as a slow synchronous step in a handler would: a stall longer than the
    # sampling interval holds up a sample's timer by at least the difference (here 0.5 s).
    time.sleep(2 * metrics.LOOP_LAG_INTERVAL_S)  # noqa: ASYNC251 - the stall is what is measured
    await asyncio.sleep(2 * metrics.LOOP_LAG_INTERVAL_S)
    after = await scrape(gateway)

    samples = value(after, f"{lag}_count", {}) - value(before, f"{lag}_count", {})
    fast = value(after, f"{lag}_bucket", {"le": "0.25"}) - value(before, f"{lag}_bucket", {"le": "0.25"})
    assert samples >= 1
    assert samples - fast >= 1  # at least one sample saw a lag over 0.25 s
