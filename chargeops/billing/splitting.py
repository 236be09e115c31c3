"""Split a session that spans a month boundary into the parts each month's invoice bills.

The rule (docs/billing-rules.md): the session is cut at the first instant of each new month in the site's
time zone. The energy at a cut is read from the register readings around it — interpolated linearly
between the last reading before the cut and the first one after it (the session's start and stop
registers count as readings) — and rounded half up to a whole Wh. With no readings in between, that is
the session's energy pro rata by time. Each part gets the energy between its two cuts, so the parts are
whole Wh, never negative, and add up to exactly ``meterStop - meterStart``.

``pricing.price_session`` cuts sessions the same way (it reads the same ``EnergyProfile``); this module
states the rule on its own, for the docs, the tests and anyone who wants the split without the prices.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from chargeops.api.gateway import MeterReading, Session
from chargeops.billing import periods
from chargeops.billing.energy_profile import EnergyProfile


@dataclass(frozen=True)
class SessionSlice:
    """The part of a session inside one billing month."""

    month: str
    start: datetime
    end: datetime
    energy_wh: int


def split_energy(profile: EnergyProfile, cuts: Sequence[datetime]) -> list[int]:
    """Energy in Wh of the pieces of the session between ``cuts`` (inside the session, in order)."""
    marks = [0, *(profile.wh_at(cut) for cut in cuts), profile.total_wh]
    return [after - before for before, after in pairwise(marks)]


def split_by_month(
    session: Session, readings: Iterable[MeterReading], *, time_zone: str | ZoneInfo
) -> list[SessionSlice]:
    """The parts of a stopped ``session`` per month of the site's ``time_zone``, in order."""
    tz = periods.zone(time_zone)
    profile = EnergyProfile.of(session, readings)
    cuts = periods.month_starts_between(profile.start, profile.stop, tz)
    edges = [profile.start, *cuts, profile.stop]
    return [
        SessionSlice(month=periods.month_of(start, tz), start=start, end=end, energy_wh=energy)
        for start, end, energy in zip(edges, edges[1:], split_energy(profile, cuts), strict=False)
    ]
