"""Money in the API is a decimal string: exact in Python, a string in the CRD, never a float."""

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import meta


def component(price: object) -> v1alpha1.PriceComponent:
    return v1alpha1.PriceComponent.model_validate({"type": "ENERGY", "price": price})


@pytest.mark.parametrize(
    ("written", "expected"),
    [("0.35", Decimal("0.35")), ("12", Decimal("12")), ("0.000125", Decimal("0.000125")), (3, Decimal("3"))],
)
def test_price_is_parsed_exactly(written: object, expected: Decimal) -> None:
    assert component(written).price == expected


@pytest.mark.parametrize("written", [0.35, "0,35", "-0.10", "1e5", "NaN", "Infinity", "0.1234567", " 1", ""])
def test_price_that_is_not_a_decimal_string_is_refused(written: object) -> None:
    with pytest.raises(ValidationError, match="decimal string"):
        component(written)


def test_float_refusal_says_to_write_a_string() -> None:
    with pytest.raises(ValidationError, match="never as a float"):
        component(0.35)


@given(st.from_regex(meta.PRICE_PATTERN, fullmatch=True))
def test_every_price_the_api_server_accepts_round_trips_to_an_equal_accepted_string(text: str) -> None:
    dumped = component(text).model_dump(mode="json")["price"]
    assert Decimal(dumped) == Decimal(text)
    assert re.fullmatch(meta.PRICE_PATTERN, dumped)


@given(st.decimals(min_value=-(10**12) + 1, max_value=10**12 - 1, places=6, allow_nan=False))
def test_computed_amounts_serialize_in_fixed_point(amount: Decimal) -> None:
    # Arithmetic yields values such as Decimal("1E+2"); the CRD only takes plain digits.
    line = v1alpha1.VatLine.model_validate({"rate": "21", "base": "0", "amount": "0"})
    dumped = line.model_copy(update={"amount": amount.normalize()}).model_dump(mode="json")["amount"]
    assert re.fullmatch(meta.AMOUNT_PATTERN, dumped), dumped
    assert Decimal(dumped) == amount


@given(st.text(alphabet="0123456789.-,eE+ ", max_size=14))
def test_python_and_api_server_agree_on_which_prices_are_valid(text: str) -> None:
    accepted_by_server = re.fullmatch(meta.PRICE_PATTERN, text) is not None
    try:
        component(text)
    except ValidationError:
        accepted_by_python = False
    else:
        accepted_by_python = True
    assert accepted_by_python == accepted_by_server


@given(st.from_regex(meta.VAT_PATTERN, fullmatch=True))
def test_vat_rates_stay_between_0_and_100(text: str) -> None:
    rate = v1alpha1.MonthlyFee.model_validate({"price": "1", "vat": text}).vat
    assert rate is not None
    assert Decimal(0) <= rate <= Decimal(100)
