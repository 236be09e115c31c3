"""``step_size``: OCPI bills a partial step as a whole step, once per session and dimension family.

OCPI 2.2.1 (CDR object, ``step_size``; the tariff module's "step_size SHALL only be taken into account
for the last TariffElement") says, and this module does:

* ``step_size`` is taken into account once per session for ``ENERGY`` and once for ``TIME`` and
  ``PARKING_TIME`` combined.
* It applies to the *total* of the dimension over the session, with the step of the last relevant price
  component (the one of the last period that billed the dimension); the surplus is billed in that last
  period, at its price. 4.3 kWh before 17:00 and 1.1 kWh after, both stepped by 500 Wh, bill 5.5 kWh in
  all: 4.3 before and 1.2 after — not 1.5 after.
* Where both ``TIME`` and ``PARKING_TIME`` are billed, only the total parking time is rounded: charging
  time followed by parking is billed exactly (21 minutes charging and 16 parked with 10-minute steps bill
  21 + 20 minutes).

The tariff module's "switching to different Tariff Element #1" example instead rounds the charging time
and lets the parking disappear in it; that example contradicts the rule above (ocpi/ocpi#396), and the
maintainers confirmed the rule (ocpi/ocpi#546), so we follow the rule.

The total is the quantity of the periods that billed the dimension: time or energy in a period where no
element prices the dimension is free and is not rounded into a bill.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from chargeops.api.v1alpha1 import PriceComponent, TariffDimensionType

# step_size is in Wh for ENERGY and seconds for the time dimensions; quantities here are Wh and microseconds.
_PARKING = TariffDimensionType.PARKING_TIME
_STEP_UNIT = {TariffDimensionType.ENERGY: 1, TariffDimensionType.TIME: 10**6, TariffDimensionType.PARKING_TIME: 10**6}


@dataclass(frozen=True)
class Billed:
    """A quantity of one dimension billed in one charging period with one price component."""

    period: int
    """Index of the charging period."""
    component: PriceComponent
    quantity: int
    """Wh for ``ENERGY``, microseconds for ``TIME`` and ``PARKING_TIME``, 1 for ``FLAT``."""


def round_up_to_step(quantity: Fraction | int, step_size: int) -> int:
    """``quantity`` rounded up to a whole number of steps: a partial step is billed as a whole one."""
    steps = -(-quantity // step_size)
    return int(steps) * step_size


def apply_step_sizes(billed: Sequence[Billed]) -> list[Billed]:
    """``billed`` (in period order) with the session's step-size surplus added to the last relevant entries."""
    result = list(billed)
    # Per dimension: the index of its last entry that bills something, and the total it bills.
    last: dict[TariffDimensionType, int] = {}
    totals: dict[TariffDimensionType, int] = {}
    for index, entry in enumerate(result):
        if entry.quantity > 0:
            kind = entry.component.type
            last[kind] = index
            totals[kind] = totals.get(kind, 0) + entry.quantity
    # Where parking is billed, only its total is rounded; else the charging time's.
    time_family = _PARKING if _PARKING in last else TariffDimensionType.TIME
    for kind in (TariffDimensionType.ENERGY, time_family):
        if kind in last:
            entry, total = result[last[kind]], totals[kind]
            step = entry.component.step_size * _STEP_UNIT[kind]
            surplus = round_up_to_step(total, step) - total
            if surplus:
                result[last[kind]] = Billed(entry.period, entry.component, entry.quantity + surplus)
    return result
