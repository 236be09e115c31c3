"""Decimal amounts become Stripe's integers exactly, in each currency's Stripe unit, or are refused."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargeops import payments
from chargeops.payments import amounts

TWO_DECIMAL = ["EUR", "USD", "GBP", "HUF", "TWD", "CHF"]
ZERO_DECIMAL = sorted(amounts.ZERO_DECIMAL)
THREE_DECIMAL = sorted(amounts.THREE_DECIMAL)

# Invoice amounts: up to 12 integer digits (the API's Amount pattern), either sign.
whole_units = st.integers(min_value=-(10**12) + 1, max_value=10**12 - 1)


def decimal_of(units: int, decimals: int) -> Decimal:
    """``units`` minor units as the Decimal billing writes, e.g. 1240 with 2 decimals → 12.40."""
    return Decimal(units).scaleb(-decimals)


@given(units=whole_units, currency=st.sampled_from(TWO_DECIMAL))
def test_two_decimal_amounts_become_cents(units: int, currency: str) -> None:
    amount = decimal_of(units, 2)

    assert payments.to_minor_units(amount, currency) == units
    assert payments.from_minor_units(units, currency) == amount


@given(units=whole_units, currency=st.sampled_from(ZERO_DECIMAL))
def test_zero_decimal_amounts_are_sent_as_they_are(units: int, currency: str) -> None:
    assert payments.to_minor_units(Decimal(units), currency) == units
    assert payments.to_minor_units(decimal_of(units * 100, 2), currency) == units  # "500.00" JPY is 500


@given(units=whole_units, cents=st.integers(min_value=1, max_value=99), currency=st.sampled_from(ZERO_DECIMAL))
def test_a_fraction_of_a_zero_decimal_unit_is_refused(units: int, cents: int, currency: str) -> None:
    with pytest.raises(payments.AmountNotRepresentableError, match="at most 0 decimals"):
        payments.to_minor_units(Decimal(units) + Decimal(cents).scaleb(-2), currency)


@given(units=whole_units, currency=st.sampled_from(THREE_DECIMAL))
def test_three_decimal_amounts_in_tens_become_thousandths(units: int, currency: str) -> None:
    assert payments.to_minor_units(decimal_of(units, 2), currency) == units * 10


@given(units=whole_units, last=st.integers(min_value=1, max_value=9), currency=st.sampled_from(THREE_DECIMAL))
def test_three_decimal_amounts_off_the_tens_are_refused(units: int, last: int, currency: str) -> None:
    with pytest.raises(payments.AmountNotRepresentableError, match="multiples of 10"):
        payments.to_minor_units(decimal_of(units * 10 + last, 3), currency)


@given(units=whole_units)
def test_isk_is_whole_kronur_written_with_two_decimals(units: int) -> None:
    assert payments.to_minor_units(Decimal(units), "ISK") == units * 100
    with pytest.raises(payments.AmountNotRepresentableError, match="multiples of 100"):
        payments.to_minor_units(Decimal(units) + Decimal("0.5"), "ISK")


@given(units=whole_units, extra=st.integers(min_value=1, max_value=9), currency=st.sampled_from(TWO_DECIMAL))
def test_more_decimals_than_the_currency_has_are_refused_not_rounded(units: int, extra: int, currency: str) -> None:
    amount = decimal_of(units * 10 + extra, 3)

    with pytest.raises(payments.AmountNotRepresentableError) as caught:
        payments.to_minor_units(amount, currency)

    assert caught.value.amount == amount
    assert caught.value.reason == "AmountNotRepresentable"


@given(units=whole_units, zeros=st.integers(min_value=0, max_value=6), currency=st.sampled_from(TWO_DECIMAL))
def test_trailing_zeros_do_not_matter(units: int, zeros: int, currency: str) -> None:
    amount = Decimal(f"{decimal_of(units, 2)}{'0' * zeros}" if zeros else decimal_of(units, 2))

    assert payments.to_minor_units(amount, currency) == units


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("12.40", "EUR", 1240), ("-3.10", "eur", -310), ("500", "JPY", 500), ("1.230", "KWD", 1230), ("5", "ISK", 500)],
)
def test_worked_examples(amount: str, currency: str, minor: int) -> None:
    assert payments.to_minor_units(Decimal(amount), currency) == minor


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_amount_is_refused(value: str) -> None:
    with pytest.raises(payments.AmountNotRepresentableError, match="not a finite number"):
        payments.to_minor_units(Decimal(value), "EUR")
