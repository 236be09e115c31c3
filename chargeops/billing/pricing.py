"""Price one charging session with a tariff snapshot, modelled on OCPI 2.2.1 tariffs.

The billing pass calls ``price_session`` once per session with the tariff in force at the session's
start. The session is cut into charging periods (``charging_periods``), each period bills the dimensions
its winning components price, ``step_size`` rounding is applied once per session (``step_size``), and the
result is grouped per billing month, because a session over a month boundary lands on two invoices.

Within each group, charges of the same dimension, price and VAT rate are added up and each is rounded once
to the currency's minor unit (``money.round_money``): those are the invoice's line items.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from zoneinfo import ZoneInfo

from chargeops.api.gateway import MeterReading, Session
from chargeops.api.v1alpha1 import ComponentCharge, TariffDimensionType, TariffSpec
from chargeops.billing import periods
from chargeops.billing.charging_periods import ENERGY, FLAT, PARKING_TIME, TIME, ChargingPeriod, charging_periods
from chargeops.billing.energy_profile import MICROSECONDS_PER_SECOND, EnergyProfile
from chargeops.billing.errors import CurrencyMismatchError, TooManyComponentsError
from chargeops.billing.money import SECONDS_PER_HOUR, WH_PER_KWH, decimal_ratio, round_money, round_ratio
from chargeops.billing.step_size import Billed, apply_step_sizes

# InvoiceLine.components holds at most this many charges.
MAX_COMPONENTS_PER_LINE = 8
# Hours are shown with six decimals (the API's Amount allows six); amounts come from exact seconds.
HOURS_DECIMALS = 6
# kWh are shown to the Wh, which is what meters report.
KWH_DECIMALS = 3
_DIMENSION_ORDER = (FLAT, ENERGY, TIME, PARKING_TIME)
MICROSECONDS_PER_HOUR = SECONDS_PER_HOUR * MICROSECONDS_PER_SECOND


@dataclass(frozen=True)
class SessionPart:
    """What a session cost within one billing month."""

    month: str
    start: datetime
    end: datetime
    energy_wh: int
    """Energy delivered in this part, whole Wh; the parts of a session add up to its energy exactly."""
    duration_s: int
    """Whole seconds from ``start`` to ``end`` (parking included); parts add up to the session's."""
    components: tuple[ComponentCharge, ...]
    amount: Decimal
    """Sum of the components' amounts, excluding VAT."""


@dataclass(frozen=True)
class PricedSession:
    """A session priced as a whole and per billing month."""

    session_id: str
    currency: str
    energy_wh: int
    duration_s: int
    components: tuple[ComponentCharge, ...]
    """Charges of the whole session (each rounded once); what a receipt for the session would show."""
    amount: Decimal
    parts: tuple[SessionPart, ...]
    """One part per billing month the session touches, in order; what invoices show."""
    periods: tuple[ChargingPeriod, ...]


def price_session(
    session: Session,
    readings: Iterable[MeterReading],
    *,
    tariff: TariffSpec,
    time_zone: str | ZoneInfo,
    currency: str | None = None,
) -> PricedSession:
    """Price a stopped ``session`` with ``tariff`` (the snapshot in force at its start).

    ``readings`` are the session's energy register readings; ``time_zone`` is the site's, in which
    restrictions and months are read. If ``currency`` is given (the site's), the tariff must be in it.
    Raises a ``SessionNotBillableError`` when the session's data cannot be priced.
    """
    if currency is not None and tariff.currency != currency:
        raise CurrencyMismatchError(currency, tariff.currency, what=f"the tariff of session {session.id}")
    tz = periods.zone(time_zone)
    profile = EnergyProfile.of(session, readings)
    cuts = periods.month_starts_between(profile.start, profile.stop, tz)
    found = charging_periods(profile, tariff=tariff, tz=tz, forced=cuts)
    billed = apply_step_sizes(_billed(found))
    parts = tuple(_parts(session.id, profile, found, billed, tz=tz, currency=tariff.currency))
    # Most sessions lie in one month: their part is the whole session.
    components = parts[0].components if len(parts) == 1 else _charges(billed, tariff.currency)
    return PricedSession(
        session_id=session.id,
        currency=tariff.currency,
        energy_wh=profile.total_wh,
        duration_s=profile.times_us[-1] // MICROSECONDS_PER_SECOND,
        components=components,
        amount=sum((charge.amount for charge in components), round_money(0, tariff.currency)),
        parts=parts,
        periods=tuple(found),
    )


def energy_cost(billed_wh: int, price: Decimal, currency: str) -> Decimal:
    """``billed_wh`` at ``price`` per kWh, rounded to the minor unit."""
    numerator, denominator = price.as_integer_ratio()
    return round_ratio(billed_wh * numerator, denominator * WH_PER_KWH, currency)


def time_cost(billed_us: int, price: Decimal, currency: str) -> Decimal:
    """``billed_us`` microseconds of charging at ``price`` per hour, rounded to the minor unit."""
    numerator, denominator = price.as_integer_ratio()
    return round_ratio(billed_us * numerator, denominator * MICROSECONDS_PER_HOUR, currency)


def parking_cost(billed_us: int, price: Decimal, currency: str) -> Decimal:
    """``billed_us`` microseconds of parking at ``price`` per hour, rounded to the minor unit."""
    return time_cost(billed_us, price, currency)


def flat_cost(price: Decimal, currency: str) -> Decimal:
    """A once-per-session fee, rounded to the minor unit."""
    return round_money(price, currency)


def _billed(found: Sequence[ChargingPeriod]) -> list[Billed]:
    """What each period bills before step sizes; FLAT once, in the first period where an element prices it."""
    billed: list[Billed] = []
    flat_billed = False
    for index, period in enumerate(found):
        for dimension in _DIMENSION_ORDER:
            component = period.components.get(dimension)
            if component is None:
                continue
            if dimension == FLAT:
                quantity = 0 if flat_billed else 1
                flat_billed = True
            elif dimension == ENERGY:
                quantity = period.energy_wh
            else:
                # TIME bills while charging, PARKING_TIME once the car only parks.
                quantity = period.duration_us if (dimension == TIME) is period.charging else 0
            if quantity > 0:
                billed.append(Billed(index, component, quantity))
    return billed


def _parts(
    session_id: str,
    profile: EnergyProfile,
    found: Sequence[ChargingPeriod],
    billed: Sequence[Billed],
    *,
    tz: ZoneInfo,
    currency: str,
) -> Iterable[SessionPart]:
    month_of_period = [periods.month_of(period.start, tz) for period in found]
    for month, indexed in groupby(enumerate(found), key=lambda pair: month_of_period[pair[0]]):
        indices = [index for index, _ in indexed]
        first, last = found[indices[0]], found[indices[-1]]
        components = _charges((entry for entry in billed if month_of_period[entry.period] == month), currency)
        if len(components) > MAX_COMPONENTS_PER_LINE:
            raise TooManyComponentsError(
                session_id,
                f"session {session_id} crosses {len(components)} distinct prices in {month}; "
                f"an invoice line lists at most {MAX_COMPONENTS_PER_LINE}",
            )
        yield SessionPart(
            month=month,
            start=first.start,
            end=last.end,
            energy_wh=sum(found[index].energy_wh for index in indices),
            duration_s=_whole_seconds(profile, last.end) - _whole_seconds(profile, first.start),
            components=components,
            amount=sum((charge.amount for charge in components), round_money(0, currency)),
        )


def _whole_seconds(profile: EnergyProfile, at: datetime) -> int:
    # Whole seconds since the start, so the parts' durations telescope to the session's.
    return profile.offset_us(at) // MICROSECONDS_PER_SECOND


def _charges(billed: Iterable[Billed], currency: str) -> tuple[ComponentCharge, ...]:
    """Billed quantities added up per (dimension, price, VAT rate) in order of first use, each priced once."""
    totals: dict[tuple[TariffDimensionType, Decimal, Decimal | None], int] = {}
    for entry in billed:
        key = (entry.component.type, entry.component.price, entry.component.vat)
        totals[key] = totals.get(key, 0) + entry.quantity
    return tuple(
        _charge(dimension, price, vat, quantity, currency) for (dimension, price, vat), quantity in totals.items()
    )


def _charge(
    dimension: TariffDimensionType, price: Decimal, vat: Decimal | None, quantity: int, currency: str
) -> ComponentCharge:
    if dimension == ENERGY:
        shown = decimal_ratio(quantity, WH_PER_KWH, KWH_DECIMALS)
        amount = energy_cost(quantity, price, currency)
    elif dimension == FLAT:
        shown = Decimal(quantity)
        amount = flat_cost(price, currency) * quantity
    else:
        shown = decimal_ratio(quantity, MICROSECONDS_PER_HOUR, HOURS_DECIMALS)
        amount = time_cost(quantity, price, currency)
    return ComponentCharge(type=dimension, quantity=shown, unit_price=price, amount=amount, vat=vat)
