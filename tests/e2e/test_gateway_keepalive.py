"""A charger that stops answering pings is cut, and the log says the gateway cut it and why, where the
close code alone (1006) reads like a charger that vanished."""

import logging

import pytest

from tests.e2e.harness import PASSWORD, connect_charger, control_client, gateway_settings, running_gateway
from tests.e2e.test_gateway_convergence import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_charger_that_answers_no_ping_is_cut_and_the_log_says_so(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = gateway_settings(database_url, ping_interval_s=0.2, ping_timeout_s=0.5)
    async with running_gateway(settings) as running, control_client(running) as control:
        await control.put_desired("PING-1", password=PASSWORD)
        connection = await connect_charger(running, "PING-1")
        connection.transport.pause_reading()  # a charger gone quiet: its pongs never come

        def cut() -> bool:
            return any("[PING-1] Disconnected" in record.getMessage() for record in caplog.records)

        await eventually(cut, timeout_s=30)
        connection.transport.abort()

    [line] = [record.getMessage() for record in caplog.records if "[PING-1] Disconnected" in record.getMessage()]
    assert line.endswith("Disconnected (close code 1006; the gateway closed it: 1011 keepalive ping timeout).")
