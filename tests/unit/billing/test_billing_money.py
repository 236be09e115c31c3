"""Amounts are rounded once, half up, to the currency's ISO 4217 minor unit, and never mix currencies."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargeops.api.v1alpha1 import VatLine
from chargeops.billing import money
from chargeops.billing.errors import CurrencyMismatchError, UnsupportedCurrencyError


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("12.345", "EUR", "12.35"),  # a tie rounds up
        ("12.344999", "EUR", "12.34"),
        ("-0.125", "EUR", "-0.13"),  # ties go away from zero, refunds too
        ("0", "EUR", "0.00"),
        ("1240.5", "JPY", "1241"),  # no minor unit: whole yen
        ("1240.49", "KRW", "1240"),
        ("1.2345", "KWD", "1.235"),  # three decimals: fils
        ("7", "BHD", "7.000"),
    ],
)
def test_rounding_to_the_minor_unit(value: str, currency: str, expected: str) -> None:
    rounded = money.round_money(Decimal(value), currency)
    assert format(rounded, "f") == expected


def test_a_third_is_rounded_exactly_not_through_a_float() -> None:
    assert money.round_money(Fraction(1, 3) * 100, "EUR") == Decimal("33.33")
    # 2.675 is 2.67499999... as a float; exact arithmetic sees the tie.
    assert money.round_money(Decimal("2.675"), "EUR") == Decimal("2.68")


def test_an_unknown_currency_is_refused_not_guessed() -> None:
    with pytest.raises(UnsupportedCurrencyError) as raised:
        money.minor_digits("XYZ")
    assert raised.value.reason == "UnsupportedCurrency"


def test_money_of_two_currencies_does_not_add_up() -> None:
    with pytest.raises(CurrencyMismatchError):
        _ = money.Money(Decimal("1.00"), "EUR") + money.Money(Decimal("1.00"), "USD")
    total = money.Money(Decimal("1.10"), "EUR") + money.Money(Decimal("2.25"), "EUR")
    assert str(total) == "3.35 EUR"


def test_vat_is_rounded_once_on_the_base() -> None:
    # 21 % of 10.05 is 2.1105 → 2.11; 21 % of three lines of 3.35 each rounded alone would be 3 x 0.70 = 2.10.
    assert money.vat_amount(Decimal("10.05"), Decimal("21"), "EUR") == Decimal("2.11")
    assert money.vat_amount(Decimal("1000"), Decimal("10"), "JPY") == Decimal("100")


def test_quantities_print_without_exponent() -> None:
    assert format(money.decimal_places(Fraction(10), 6), "f") == "10"
    assert format(money.decimal_places(Fraction(5, 12), 6), "f") == "0.416667"
    assert format(money.decimal_places(Fraction(1, 2), 6), "f") == "0.5"


currencies = st.sampled_from(sorted(money.MINOR_UNITS))
amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False)


@given(amounts, currencies)
def test_a_rounded_amount_is_within_half_a_minor_unit(value: Decimal, currency: str) -> None:
    rounded = money.round_money(value, currency)
    unit = Decimal(1).scaleb(-money.minor_digits(currency))
    assert abs(rounded - value) <= unit / 2
    assert rounded.as_tuple().exponent == -money.minor_digits(currency)


@given(amounts, st.sampled_from(["JPY", "KRW", "ISK", "CLP", "VND"]))
def test_zero_decimal_currencies_have_integer_amounts(value: Decimal, currency: str) -> None:
    rounded = money.round_money(value, currency)
    assert rounded == rounded.to_integral_value()
    assert "." not in format(rounded, "f")


@given(amounts, currencies)
def test_rounded_amounts_are_valid_api_amounts(value: Decimal, currency: str) -> None:
    line = VatLine(rate=Decimal("21"), base=money.round_money(value, currency), amount=money.round_money(0, currency))
    assert line.base == money.round_money(value, currency)
