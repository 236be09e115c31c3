"""What an invitation offers, in plain words: who invites, at which chargers, at which prices. Pure.

The operator's invitation email and the portal's invitation page both print one ``Offer``, so the two
never say different things. ``describe`` reads the Site, the Subscription, the Chargers it covers and the
Tariffs of the namespace, and applies the billing controller's rules for which prices apply:

- A charger bills by the month only with ``spec.chargingMode.payPerMonth``; elsewhere charging is free.
- The subscription's own ``spec.tariffRef`` replaces each paying charger's tariff.
- One monthly fee per subscription: its own tariff's, else that of the first paying charger (by name)
  whose tariff has one (``operator/billing_pass.py`` ``_monthly_fee``).

Prices are written per OCPI dimension in precedence order: for each dimension the first element that
applies wins, so a restricted element reads "22:00–07:00: …", a later unrestricted one "Otherwise: …",
and elements after an unrestricted one are never reached and not shown.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

from chargeops.api.v1alpha1 import (
    Charger,
    DayOfWeek,
    PriceComponent,
    Site,
    Subscription,
    Tariff,
    TariffDimensionType,
    TariffRestrictions,
)
from chargeops.billing.render import format_amount
from chargeops.invitations.errors import TariffUnavailableError

# Calendar words in English whatever the process locale (strftime's %B follows the locale).
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = tuple(DayOfWeek)  # MONDAY first
# A run of this many weekdays or more reads as a range ("Monday to Friday").
_DAY_RANGE_MIN = 3
# The order dimensions are listed in, and how one unit of each reads.
_UNITS = {
    TariffDimensionType.ENERGY: "per kWh",
    TariffDimensionType.TIME: "per hour of charging",
    TariffDimensionType.PARKING_TIME: "per hour parked without charging",
    TariffDimensionType.FLAT: "per session",
}
WH_PER_KWH = 1000


@dataclasses.dataclass(frozen=True)
class TariffTerms:
    """One price list and the chargers at which it prices this subscriber's sessions."""

    name: str
    """The tariff's display name, e.g. ``Standard energy price``; ``Free charging`` for free chargers."""

    chargers: list[str]
    lines: list[str]
    """Sentences, e.g. ``22:00–07:00: 0.30 EUR per kWh (plus 21% VAT)``."""

    heading: str | None = None
    """``At garage-north-1 (Standard energy price):`` when the offer has several tariffs, else None."""


@dataclasses.dataclass(frozen=True)
class Offer:
    """The facts of an invitation, formatted for people."""

    site_name: str
    """The site's display name, e.g. ``Parkside Garage``."""

    inviter: str
    """Who invites: the sender name of the site's invitations, else the site's name."""

    subscriber_name: str
    chargers: list[str]
    """Names of the covered chargers, sorted."""

    lines: list[str]
    """Every price sentence, ready to print one per line: each tariff's (after its heading, when there
    are several), then the ``notes``."""

    currency: str
    time_zone: str
    """The site's IANA time zone: every time of day and date in ``lines`` is local to it."""

    period: str
    """When the subscription runs, e.g. ``From 1 October 2026, with no end date.``"""

    id_tags: list[str]
    tariffs: list[TariffTerms]
    """The same prices grouped per tariff, for pages that lay them out as sections."""

    notes: list[str]
    """What holds across tariffs: the monthly fee, and the time zone of any time of day."""


def describe(
    site: Site, subscription: Subscription, chargers: Sequence[Charger], tariffs: Mapping[str, Tariff]
) -> Offer:
    """The offer ``site`` makes to ``subscription``'s subscriber at ``chargers`` (those it covers), priced
    by ``tariffs`` (by name; the namespace's). Raises ``TariffUnavailableError`` when a tariff it needs
    is missing: an offer without its prices is not one to send."""
    spec = subscription.spec
    site_name = site.spec.display_name or str(site.metadata.get("name", ""))
    smtp = site.spec.invitations.smtp if site.spec.invitations is not None else None
    ordered = sorted(chargers, key=lambda charger: str(charger.metadata.get("name", "")))
    groups: dict[str | None, list[str]] = {}
    for charger in ordered:
        groups.setdefault(_tariff_name(subscription, charger), []).append(str(charger.metadata.get("name", "")))
    terms = [_terms(name, names, tariffs, several=len(groups) > 1) for name, names in groups.items()]
    notes = [_monthly_fee(subscription, groups, tariffs)]
    if any(_restricted_in_time(tariffs[name]) for name in groups if name is not None):
        notes.append(f"Times and days are local time in {site.spec.time_zone}.")
    lines = [line for term in terms for line in ([term.heading] if term.heading else []) + term.lines] + notes
    return Offer(
        site_name=site_name,
        inviter=(smtp.from_name if smtp is not None and smtp.from_name else site_name),
        subscriber_name=spec.subscriber.name,
        chargers=[str(charger.metadata.get("name", "")) for charger in ordered],
        lines=lines,
        currency=site.spec.currency,
        time_zone=site.spec.time_zone,
        period=_period(spec.start_date, spec.end_date),
        id_tags=list(spec.id_tags),
        tariffs=terms,
        notes=notes,
    )


FREE = "Free charging"


def _tariff_name(subscription: Subscription, charger: Charger) -> str | None:
    mode = charger.spec.charging_mode
    if not mode.pay_per_month or mode.tariff_ref is None:
        return None
    if subscription.spec.tariff_ref is not None:
        return subscription.spec.tariff_ref.name
    return mode.tariff_ref.name


def _terms(name: str | None, chargers: list[str], tariffs: Mapping[str, Tariff], *, several: bool) -> TariffTerms:
    if name is None:
        return TariffTerms(FREE, chargers, [f"Charging at {_and(chargers)} is free."])
    tariff = _require(name, tariffs)
    title = tariff.spec.display_name or name
    heading = f"At {_and(chargers)} ({title}):" if several else None
    return TariffTerms(title, chargers, price_lines(tariff), heading)


def _require(name: str, tariffs: Mapping[str, Tariff]) -> Tariff:
    tariff = tariffs.get(name)
    if tariff is None:
        raise TariffUnavailableError(name)
    return tariff


def price_lines(tariff: Tariff) -> list[str]:
    """The tariff's session prices, one sentence per price that can apply, dimension by dimension."""
    lines = []
    for dimension in _UNITS:
        earlier = False
        for element in tariff.spec.elements:
            component = next((pc for pc in element.price_components if pc.type == dimension), None)
            if component is None:
                continue
            price = price_sentence(component, tariff.spec.currency)
            when = restriction_words(element.restrictions)
            if when is None:
                lines.append(f"Otherwise: {price}" if earlier else _capital(price))
                break  # OCPI: later elements never price this dimension
            lines.append(f"{_capital(when)}: {price}")
            earlier = True
    return lines


def price_sentence(component: PriceComponent, currency: str) -> str:
    """One price in words, e.g. ``0.42 EUR per kWh (plus 21% VAT), billed per 0.1 kWh begun``."""
    sentence = f"{_money(component.price, currency)} {_UNITS[component.type]} {_vat(component.vat)}"
    step = component.step_size
    if component.type is TariffDimensionType.ENERGY and step > 1:
        sentence += f", billed per {_decimal(Decimal(step) / WH_PER_KWH)} kWh begun"
    elif component.type in (TariffDimensionType.TIME, TariffDimensionType.PARKING_TIME) and step > 1:
        sentence += f", billed per {_duration(step)} begun"
    return sentence


def restriction_words(restrictions: TariffRestrictions | None) -> str | None:
    """When an element applies, in words (``Saturday and Sunday, 22:00–07:00``); None for always."""
    if restrictions is None:
        return None
    r = restrictions
    parts = []
    if r.day_of_week:
        parts.append(_days(r.day_of_week))
    start, end = r.start_time or "00:00", r.end_time or "00:00"
    if (r.start_time or r.end_time) and start != end:  # equal times are the whole day (OCPI)
        parts.append(f"{start}–{end if r.end_time else '24:00'}")
    if r.start_date and r.end_date:
        last = date.fromisoformat(r.end_date) - timedelta(days=1)  # endDate is exclusive
        parts.append(f"from {long_date(date.fromisoformat(r.start_date))} to {long_date(last)}")
    elif r.start_date:
        parts.append(f"from {long_date(date.fromisoformat(r.start_date))}")
    elif r.end_date:
        parts.append(f"until {long_date(date.fromisoformat(r.end_date) - timedelta(days=1))}")
    parts.extend(_session_bounds(r))
    return ", ".join(parts) or None


def _session_bounds(r: TariffRestrictions) -> list[str]:
    parts = []
    if r.min_kwh and r.max_kwh:
        parts.append(f"from {_decimal(Decimal(r.min_kwh))} kWh to {_decimal(Decimal(r.max_kwh))} kWh of a session")
    elif r.min_kwh:
        parts.append(f"after the first {_decimal(Decimal(r.min_kwh))} kWh of a session")
    elif r.max_kwh:
        parts.append(f"for the first {_decimal(Decimal(r.max_kwh))} kWh of a session")
    if r.min_duration_s is not None and r.max_duration_s is not None:
        parts.append(f"from {_duration(r.min_duration_s)} to {_duration(r.max_duration_s)} into a session")
    elif r.min_duration_s is not None:
        parts.append(f"after the first {_duration(r.min_duration_s)} of a session")
    elif r.max_duration_s is not None:
        parts.append(f"for the first {_duration(r.max_duration_s)} of a session")
    return parts


def _monthly_fee(
    subscription: Subscription, groups: Mapping[str | None, list[str]], tariffs: Mapping[str, Tariff]
) -> str:
    if subscription.spec.tariff_ref is not None:
        candidates = [subscription.spec.tariff_ref.name]
    else:
        candidates = [name for name in groups if name is not None]  # already in charger-name order
    for name in candidates:
        tariff = _require(name, tariffs)
        fee = tariff.spec.monthly_fee
        if fee is not None:
            return f"Monthly fee: {_money(fee.price, tariff.spec.currency)} per month {_vat(fee.vat)}."
    return "No monthly fee."


def _restricted_in_time(tariff: Tariff) -> bool:
    return any(
        e.restrictions is not None
        and bool(e.restrictions.start_time or e.restrictions.end_time or e.restrictions.day_of_week)
        for e in tariff.spec.elements
    )


def _period(start_date: str, end_date: str | None) -> str:
    start = f"From {long_date(date.fromisoformat(start_date))}"
    if end_date is None:
        return f"{start}, with no end date."
    return f"{start} to {long_date(date.fromisoformat(end_date))}."


def _money(amount: Decimal, currency: str) -> str:
    return f"{format_amount(amount, currency)} {currency}"


def _vat(rate: Decimal | None) -> str:
    return "(no VAT)" if rate is None else f"(plus {_decimal(rate)}% VAT)"


def _decimal(value: Decimal) -> str:
    # normalize() drops trailing zeros ("21.0" -> "21"); format "f" keeps "100" from becoming "1E+2".
    return format(value.normalize(), "f")


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{count} {unit}{'' if count == 1 else 's'}"
        for count, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second"))
        if count
    ]
    return " ".join(parts) or "0 seconds"


def _days(days: Sequence[DayOfWeek]) -> str:
    indexes = sorted({_DAYS.index(DayOfWeek(day)) for day in days})
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    words = []
    for run in runs:
        names = [_DAYS[i].value.capitalize() for i in run]
        words.extend([f"{names[0]} to {names[-1]}"] if len(run) >= _DAY_RANGE_MIN else names)
    return _and(words)


def long_date(day: date) -> str:
    """``day`` for people, e.g. ``1 October 2026``."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _and(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
