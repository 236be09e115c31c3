"""Energy registers are read exactly, in integer Wh, from 1.6 strings and 2.0.1 numbers with multipliers."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargeops.ocpp_gateway import meter


@pytest.mark.parametrize(
    ("samples", "wh"),
    [
        ([{"value": "1234"}], 1234),
        ([{"value": "12.345", "unit": "kWh"}], 12345),
        ([{"value": "1.0005", "unit": "kWh"}], 1001),  # half a Wh rounds up
        ([{"value": "5", "measurand": "Current.Import"}, {"value": "99"}], 99),
        ([{"value": "7", "phase": "L1"}], None),
        ([{"value": "abc"}], None),
        ([{"value": 1234.5, "unit_of_measure": {"unit": "Wh"}}], 1235),
        ([{"value": 12.5, "unit_of_measure": {"unit": "Wh", "multiplier": 3}}], 12500),
        ([{"value": 3, "unit_of_measure": {"unit": "kWh", "multiplier": -1}}], 300),
        ([{"value": "NaN"}], None),
    ],
)
def test_register_in_wh(samples: list[dict[str, object]], wh: int | None) -> None:
    assert meter.register_wh(samples) == wh


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False))
def test_a_kwh_string_is_read_without_float_error(kwh: Decimal) -> None:
    wh = meter.register_wh([{"value": str(kwh), "unit": "kWh"}])
    assert wh == int((kwh * 1000).to_integral_value())


@given(st.integers(min_value=0, max_value=10**12))
def test_integer_wh_numbers_round_trip(wh: int) -> None:
    assert meter.register_wh([{"value": float(wh), "unit_of_measure": {"unit": "Wh"}}]) == wh
