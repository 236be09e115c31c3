"""The objects of the invitation tests: a Site that invites through a test SMTP server, its Tariff, Chargers
and Subscriptions, as manifests for the real API server, and a reader of what the email says."""

import re
from typing import Any

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import approval
from tests.smtp_harness import HOST, Received, SmtpServer

PORTAL_URL = "https://charge.parkside.example"
FROM_ADDRESS = "chargers@parkside.example"
# The same key signs (operator) and verifies (portal); tests make one of the minimum length and more.
SIGNING_KEY = b"test-signing-key-for-invitations-0123456789"
SMTP_SECRET = "smtp-login"
SMTP_LOGIN = ("chargers", "s3cret-smtp-pass")
LINK = re.compile(re.escape(PORTAL_URL) + r"/invitation/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")


def site(name: str, server: SmtpServer | None, *, acceptance_required: bool = True) -> dict[str, Any]:
    """A Business site in Amsterdam; with ``server``, invitations go through it (STARTTLS and login as the
    server requires them)."""
    spec: dict[str, Any] = {"displayName": "Parkside Garage", "plan": "Business", "currency": "EUR"}
    spec["timeZone"] = "Europe/Amsterdam"
    if server is not None:
        smtp: dict[str, Any] = {"host": HOST, "port": server.port, "starttls": server.tls is not None}
        smtp |= {"fromAddress": FROM_ADDRESS, "fromName": "Parkside HOA"}
        if server.login is not None:
            smtp["credentialsSecretRef"] = {"name": SMTP_SECRET}
        spec["invitations"] = {"acceptanceRequired": acceptance_required, "smtp": smtp, "portalUrl": PORTAL_URL}
    elif not acceptance_required:
        spec["invitations"] = {"acceptanceRequired": False}
    return {"apiVersion": "chargeops.io/v1alpha1", "kind": "Site", "metadata": {"name": name}, "spec": spec}


TARIFF: dict[str, Any] = {
    "apiVersion": "chargeops.io/v1alpha1",
    "kind": "Tariff",
    "metadata": {"name": "energy-standard"},
    "spec": {
        "displayName": "Standard energy price",
        "currency": "EUR",
        "elements": [
            {
                "restrictions": {"startTime": "23:00", "endTime": "07:00"},
                "priceComponents": [{"type": "ENERGY", "price": "0.25", "vat": "21"}],
            },
            {
                "priceComponents": [
                    {"type": "ENERGY", "price": "0.35", "vat": "21"},
                    {"type": "FLAT", "price": "0.50", "vat": "21"},
                ]
            },
        ],
        "monthlyFee": {"price": "9.90", "vat": "21"},
    },
}
OFFER_LINES = (
    "23:00–07:00: 0.25 EUR per kWh (plus 21% VAT)",
    "Otherwise: 0.35 EUR per kWh (plus 21% VAT)",
    "0.50 EUR per session (plus 21% VAT)",
    "Monthly fee: 9.90 EUR per month (plus 21% VAT).",
)


def charger(name: str, cp_id: str, site_name: str) -> dict[str, Any]:
    """A pay-per-month charger on ``site_name``, approved (the annotation a super-admin would set)."""
    spec = {
        "chargePointId": cp_id,
        "siteRef": {"name": site_name},
        "chargingMode": {"payPerMonth": True, "tariffRef": {"name": "energy-standard"}},
    }
    fingerprint = approval.fingerprint(v1alpha1.ChargerSpec.model_validate(spec))
    metadata = {"name": name, "annotations": {approval.ANNOTATION: fingerprint}}
    return {"apiVersion": "chargeops.io/v1alpha1", "kind": "Charger", "metadata": metadata, "spec": spec}


def subscription(name: str, site_name: str, charger_name: str, *, email: str, person: str) -> dict[str, Any]:
    """A subscription without an answer, covering one charger."""
    return {
        "apiVersion": "chargeops.io/v1alpha1",
        "kind": "Subscription",
        "metadata": {"name": name},
        "spec": {
            "siteRef": {"name": site_name},
            "subscriber": {"name": person, "email": email},
            "idTags": [f"TAG-{name}"],
            "chargerRefs": [{"name": charger_name}],
            "startDate": "2026-01-01",
        },
    }


def smtp_secret() -> dict[str, Any]:
    username, password = SMTP_LOGIN
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SMTP_SECRET},
        "stringData": {"username": username, "password": password},
    }


def token_of(received: Received) -> str:
    """The signed token in the email's link (both parts carry the same)."""
    found = LINK.search(received.text)
    assert found is not None, received.text
    assert found.group(0) in received.html
    return found.group(1)
