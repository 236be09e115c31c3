"""Sites, Tariffs, Chargers and Subscriptions for the invitation tests, as the API server would hand them."""

from typing import Any

from chargeops.api import v1alpha1


def site(currency: str = "EUR", **invitations: Any) -> v1alpha1.Site:
    spec: dict[str, Any] = {"displayName": "Parkside Garage", "plan": "Business", "currency": currency}
    spec["timeZone"] = "Europe/Amsterdam"
    if invitations:
        spec["invitations"] = invitations
    return v1alpha1.Site.model_validate({"metadata": {"name": "parkside", "namespace": "ops"}, "spec": spec})


def tariff(name: str, currency: str, elements: list[dict[str, Any]], **extra: Any) -> v1alpha1.Tariff:
    spec = {"currency": currency, "elements": elements, **extra}
    return v1alpha1.Tariff.model_validate({"metadata": {"name": name, "namespace": "ops"}, "spec": spec})


def charger(name: str, tariff_name: str | None) -> v1alpha1.Charger:
    mode = {"payPerMonth": True, "tariffRef": {"name": tariff_name}} if tariff_name else {}
    spec = {"chargePointId": name.upper(), "siteRef": {"name": "parkside"}, "chargingMode": mode}
    return v1alpha1.Charger.model_validate({"metadata": {"name": name, "namespace": "ops"}, "spec": spec})


def subscription(**spec: Any) -> v1alpha1.Subscription:
    body = {
        "siteRef": {"name": "parkside"},
        "subscriber": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "idTags": ["04A2B3C4D5E6F7", "APP-ada-7f3c"],
        "chargerSelector": {"matchLabels": {"garage": "north"}},
        "startDate": "2026-10-01",
        **spec,
    }
    return v1alpha1.Subscription.model_validate({"metadata": {"name": "ada", "namespace": "ops"}, "spec": body})


OFF_PEAK = tariff(
    "energy-standard",
    "EUR",
    [
        {
            "restrictions": {"startTime": "23:00", "endTime": "07:00"},
            "priceComponents": [{"type": "ENERGY", "price": "0.25", "vat": "21", "stepSize": 100}],
        },
        {
            "restrictions": {"dayOfWeek": ["SUNDAY", "SATURDAY"]},
            "priceComponents": [{"type": "ENERGY", "price": "0.3", "vat": "21"}],
        },
        {
            "priceComponents": [
                {"type": "ENERGY", "price": "0.35", "vat": "21"},
                {"type": "FLAT", "price": "0.50", "vat": "21"},
            ]
        },
        # Never reached: the element above prices ENERGY whenever nothing earlier does.
        {"priceComponents": [{"type": "ENERGY", "price": "9.99"}]},
    ],
    displayName="Standard energy price",
)
HOURLY = tariff(
    "time-and-fee",
    "EUR",
    [
        {
            "restrictions": {"minDurationS": 14400},
            "priceComponents": [{"type": "PARKING_TIME", "price": "1.00", "vat": "21", "stepSize": 900}],
        },
        {"priceComponents": [{"type": "TIME", "price": "2.4", "vat": "21", "stepSize": 900}]},
    ],
    displayName="Hourly rate with monthly fee",
    monthlyFee={"price": "9.90", "vat": "21"},
)
TARIFFS = {t.metadata["name"]: t for t in (OFF_PEAK, HOURLY)}
