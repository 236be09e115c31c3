"""Money: amounts with their currency, rounded to the currency's minor unit in one place.

Everything in billing that becomes an amount goes through ``round_money``. The rule (OCPI leaves it to law
and contract, so it is ours): compute exactly (``Fraction``), round once per invoice line item to the
currency's minor unit with ``ROUND_HALF_UP`` (ties away from zero, the commercial rounding most VAT
administrations expect), then only add rounded amounts. VAT is computed once per invoice and rate, on the
sum of the rounded line items at that rate (``vat_amount``).
"""

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from chargeops.billing.errors import CurrencyMismatchError, UnsupportedCurrencyError

ROUNDING = ROUND_HALF_UP
"""The rounding mode of every amount: ties away from zero (0.125 → 0.13, -0.125 → -0.13)."""

WH_PER_KWH = 1000
SECONDS_PER_HOUR = 3600
PERCENT = 100

# ISO 4217 minor units (digits after the decimal point) of the currencies we bill in. Not every currency
# has two: the yen and the won have none, the Gulf dinars three. A currency missing here is refused rather
# than guessed. (ISO lists HUF and TWD with 2 even though cash has no subunits; invoices follow ISO.)
# fmt: off
MINOR_UNITS: dict[str, int] = {
    # zero decimals
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # three decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # four decimals (units of account)
    "CLF": 4, "UYW": 4,
    # two decimals
    "AED": 2, "ALL": 2, "AMD": 2, "ARS": 2, "AUD": 2, "AZN": 2, "BAM": 2, "BDT": 2, "BGN": 2, "BRL": 2,
    "BYN": 2, "CAD": 2, "CHF": 2, "CNY": 2, "COP": 2, "CRC": 2, "CZK": 2, "DKK": 2, "DOP": 2, "DZD": 2,
    "EGP": 2, "EUR": 2, "GBP": 2, "GEL": 2, "GHS": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2,
    "JMD": 2, "KES": 2, "KZT": 2, "LKR": 2, "MAD": 2, "MDL": 2, "MKD": 2, "MUR": 2, "MXN": 2, "MYR": 2,
    "NGN": 2, "NOK": 2, "NZD": 2, "PEN": 2, "PHP": 2, "PKR": 2, "PLN": 2, "QAR": 2, "RON": 2, "RSD": 2,
    "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2, "UYU": 2, "UZS": 2,
    "ZAR": 2,
}
# fmt: on


def minor_digits(currency: str) -> int:
    """Digits after the decimal point in ``currency``'s minor unit: 2 for EUR, 0 for JPY, 3 for KWD."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnsupportedCurrencyError(currency) from None


def round_half_up(value: Fraction) -> int:
    """The integer nearest to ``value``, ties away from zero, computed exactly."""
    return divide_half_up(value.numerator, value.denominator)


def round_money(value: Decimal | Fraction | int, currency: str) -> Decimal:
    """``value`` rounded to the minor unit of ``currency`` with ``ROUNDING``.

    The result always carries exactly the currency's decimals (``Decimal("12.40")``, ``Decimal("1240")``
    for JPY), so it prints as an invoice shows it.
    """
    numerator, denominator = value.as_integer_ratio()
    return round_ratio(numerator, denominator, currency)


@functools.lru_cache(maxsize=256)
def zero(currency: str) -> Decimal:
    """Nothing in ``currency``, with its minor-unit decimals (``Decimal("0.00")`` for EUR): where sums start."""
    return round_money(0, currency)


def round_ratio(numerator: int, denominator: int, currency: str) -> Decimal:
    """``numerator / denominator`` rounded like ``round_money``, in integers only: the hot path of pricing."""
    digits = minor_digits(currency)
    units = divide_half_up(numerator * 10**digits, denominator)
    return Decimal(units).scaleb(-digits)


def divide_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, ties away from zero."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def decimal_places(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half up to at most ``places`` decimals, without trailing zeros or an exponent
    (``Decimal("0.5")``, ``Decimal("10")``), as the API's decimal strings want a quantity."""
    return decimal_ratio(value.numerator, value.denominator, places)


def decimal_ratio(numerator: int, denominator: int, places: int) -> Decimal:
    """``numerator / denominator`` like ``decimal_places``, in integers only."""
    units = divide_half_up(numerator * 10**places, denominator)
    exponent = -places
    # Trailing zeros go, but never past the decimal point: 10 stays Decimal("10"), not Decimal("1E+1").
    while exponent < 0 and units % 10 == 0:
        units //= 10
        exponent += 1
    return Decimal(units).scaleb(exponent)


def vat_amount(base: Decimal, rate: Decimal, currency: str) -> Decimal:
    """VAT at ``rate`` percent on ``base``, rounded once to the minor unit."""
    base_numerator, base_denominator = base.as_integer_ratio()
    rate_numerator, rate_denominator = rate.as_integer_ratio()
    return round_ratio(base_numerator * rate_numerator, base_denominator * rate_denominator * PERCENT, currency)


@dataclass(frozen=True)
class Money:
    """An amount in one currency; adding two currencies raises ``CurrencyMismatchError``."""

    amount: Decimal
    currency: str

    @classmethod
    def zero(cls, currency: str) -> "Money":
        """Nothing, in ``currency``, with its minor-unit decimals."""
        return cls(round_money(0, currency), currency)

    def __add__(self, other: "Money") -> "Money":
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency)
        return Money(self.amount + other.amount, self.currency)

    def __str__(self) -> str:
        return f"{format(self.amount, 'f')} {self.currency}"
