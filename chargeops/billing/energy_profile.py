"""A session's energy as a function of time: its register readings joined by straight lines.

The gateway stores the register at start and stop and whatever the charger sampled in between
(``MeterReading``). Between two readings we assume a constant rate, which is what the readings tell and
nothing more; with no readings in between, energy grows pro rata by time. Everything that cuts a session
— a month boundary, a tariff element that starts at 23:00, a ``minKwh`` threshold — reads the energy at
the cut from this profile, so all of them follow one rule (docs/billing-rules.md).

Energy at an instant is exact (a ``Fraction`` of Wh) where restrictions are compared, and integer Wh
(rounded half up) where it is billed. Integer energy at cuts telescopes: the parts of a session always sum
to exactly ``meterStop - meterStart``.

Charging versus parking: a session charges until the first reading at which the register shows its final
value (its last rise) and parks from there to the stop. Pauses before the last rise count as charging: the
charger or the car may pause to balance load, which the driver cannot help. A session whose register
never rises parks all along.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from operator import le, lt

from chargeops.api.gateway import MeterReading, Session
from chargeops.billing.errors import InconsistentMeterReadingsError, InvalidSessionTimesError, SessionOpenError
from chargeops.billing.money import divide_half_up

MICROSECOND = timedelta(microseconds=1)
MICROSECONDS_PER_SECOND = 1_000_000


@dataclass(frozen=True)
class ReadingOffsets:
    """A session's readings as two columns, as the gateway lists them for the billing pass
    (``SessionWithReadingOffsets``): no timestamp or object per reading to make and take apart."""

    offsets_us: Sequence[int]
    """Microseconds from the session's start to each reading."""
    energies_wh: Sequence[int]
    """The register at each of those instants, in Wh."""


# What a profile is made from: the readings as records, or as columns.
Readings = Iterable[MeterReading] | ReadingOffsets


@dataclass(frozen=True)
class EnergyProfile:
    """Energy since ``start`` in Wh, sampled at ``times_us`` (microseconds since ``start``).

    The first sample is ``(0, 0)`` and the last ``(duration, total)``; both lists are non-decreasing.
    """

    session_id: str
    start: datetime
    stop: datetime
    times_us: tuple[int, ...]
    energies_wh: tuple[int, ...]

    @classmethod
    def of(cls, session: Session, readings: Readings) -> "EnergyProfile":
        """The profile of a stopped session from its start and stop registers and readings in between.

        Readings outside the session are ignored. Raises a ``SessionNotBillableError`` when the session is
        open, stops before it starts, or its register goes backwards.
        """
        if session.stopped_at is None or session.meter_stop_wh is None:
            raise SessionOpenError(session.id, f"session {session.id} has not stopped")
        start, stop = session.started_at, session.stopped_at
        if stop < start:
            raise InvalidSessionTimesError(
                session.id, f"session {session.id} stops at {stop.isoformat()}, before it starts"
            )
        base = session.meter_start_wh
        duration = (stop - start) // MICROSECOND
        # Offsets in whole microseconds are exact (so are the timestamps) and sort as the instants do.
        if isinstance(readings, ReadingOffsets):
            listed = _listed(readings, base, duration, session.meter_stop_wh - base)
            if listed is not None:
                return cls(session.id, start, stop, *listed)
            samples = [
                (offset, energy_wh - base)
                for offset, energy_wh in zip(readings.offsets_us, readings.energies_wh, strict=True)
                if 0 < offset < duration
            ]
        else:
            samples = [
                (offset, reading.energy_wh - base)
                for reading in readings
                if 0 < (offset := (reading.timestamp - start) // MICROSECOND) < duration
            ]
        samples.sort()
        samples.append((duration, session.meter_stop_wh - base))
        times, energies = _checked(session.id, samples)
        return cls(session.id, start, stop, times, energies)

    @property
    def total_wh(self) -> int:
        """Energy of the whole session in Wh."""
        return self.energies_wh[-1]

    @property
    def charging_end(self) -> datetime:
        """When the register rose for the last time (the session's start if it never rose)."""
        last_rise = bisect_left(self.energies_wh, self.total_wh)
        return self.instant(self.times_us[last_rise])

    def instant(self, offset_us: int) -> datetime:
        """The instant ``offset_us`` microseconds after the start."""
        return self.start + timedelta(microseconds=offset_us)

    def offset_us(self, at: datetime) -> int:
        """Microseconds from the start to ``at``."""
        return (at - self.start) // MICROSECOND

    def exact_wh_at(self, at: datetime) -> Fraction:
        """Energy since the start at ``at``, interpolated exactly between the readings around it."""
        offset = min(max(self.offset_us(at), 0), self.times_us[-1])
        after = bisect_right(self.times_us, offset)
        if after >= len(self.times_us):
            return Fraction(self.total_wh)
        before = after - 1
        t0, t1 = self.times_us[before], self.times_us[after]
        e0, e1 = self.energies_wh[before], self.energies_wh[after]
        return e0 + Fraction((e1 - e0) * (offset - t0), t1 - t0)

    def wh_at(self, at: datetime) -> int:
        """Energy since the start at ``at`` in whole Wh (rounded half up); exact at every reading."""
        offset = min(max(self.offset_us(at), 0), self.times_us[-1])
        after = bisect_right(self.times_us, offset)
        if after >= len(self.times_us):
            return self.total_wh
        before = after - 1
        t0, t1 = self.times_us[before], self.times_us[after]
        e0, e1 = self.energies_wh[before], self.energies_wh[after]
        # The same interpolation as exact_wh_at, rounded in integers (a hot path of pricing).
        return e0 + divide_half_up((e1 - e0) * (offset - t0), t1 - t0)

    def reaching(self, wh: int) -> datetime | None:
        """The first instant at which the session has delivered ``wh`` (to the next microsecond), or None
        if it never does."""
        if wh <= 0:
            return self.start
        if wh > self.total_wh:
            return None
        after = bisect_left(self.energies_wh, wh)
        before = after - 1
        t0, t1 = self.times_us[before], self.times_us[after]
        e0, e1 = self.energies_wh[before], self.energies_wh[after]
        numerator, denominator = (wh - e0) * (t1 - t0), e1 - e0
        return self.instant(t0 - (-numerator // denominator))


def _listed(
    readings: ReadingOffsets, base: int, duration: int, total: int
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The samples of readings as the gateway lists them — in time order, no two at one instant, the
    register never going back — taken as they are; None for any other readings, which ``_checked`` sorts
    out (or refuses). The same samples either way, without a step per reading in Python."""
    offsets, energies = readings.offsets_us, readings.energies_wh
    if duration <= 0 or len(offsets) != len(energies) or not all(map(lt, offsets, offsets[1:])):
        return None
    # Sorted: the readings inside the session are one slice, strictly between 0 and the duration.
    first, end = bisect_right(offsets, 0), bisect_left(offsets, duration)
    wh = (0, *[energy_wh - base for energy_wh in energies[first:end]], total)
    if not all(map(le, wh, wh[1:])):
        return None
    return (0, *offsets[first:end], duration), wh


def _checked(session_id: str, samples: list[tuple[int, int]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The start ``(0, 0)`` and ``samples`` after it, without repeats, refusing a register that goes
    backwards or reads two values at one time."""
    times = [0]
    energies = [0]
    last_offset = last_wh = 0
    for offset, wh in samples:
        if wh < last_wh:
            raise InconsistentMeterReadingsError(
                session_id,
                f"the energy register of session {session_id} goes back from {last_wh} Wh to {wh} Wh "
                "(relative to its start)",
            )
        if offset == last_offset:
            if wh != last_wh:
                raise InconsistentMeterReadingsError(
                    session_id, f"session {session_id} has two different register readings at one instant"
                )
            continue
        times.append(offset)
        energies.append(wh)
        last_offset, last_wh = offset, wh
    return tuple(times), tuple(energies)
