"""Small builders for billing tests: sessions, readings and tariffs written the way the API reads them."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chargeops.api.gateway import MeterReading, Session, SessionFlag
from chargeops.api.v1alpha1 import SiteSpec, SubscriptionSpec, TariffSpec

METER_START_WH = 1_000_000  # a register that has run a while, so offsets are tested, not absolute values


def session(
    start: datetime,
    stop: datetime | None,
    energy_wh: int,
    *,
    id: str = "s-1",
    flags: Sequence[SessionFlag] = (),
    charge_point_id: str = "cp-1",
) -> Session:
    """A session of ``energy_wh`` from ``start`` to ``stop`` (open when ``stop`` is None)."""
    return Session(
        id=id,
        charge_point_id=charge_point_id,
        connector_id=1,
        transaction_id=id,
        id_tag="TAG1",
        started_at=start,
        stopped_at=stop,
        meter_start_wh=METER_START_WH,
        meter_stop_wh=None if stop is None else METER_START_WH + energy_wh,
        energy_wh=None if stop is None else energy_wh,
        flags=list(flags),
        updated_at=stop or start,
    )


def readings(*points: tuple[datetime, int]) -> list[MeterReading]:
    """Register readings given as (instant, Wh since the session's start)."""
    return [MeterReading(timestamp=at, energy_wh=METER_START_WH + wh) for at, wh in points]


def tariff(*elements: dict[str, Any], currency: str = "EUR", monthly_fee: dict[str, str] | None = None) -> TariffSpec:
    """A tariff from its elements in YAML's camelCase shape."""
    spec: dict[str, Any] = {"currency": currency, "elements": list(elements)}
    if monthly_fee is not None:
        spec["monthlyFee"] = monthly_fee
    return TariffSpec.model_validate(spec)


def element(*components: dict[str, Any], **restrictions: Any) -> dict[str, Any]:
    """One tariff element; keyword arguments become its restrictions (camelCase)."""
    found: dict[str, Any] = {"priceComponents": list(components)}
    if restrictions:
        found["restrictions"] = restrictions
    return found


def energy(price: str, *, vat: str | None = None, step: int = 1) -> dict[str, Any]:
    return _component("ENERGY", price, vat, step)


def charging_time(price: str, *, vat: str | None = None, step: int = 1) -> dict[str, Any]:
    return _component("TIME", price, vat, step)


def parking(price: str, *, vat: str | None = None, step: int = 1) -> dict[str, Any]:
    return _component("PARKING_TIME", price, vat, step)


def flat(price: str, *, vat: str | None = None) -> dict[str, Any]:
    return _component("FLAT", price, vat, 1)


def site(*, time_zone: str = "Europe/Amsterdam", currency: str = "EUR") -> SiteSpec:
    return SiteSpec.model_validate({"plan": "Business", "timeZone": time_zone, "currency": currency})


def subscription(*, start_date: str = "2025-01-01", end_date: str | None = None) -> SubscriptionSpec:
    spec: dict[str, Any] = {
        "siteRef": {"name": "parkside"},
        "subscriber": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "idTags": ["TAG1"],
        "chargerRefs": [{"name": "garage-1"}],
        "startDate": start_date,
    }
    if end_date is not None:
        spec["endDate"] = end_date
    return SubscriptionSpec.model_validate(spec)


def _component(kind: str, price: str, vat: str | None, step: int) -> dict[str, Any]:
    component: dict[str, Any] = {"type": kind, "price": price, "stepSize": step}
    if vat is not None:
        component["vat"] = vat
    return component
