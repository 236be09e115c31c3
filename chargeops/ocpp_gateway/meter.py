"""Read energy register values out of OCPP meter values, as integer Wh.

Pure. OCPP 1.6 §7.31 SampledValue carries the value as a decimal *string* with an optional unit (Wh or
kWh); OCPP 2.0.1 carries a JSON number with a unit and a power-of-ten multiplier (2.0.1 Part 2 §2.50).
Only ``Energy.Active.Import.Register`` without a phase is billing energy; it is the default measurand
when none is given (1.6 §7.31, 2.0.1 §2.50).

A reading that cannot be read counts as no reading, and so does one of 10^18 Wh or more: the store's
BIGINT ends near 9.2e18, and turning "1E+999999" or a multiplier of 900000 into an integer would take
the gateway seconds to hours (``tests/e2e/test_gateway_fuzz.py`` and a probe found both). Magnitudes
are compared by decimal exponent, which costs nothing whatever the number.
"""

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

ENERGY_REGISTER = "Energy.Active.Import.Register"
_WH_PER_KWH = Decimal(1000)
_UNIT_FACTORS = {"Wh": Decimal(1), "kWh": _WH_PER_KWH}
_MAX_EXPONENT = 17  # below 10**18 Wh


def exact(value: object) -> Decimal | None:
    """The decimal a charger wrote. A JSON number arrives as a float; its shortest repr is the text the
    charger sent (for up to 15 significant digits), so it is read back through ``repr``, never used as
    a float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def register_wh(sampled_values: Iterable[Mapping[str, Any]]) -> int | None:
    """The energy register in Wh among ``sampled_values`` (snake_case keys), or None if none is."""
    for sample in sampled_values:
        if sample.get("measurand", ENERGY_REGISTER) != ENERGY_REGISTER or sample.get("phase"):
            continue
        number = exact(sample.get("value"))
        if number is None or (number and number.adjusted() > _MAX_EXPONENT):
            continue
        factor = _unit_factor(sample)
        if factor is None:
            continue
        wh = number * factor
        if wh and wh.adjusted() > _MAX_EXPONENT:
            continue
        return int(wh.to_integral_value(rounding=ROUND_HALF_UP))
    return None


def _unit_factor(sample: Mapping[str, Any]) -> Decimal | None:
    unit_of_measure = sample.get("unit_of_measure")
    if isinstance(unit_of_measure, Mapping):  # OCPP 2.0.1
        multiplier = unit_of_measure.get("multiplier", 0)
        unit = unit_of_measure.get("unit", "Wh")
        base = _UNIT_FACTORS.get(unit)
        if base is None or not isinstance(multiplier, int) or abs(multiplier) > _MAX_EXPONENT:
            return None
        return base.scaleb(multiplier)
    return _UNIT_FACTORS.get(sample.get("unit", "Wh"))
