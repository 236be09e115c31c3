"""Cut a session into charging periods: stretches in which the same price components apply.

OCPI 2.2.1 (CDR object, ChargingPeriod) starts a new charging period "every moment/event that has
relevance for the total costs", at least whenever another tariff element becomes active. We cut at every
instant where a restriction may change its answer (``Restrictions.boundaries``), where charging turns into
parking, and at forced cuts (month boundaries, so no period straddles two invoices). Each stretch is
evaluated once, at its midpoint: no cut lies inside it, so the midpoint stands for all of it. Neighbours
with the same components are merged back, except across a forced cut.

Per dimension the first element of ``spec.elements`` that prices that dimension and whose restrictions hold
wins (OCPI 2.2.1 Tariff object); a dimension no element prices in a period costs nothing there.
"""

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

from chargeops.api.v1alpha1 import PriceComponent, TariffDimensionType, TariffSpec
from chargeops.billing import restrictions
from chargeops.billing.energy_profile import MICROSECOND, MICROSECONDS_PER_SECOND, EnergyProfile
from chargeops.billing.restrictions import Restrictions

ENERGY = TariffDimensionType.ENERGY
FLAT = TariffDimensionType.FLAT
PARKING_TIME = TariffDimensionType.PARKING_TIME
TIME = TariffDimensionType.TIME


@dataclass(frozen=True)
class ChargingPeriod:
    """A stretch of a session with one set of active price components."""

    start: datetime
    end: datetime
    energy_wh: int
    """Energy delivered in the stretch, whole Wh (the profile's integer energy at both ends)."""
    charging: bool
    """True while the register still rises (TIME applies), False once the car only parks (PARKING_TIME)."""
    components: Mapping[TariffDimensionType, PriceComponent]
    """The winning price component of each dimension that some element prices here."""

    @property
    def duration_us(self) -> int:
        """Length of the stretch in microseconds (the resolution of the timestamps)."""
        return (self.end - self.start) // MICROSECOND


@dataclass(frozen=True)
class _Element:
    restrictions: Restrictions
    components: Mapping[TariffDimensionType, PriceComponent]


@dataclass(frozen=True)
class CompiledTariff:
    """A tariff's elements with their restrictions parsed, read once per tariff snapshot."""

    elements: tuple[_Element, ...]
    always: Mapping[TariffDimensionType, PriceComponent] | None
    """The winning components when no element has restrictions (they never change), else None."""
    uses_energy: bool
    uses_duration: bool

    @classmethod
    def of(cls, tariff: TariffSpec) -> "CompiledTariff":
        """The compiled form of ``tariff``; a billing pass prices many sessions with one snapshot, so the
        last few are kept (by identity: a snapshot is immutable)."""
        cached = _COMPILED.get(id(tariff))
        if cached is not None and cached[0] is tariff:
            return cached[1]
        elements = tuple(
            _Element(Restrictions.parse(element.restrictions), {pc.type: pc for pc in element.price_components})
            for element in tariff.elements
        )
        always: dict[TariffDimensionType, PriceComponent] | None = None
        if all(element.restrictions == Restrictions() for element in elements):
            always = {}
            for element in elements:
                always.update((kind, pc) for kind, pc in element.components.items() if kind not in always)
        compiled = cls(
            elements,
            always,
            uses_energy=any(element.restrictions.uses_energy for element in elements),
            uses_duration=any(element.restrictions.uses_duration for element in elements),
        )
        with _COMPILED_LOCK:  # the operator may price in several threads
            if len(_COMPILED) >= _COMPILED_MAX:
                _COMPILED.pop(next(iter(_COMPILED)))
            _COMPILED[id(tariff)] = (tariff, compiled)
        return compiled


_NOTHING = Fraction(0)
# Tariff snapshots kept compiled; a pass over a site meets a handful of them.
_COMPILED_MAX = 64
_COMPILED: dict[int, tuple[TariffSpec, CompiledTariff]] = {}
_COMPILED_LOCK = threading.Lock()


def charging_periods(
    profile: EnergyProfile, *, tariff: TariffSpec, tz: ZoneInfo, forced: Iterable[datetime] = ()
) -> list[ChargingPeriod]:
    """The charging periods of the session behind ``profile`` under ``tariff``, in time order.

    ``forced`` instants inside the session always end a period (month boundaries). A session that stops
    when it starts has one period of zero length, so a FLAT fee still applies.
    """
    compiled = CompiledTariff.of(tariff)
    forced_cuts = {cut for cut in forced if profile.start < cut < profile.stop}
    cuts = set(forced_cuts)
    cuts.add(profile.charging_end)
    if compiled.always is None:
        local_days = restrictions.days(profile.start, profile.stop, tz)
        for element in compiled.elements:
            cuts.update(element.restrictions.boundaries(profile, tz, local_days))
    inner = sorted(cut for cut in cuts if profile.start < cut < profile.stop)
    edges = [profile.start, *inner, profile.stop]
    charging_end = profile.charging_end
    # The charging end is a cut, so each stretch lies wholly before or after it.
    found = [_period(profile, compiled, tz, start, end, charging=end <= charging_end) for start, end in pairwise(edges)]
    return _merged(found, forced_cuts)


def _period(
    profile: EnergyProfile,
    compiled: CompiledTariff,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    charging: bool,
) -> ChargingPeriod:
    components = compiled.always
    if components is None:
        components = _winning(profile, compiled, tz, start + (end - start) / 2)
    return ChargingPeriod(
        start=start,
        end=end,
        energy_wh=profile.wh_at(end) - profile.wh_at(start),
        charging=charging,
        components=components,
    )


def _winning(
    profile: EnergyProfile, compiled: CompiledTariff, tz: ZoneInfo, at: datetime
) -> dict[TariffDimensionType, PriceComponent]:
    """Per dimension, the component of the first element that prices it and applies at ``at``."""
    local = at.astimezone(tz)
    # Exact energy and elapsed time cost Fractions; read them only if some restriction asks.
    energy = profile.exact_wh_at(at) if compiled.uses_energy else _NOTHING
    elapsed = Fraction(profile.offset_us(at), MICROSECONDS_PER_SECOND) if compiled.uses_duration else _NOTHING
    components: dict[TariffDimensionType, PriceComponent] = {}
    for element in compiled.elements:
        missing = [dimension for dimension in element.components if dimension not in components]
        if missing and element.restrictions.applies(local, energy_wh=energy, elapsed_s=elapsed):
            components.update((dimension, element.components[dimension]) for dimension in missing)
    return components


def _merged(found: list[ChargingPeriod], forced: set[datetime]) -> list[ChargingPeriod]:
    """Neighbours that price alike become one period, except across a forced cut."""
    merged = [found[0]]
    for period in found[1:]:
        last = merged[-1]
        if period.start not in forced and period.charging == last.charging and period.components == last.components:
            merged[-1] = replace(last, end=period.end, energy_wh=last.energy_wh + period.energy_wh)
        else:
            merged.append(period)
    return merged
