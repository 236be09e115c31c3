"""The operator's gateway client against a real gateway: documents round-trip, failures are typed."""

import socket

import pytest

from chargeops.api.gateway import AuthorizationMode, DesiredState
from chargeops.operator.errors import GatewayRefusedError, GatewayUnreachableError
from chargeops.operator.gateway_client import GatewayClient
from tests.e2e.harness import PASSWORD, RunningGateway

pytestmark = pytest.mark.e2e


async def test_desired_state_round_trips_without_the_password(gateway: RunningGateway) -> None:
    async with GatewayClient(gateway.control_url, token=gateway.token) as client:
        desired = DesiredState(
            password=PASSWORD, authorization=AuthorizationMode.REQUIRED, authorized_id_tags=["T1"], revision=42
        )
        stored = await client.put_desired("CP-OP", desired)
        assert stored.has_password
        assert stored.desired.password is None
        assert (await client.get_desired("CP-OP")) == stored
        assert (await client.observed("CP-OP")).connected is False
        await client.forget("CP-OP")
        assert await client.get_desired("CP-OP") is None


async def test_a_wrong_token_is_refused_with_the_gateways_message(gateway: RunningGateway) -> None:
    async with GatewayClient(gateway.control_url, token="not-the-token-at-all") as client:
        with pytest.raises(GatewayRefusedError, match="401") as refused:
            await client.observed("CP-OP")
        assert refused.value.status == 401


async def test_an_unreachable_gateway_is_a_temporary_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with GatewayClient(f"http://127.0.0.1:{port}", token="x" * 20, timeout_s=2) as client:
        with pytest.raises(GatewayUnreachableError) as unreachable:
            await client.observed("CP-OP")
        assert unreachable.value.reason == "GatewayUnreachable"
