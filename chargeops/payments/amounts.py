"""Decimal amounts to the integers Stripe's API takes, exactly or not at all.

Stripe wants every amount as an integer count of the currency's smallest unit, and its idea of that unit
is its own, not always ISO 4217's (stripe.com/docs/currencies): most currencies have two decimals, a
fixed list has none (JPY, KRW, …: ``500`` is ¥500), five have three but only in multiples of ten, and ISK,
though whole krónur only, is still written with two decimals in multiples of 100. Billing has already
rounded each line to the minor unit, so the conversion here only scales; an amount that would need
rounding raises ``AmountNotRepresentableError`` instead, because money is never rounded twice.
"""

from dataclasses import dataclass
from decimal import Decimal

from chargeops.payments.errors import AmountNotRepresentableError


@dataclass(frozen=True)
class StripeCurrency:
    """How Stripe writes amounts of one currency."""

    decimals: int
    """Digits the integer amount carries after the decimal point: ``1240`` EUR is 12.40."""

    step: int = 1
    """The integer amount must be a multiple of this (10 for the three-decimal dinars, 100 for ISK)."""


# Stripe's zero-decimal currencies, as its currency page lists them.
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
# Three decimals in the API, but card networks settle in tens, so the last digit must be 0.
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# ISK became whole-króna only in 2023; Stripe kept two decimals for compatibility and wants multiples of 100.
_SPECIAL = {"ISK": StripeCurrency(decimals=2, step=100)}

_TWO_DECIMALS = StripeCurrency(decimals=2)


def stripe_currency(currency: str) -> StripeCurrency:
    """Stripe's rule for ``currency`` (ISO 4217 code, either case); two decimals unless listed otherwise."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return StripeCurrency(decimals=0)
    if code in THREE_DECIMAL:
        return StripeCurrency(decimals=3, step=10)
    return _SPECIAL.get(code, _TWO_DECIMALS)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` as Stripe's integer for ``currency``: ``Decimal("12.40")`` EUR → 1240, ¥500 → 500.

    Raises ``AmountNotRepresentableError`` when that would lose anything: more decimals than the currency
    has, or a value off Stripe's step (``0.005`` KWD, ``10.50`` ISK).
    """
    if not amount.is_finite():
        raise AmountNotRepresentableError(amount, currency, detail="it is not a finite number")
    rule = stripe_currency(currency)
    scaled = amount.scaleb(rule.decimals)
    units = int(scaled)
    if scaled != units:
        raise AmountNotRepresentableError(
            amount, currency, detail=f"Stripe takes at most {rule.decimals} decimals in {currency.upper()}"
        )
    if units % rule.step:
        raise AmountNotRepresentableError(
            amount, currency, detail=f"Stripe takes {currency.upper()} only in multiples of {rule.step} minor units"
        )
    return units


def from_minor_units(units: int, currency: str) -> Decimal:
    """Stripe's integer amount as a Decimal with the currency's decimals: 1240 EUR → ``Decimal("12.40")``."""
    return Decimal(units).scaleb(-stripe_currency(currency).decimals)
