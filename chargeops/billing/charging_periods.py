"""Cut a session into charging periods: stretches in which the same price components apply.

OCPI 2.2.1 (CDR object, ChargingPeriod) starts a new charging period "every moment/event that has
relevance for the total costs", at least whenever another tariff element becomes active. We cut at every
instant where a restriction may change its answer (``Restrictions.calendar_boundaries``, worked out once
per tariff and local day, and ``session_boundaries``), where charging turns into parking, and at forced
cuts (month boundaries, so no period straddles two invoices). Each stretch is evaluated once, at its
midpoint: no cut lies inside it, so the midpoint stands for all of it. Neighbours with the same components
are merged back, except across a forced cut.

Per dimension the first element of ``spec.elements`` that prices that dimension and whose restrictions hold
wins (OCPI 2.2.1 Tariff object); a dimension no element prices in a period costs nothing there.
"""

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
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

    @property
    def unrestricted(self) -> bool:
        """Whether the element applies everywhere (it has no restrictions)."""
        return self.restrictions == _NO_RESTRICTIONS


@dataclass(frozen=True)
class CompiledTariff:
    """A tariff's elements with their restrictions parsed, read once per tariff snapshot."""

    elements: tuple[_Element, ...]
    always: Mapping[TariffDimensionType, PriceComponent] | None
    """The winning components when no element has restrictions (they never change), else None."""
    uses_energy: bool
    uses_duration: bool
    _days: dict[tuple[date, ZoneInfo], tuple[datetime, ...]] = field(default_factory=dict, compare=False)
    """The calendar boundaries of each local day asked for (``day_boundaries``)."""

    def day_boundaries(self, day: date, tz: ZoneInfo) -> tuple[datetime, ...]:
        """Where any element's time of day, date or weekday condition may change on local ``day``: the same
        few instants for every session of the day, so they are worked out once."""
        found = self._days.get((day, tz))
        if found is None:
            if len(self._days) >= _DAYS_MAX:
                self._days.clear()
            found = tuple({at for element in self.elements for at in element.restrictions.calendar_boundaries(day, tz)})
            self._days[day, tz] = found
        return found

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
        if all(element.unrestricted for element in elements):
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
_NO_RESTRICTIONS = Restrictions()
# Local days a compiled tariff keeps the boundaries of: a year and a bit.
_DAYS_MAX = 400
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
    start, stop, charging_end = profile.start, profile.stop, profile.charging_end
    forced_cuts = {cut for cut in forced if start < cut < stop}
    if compiled.always is None:
        cuts = {*forced_cuts, charging_end}
        for day in restrictions.days(start, stop, tz):
            cuts.update(compiled.day_boundaries(day, tz))
        if compiled.uses_energy or compiled.uses_duration:
            for element in compiled.elements:
                cuts.update(element.restrictions.session_boundaries(profile))
        inner = sorted(cut for cut in cuts if start < cut < stop)
    elif forced_cuts:
        inner = sorted(cut for cut in {*forced_cuts, charging_end} if start < cut < stop)
    else:
        # Most sessions: one price all along, cut only where charging turns into parking.
        inner = [charging_end] if start < charging_end < stop else []
    edges = [start, *inner, stop]
    # Energy at each edge, read once: each period takes the difference of its two ends.
    marks = [0, *(profile.wh_at(edge) for edge in inner), profile.total_wh]
    always = compiled.always
    # The charging end is a cut, so each stretch lies wholly before or after it.
    found = [
        ChargingPeriod(
            start=edges[index],
            end=edges[index + 1],
            energy_wh=marks[index + 1] - marks[index],
            charging=edges[index + 1] <= charging_end,
            components=always
            if always is not None
            else _winning(profile, compiled, tz, edges[index] + (edges[index + 1] - edges[index]) / 2),
        )
        for index in range(len(inner) + 1)
    ]
    # With one price all along, neighbours differ in charging or lie across a forced cut: nothing merges.
    return found if always is not None else _merged(found, forced_cuts)


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
            for dimension in missing:
                components[dimension] = element.components[dimension]
    return components


def _merged(found: list[ChargingPeriod], forced: set[datetime]) -> list[ChargingPeriod]:
    """Neighbours that price alike become one period, except across a forced cut."""
    merged = [found[0]]
    for period in found[1:]:
        last = merged[-1]
        if period.start not in forced and period.charging == last.charging and period.components == last.components:
            merged[-1] = ChargingPeriod(
                start=last.start,
                end=period.end,
                energy_wh=last.energy_wh + period.energy_wh,
                charging=last.charging,
                components=last.components,
            )
        else:
            merged.append(period)
    return merged
