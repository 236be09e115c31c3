"""Security profile 2: TLS with HTTP Basic, on a gateway started with a certificate and key.

Each test makes a throwaway CA and a serving certificate for 127.0.0.1 (``devcluster.pki``, the same
helper the dev control plane uses); the chargers trust that CA, as a real charger trusts the operator's.
A profile-2 charger on a gateway without TLS is refused in ``test_gateway_handshake.py``.
"""

import asyncio
import ssl
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidMessage, InvalidStatus

from chargeops.devcluster import pki
from chargeops.simulator.clock import SystemClock
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e.harness import (
    PASSWORD,
    Control,
    Frames,
    RunningGateway,
    basic_auth,
    connect_charger,
    control_client,
    gateway_settings,
    running_gateway,
)
from tests.e2e.test_gateway_convergence import converged

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> pki.ClusterPki:
    return pki.write_cluster_pki(tmp_path_factory.mktemp("pki"), hosts=("127.0.0.1",))


@pytest.fixture
def trust(keys: pki.ClusterPki) -> ssl.SSLContext:
    """What a charger holds: the CA that signed the gateway's certificate, and nothing else."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(keys.ca_cert))


@pytest.fixture
async def tls_gateway(database_url: str, keys: pki.ClusterPki) -> AsyncIterator[RunningGateway]:
    settings = gateway_settings(database_url, tls_cert=keys.serving_cert, tls_key=keys.serving_key)
    async with running_gateway(settings) as running:
        yield running


@pytest.fixture
async def tls_control(tls_gateway: RunningGateway) -> AsyncIterator[Control]:
    async with control_client(tls_gateway) as client:
        await client.put_desired("CP-TLS", password=PASSWORD, securityProfile=2, revision=1)
        yield client


async def test_a_profile_2_charger_boots_and_sends_heartbeats_over_wss(
    tls_gateway: RunningGateway, tls_control: Control, trust: ssl.SSLContext
) -> None:
    assert tls_gateway.ocpp_url.startswith("wss://")
    connection = await connect_charger(tls_gateway, "CP-TLS", ssl_context=trust)
    try:
        charger = Frames(connection)
        boot = await charger.call("BootNotification", {"chargePointVendor": "Secure", "chargePointModel": "P2"})
        assert boot["status"] == "Accepted"
        heartbeat = await charger.call("Heartbeat", {})
        assert heartbeat["currentTime"]
        observed = await tls_control.observed("CP-TLS")
        assert observed["connected"] is True
        assert observed["vendor"] == "Secure"
    finally:
        await connection.close()


async def test_the_simulated_charger_converges_over_wss(
    tls_gateway: RunningGateway, tls_control: Control, trust: ssl.SSLContext
) -> None:
    station = Station(
        StationConfig("CP-TLS", tls_gateway.ocpp_url, password=PASSWORD, ssl_context=trust, reconnect_initial_s=0.05),
        clock=SystemClock(),
    )
    task = asyncio.create_task(station.run())
    try:
        await station.wait_online()
        await station.request(station.dialect.heartbeat())
        observed = await converged(tls_control, "CP-TLS", 1)
        assert observed["vendor"] == "chargeops"
    finally:
        await station.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_wrong_password_over_tls_is_still_refused_with_401(
    tls_gateway: RunningGateway, tls_control: Control, trust: ssl.SSLContext
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect_charger(tls_gateway, "CP-TLS", password="not-the-password-at-all", ssl_context=trust)
    assert refused.value.response.status_code == 401


async def test_a_plain_ws_connection_to_the_tls_port_fails(tls_gateway: RunningGateway, tls_control: Control) -> None:
    plain = tls_gateway.ocpp_url.replace("wss://", "ws://")
    # The server expects a TLS ClientHello, gets an HTTP request, and drops the connection unanswered.
    with pytest.raises(InvalidMessage, match="did not receive a valid HTTP response"):
        await connect(f"{plain}/CP-TLS", subprotocols=["ocpp1.6"], additional_headers=basic_auth("CP-TLS", PASSWORD))
    assert (await tls_control.observed("CP-TLS"))["connected"] is False


async def test_a_charger_that_does_not_trust_the_certificate_does_not_connect(
    tls_gateway: RunningGateway, tls_control: Control
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        await connect_charger(tls_gateway, "CP-TLS", ssl_context=ssl.create_default_context())
