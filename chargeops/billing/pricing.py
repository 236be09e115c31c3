"""Price one charging session with a tariff snapshot, modelled on OCPI 2.2.1 tariffs.

The billing pass calls ``price_session`` once per session with the tariff in force at the session's
start. The session is cut into charging periods (``charging_periods``), each period bills the dimensions
its winning components price, ``step_size`` rounding is applied once per session (``step_size``), and the
result is grouped per billing month, because a session over a month boundary lands on two invoices.

Within each group, charges of the same dimension, price and VAT rate are added up and each is rounded once
to the currency's minor unit (``money.round_money``): those are the invoice's line items.
"""

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from zoneinfo import ZoneInfo

from chargeops.api.gateway import Session
from chargeops.api.v1alpha1 import ComponentCharge, PriceComponent, TariffDimensionType, TariffSpec
from chargeops.billing import periods, trusted_models
from chargeops.billing.charging_periods import (
    ENERGY,
    FLAT,
    PARKING_TIME,
    TIME,
    ChargingPeriod,
    CompiledTariff,
    charging_periods,
)
from chargeops.billing.energy_profile import MICROSECONDS_PER_SECOND, EnergyProfile, Readings
from chargeops.billing.errors import CurrencyMismatchError, TooManyComponentsError
from chargeops.billing.money import SECONDS_PER_HOUR, WH_PER_KWH, decimal_ratio, round_money, round_ratio, zero
from chargeops.billing.step_size import Billed, apply_step_sizes, round_up_to_step

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
    readings: Readings,
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
    profile, cuts, always, tz = _prepared(session, readings, tariff=tariff, time_zone=time_zone, currency=currency)
    if always is not None and not cuts:
        part = _one_price_part(profile, always, tz=tz, currency=tariff.currency)
        return PricedSession(
            session_id=session.id,
            currency=tariff.currency,
            energy_wh=profile.total_wh,
            duration_s=part.duration_s,
            components=part.components,
            amount=part.amount,
            parts=(part,),
            periods=_one_price_periods(profile, always),
        )
    return _by_periods(session.id, profile, cuts, tariff=tariff, tz=tz)


def session_parts(
    session: Session,
    readings: Readings,
    *,
    tariff: TariffSpec,
    time_zone: str | ZoneInfo,
    currency: str | None = None,
) -> tuple[SessionPart, ...]:
    """``price_session(...).parts`` — what invoices show — without the rest of ``PricedSession``, which
    most sessions (one price, one month) then never build; raises as ``price_session`` does."""
    profile, cuts, always, tz = _prepared(session, readings, tariff=tariff, time_zone=time_zone, currency=currency)
    if always is not None and not cuts:
        return (_one_price_part(profile, always, tz=tz, currency=tariff.currency),)
    return _by_periods(session.id, profile, cuts, tariff=tariff, tz=tz).parts


def _prepared(
    session: Session,
    readings: Readings,
    *,
    tariff: TariffSpec,
    time_zone: str | ZoneInfo,
    currency: str | None,
) -> tuple[EnergyProfile, list[datetime], Mapping[TariffDimensionType, PriceComponent] | None, ZoneInfo]:
    """The session's energy profile, the month starts inside it, the tariff's one price (if it has no
    restrictions) and the zone."""
    if currency is not None and tariff.currency != currency:
        raise CurrencyMismatchError(currency, tariff.currency, what=f"the tariff of session {session.id}")
    tz = periods.zone(time_zone)
    profile = EnergyProfile.of(session, readings)
    cuts = periods.month_starts_between(profile.start, profile.stop, tz)
    return profile, cuts, CompiledTariff.of(tariff).always, tz


def _by_periods(
    session_id: str, profile: EnergyProfile, cuts: Sequence[datetime], *, tariff: TariffSpec, tz: ZoneInfo
) -> PricedSession:
    """The general path: charging periods, what each bills, step sizes, then charges per month."""
    found = charging_periods(profile, tariff=tariff, tz=tz, forced=cuts)
    billed = apply_step_sizes(_billed(found))
    if cuts:
        parts = tuple(_parts(session_id, profile, found, billed, tz=tz, currency=tariff.currency))
        components = _charges(billed, tariff.currency)
        amount = sum((charge.amount for charge in components), zero(tariff.currency))
    else:
        # Most sessions lie in one month: their one part is the whole session.
        parts = (_whole(session_id, profile, billed, tz=tz, currency=tariff.currency),)
        components, amount = parts[0].components, parts[0].amount
    return PricedSession(
        session_id=session_id,
        currency=tariff.currency,
        energy_wh=profile.total_wh,
        duration_s=profile.times_us[-1] // MICROSECONDS_PER_SECOND,
        components=components,
        amount=amount,
        parts=parts,
        periods=tuple(found),
    )


# Most sessions have one price all along (no element has restrictions) and lie in one month. For them the
# rules of the general path (``charging_periods``, ``_billed``, ``apply_step_sizes``, ``_charges``) are
# worked out directly: charging until the register's last rise and parking after it; FLAT once, ENERGY for
# all of the energy, TIME while charging, PARKING_TIME after; step sizes on the totals; charges in the
# order the general path lists them. tests/unit/billing/test_billing_pricing.py holds the two together.


def _charging_us(profile: EnergyProfile) -> int:
    """Microseconds from the start to the register's last rise (0 if it never rose)."""
    return profile.times_us[bisect_left(profile.energies_wh, profile.total_wh)]


def _one_price_periods(
    profile: EnergyProfile, components: Mapping[TariffDimensionType, PriceComponent]
) -> tuple[ChargingPeriod, ...]:
    """The charging periods of a one-price session: charging, then parking after the last rise."""
    start, stop, total_wh = profile.start, profile.stop, profile.total_wh
    charging_us, duration_us = _charging_us(profile), profile.times_us[-1]
    if 0 < charging_us < duration_us:
        charging_end = profile.instant(charging_us)
        return (
            ChargingPeriod(start=start, end=charging_end, energy_wh=total_wh, charging=True, components=components),
            ChargingPeriod(start=charging_end, end=stop, energy_wh=0, charging=False, components=components),
        )
    # The register rose until the stop (or the session has no length): it charged all along; or it never
    # rose: it parked all along.
    charging = charging_us == duration_us
    return (ChargingPeriod(start=start, end=stop, energy_wh=total_wh, charging=charging, components=components),)


def _one_price_part(
    profile: EnergyProfile, components: Mapping[TariffDimensionType, PriceComponent], *, tz: ZoneInfo, currency: str
) -> SessionPart:
    """The one part of a one-price session in one month: all of it."""
    total_wh, duration_us = profile.total_wh, profile.times_us[-1]
    # Charging until the last rise, parking after it (all of it when the register never rose).
    charging_us = _charging_us(profile)
    parking_us = duration_us - charging_us
    quantities: list[tuple[PriceComponent, int]] = []
    flat, energy = components.get(FLAT), components.get(ENERGY)
    time, parking = components.get(TIME), components.get(PARKING_TIME)
    if flat is not None:
        quantities.append((flat, 1))
    if energy is not None and total_wh > 0:
        quantities.append((energy, round_up_to_step(total_wh, energy.step_size)))
    # Step sizes round the parking time where some is billed, else the charging time.
    stepped = parking is None or parking_us == 0
    if time is not None and charging_us > 0:
        step_us = time.step_size * MICROSECONDS_PER_SECOND
        quantities.append((time, round_up_to_step(charging_us, step_us) if stepped else charging_us))
    if parking is not None and parking_us > 0:
        quantities.append((parking, round_up_to_step(parking_us, parking.step_size * MICROSECONDS_PER_SECOND)))
    charges = tuple(_charge(pc.type, pc.price, pc.vat, quantity, currency) for pc, quantity in quantities)
    return SessionPart(
        month=periods.month_of(profile.start, tz),
        start=profile.start,
        end=profile.stop,
        energy_wh=total_wh,
        duration_s=duration_us // MICROSECONDS_PER_SECOND,
        components=charges,
        amount=sum((charge.amount for charge in charges), zero(currency)),
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
        components = _limited(
            session_id, month, _charges((entry for entry in billed if month_of_period[entry.period] == month), currency)
        )
        yield SessionPart(
            month=month,
            start=first.start,
            end=last.end,
            energy_wh=sum(found[index].energy_wh for index in indices),
            duration_s=_whole_seconds(profile, last.end) - _whole_seconds(profile, first.start),
            components=components,
            amount=sum((charge.amount for charge in components), zero(currency)),
        )


def _whole(
    session_id: str, profile: EnergyProfile, billed: Sequence[Billed], *, tz: ZoneInfo, currency: str
) -> SessionPart:
    """The one part of a session that lies in one month: all of it."""
    month = periods.month_of(profile.start, tz)
    components = _limited(session_id, month, _charges(billed, currency))
    return SessionPart(
        month=month,
        start=profile.start,
        end=profile.stop,
        energy_wh=profile.total_wh,
        duration_s=profile.times_us[-1] // MICROSECONDS_PER_SECOND,
        components=components,
        amount=sum((charge.amount for charge in components), zero(currency)),
    )


def _limited(session_id: str, month: str, components: tuple[ComponentCharge, ...]) -> tuple[ComponentCharge, ...]:
    """``components``, or ``TooManyComponentsError`` when one invoice line cannot hold them."""
    if len(components) > MAX_COMPONENTS_PER_LINE:
        raise TooManyComponentsError(
            session_id,
            f"session {session_id} crosses {len(components)} distinct prices in {month}; "
            f"an invoice line lists at most {MAX_COMPONENTS_PER_LINE}",
        )
    return components


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
    """The charge of ``quantity`` (Wh, microseconds or 1) at ``price``; the same charge object for the same
    arguments, since charges repeat (a flat fee, whole minutes of charging, quarter hours of parking) and
    making one costs more than all of its arithmetic."""
    # By identity of the price and the rate: equal Decimals may be written differently ("0.3", "0.30").
    key = (dimension, id(price), id(vat), quantity, currency)
    cached = _CHARGES.get(key)
    if cached is not None and cached[0] is price and cached[1] is vat:
        return cached[2]
    charge = _new_charge(dimension, price, vat, quantity, currency)
    if len(_CHARGES) >= _CHARGES_MAX:
        _CHARGES.clear()
    _CHARGES[key] = (price, vat, charge)
    return charge


# Charges kept for reuse; the prices and rates they hold keep their ids from being reused meanwhile.
_CHARGES_MAX = 4096
_CHARGES: dict[tuple[TariffDimensionType, int, int, int, str], tuple[Decimal, Decimal | None, ComponentCharge]] = {}


def _new_charge(
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
    # Trusted: the price and rate were validated with the tariff, the rest is rounded here.
    return trusted_models.build(
        ComponentCharge, type=dimension, quantity=shown, unit_price=price, amount=amount, vat=vat
    )
