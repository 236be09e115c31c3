"""Readings no store column holds, or that would take long to turn into an integer, count as no reading.

Found by ``tests/e2e/test_gateway_fuzz.py`` (1e30 Wh reached the store: InternalError) and a probe
after it (a 2.0.1 multiplier of 900000 kept the gateway busy for minutes on one frame).
"""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargeops.ocpp_gateway import meter


@pytest.mark.parametrize(
    "sample",
    [
        {"value": "1e30"},
        {"value": "9" * 40},
        {"value": "1E+999999"},
        {"value": "-1E+999999999"},
        {"value": 1e308},
        {"value": 5, "unit_of_measure": {"unit": "Wh", "multiplier": 900_000}},
        {"value": 5, "unit_of_measure": {"unit": "Wh", "multiplier": 2**31 - 1}},
        {"value": 5, "unit_of_measure": {"unit": "Wh", "multiplier": -(2**31)}},
        {"value": "1E+16", "unit": "kWh"},
    ],
)
def test_an_impossible_reading_is_no_reading(sample: dict[str, Any]) -> None:
    assert meter.register_wh([sample]) is None


def test_the_largest_reading_kept_is_just_below_ten_to_the_eighteen_wh() -> None:
    assert meter.register_wh([{"value": "999999999999999999"}]) == 10**18 - 1
    assert meter.register_wh([{"value": "1E+18"}]) is None
    assert meter.register_wh([{"value": 5, "unit_of_measure": {"unit": "kWh", "multiplier": 3}}]) == 5_000_000


def test_a_later_readable_sample_still_counts() -> None:
    assert meter.register_wh([{"value": "1E+999999"}, {"value": "42"}]) == 42


@given(
    value=st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.floats(),
        st.integers(-(10**40), 10**40),
        st.text(max_size=20),
    ),
    multiplier=st.integers(-(2**31), 2**31 - 1) | st.integers(-20, 20),
    unit=st.sampled_from(["Wh", "kWh", "W"]),
)
def test_any_reading_is_an_integer_below_ten_to_the_eighteen_or_none(value: Any, multiplier: int, unit: str) -> None:
    for sample in (
        {"value": value, "unit": unit},
        {"value": value, "unit_of_measure": {"unit": unit, "multiplier": multiplier}},
    ):
        wh = meter.register_wh([sample])
        assert wh is None or abs(wh) < Decimal(10) ** 18
