"""A large fleet names its chargers in order and spreads them over loopback source addresses."""

import pytest

from chargeops.simulator.fleet import charge_point_ids, source_address


def test_ids_are_zero_padded_so_they_sort() -> None:
    assert charge_point_ids(3, prefix="SIM-") == ["SIM-0001", "SIM-0002", "SIM-0003"]
    ids = charge_point_ids(50_000, prefix="X")
    assert ids[0] == "X00001"
    assert ids == sorted(ids)
    assert len(set(ids)) == 50_000


@pytest.mark.parametrize(
    ("index", "url", "expected"),
    [
        (0, "ws://127.0.0.1:9000/ocpp", None),  # the first address: the kernel's choice
        (19_999, "ws://127.0.0.1:9000/ocpp", None),
        (20_000, "ws://127.0.0.1:9000/ocpp", "127.0.0.2"),
        (49_999, "ws://localhost:9000/ocpp", "127.0.0.3"),
        (30_000, "wss://gateway.example:443/ocpp", None),  # not loopback: 127.0.0.x could not reach it
        (30_000, "ws://[::1]:9000/ocpp", None),  # IPv6 loopback has one address
    ],
)
def test_source_addresses_spread_only_on_loopback(index: int, url: str, expected: str | None) -> None:
    assert source_address(index, gateway_url=url, per_address=20_000) == expected
