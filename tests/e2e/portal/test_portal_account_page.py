"""The subscriber's account page in a real browser: this month's sessions from the gateway, the invoices
from the API server, and nothing of anyone else's.

Sessions are made by a charger speaking OCPP 1.6 frames to the real gateway; invoices are written with
kubectl as the billing controller writes them.
"""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, Response

from chargeops.billing import periods
from chargeops.devcluster import ports
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.invitations import tokens
from tests.e2e.harness import PASSWORD, Control, Frames, RawCharger, stamp
from tests.e2e.portal.portal_harness import (
    DESKTOP,
    PHONE,
    PortalProcess,
    apply_site,
    create,
    link,
    portal_process,
    save_screenshot_path,
    subscription,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
]

TAG = "04C1A2B3C4D5E6"
ACCOUNT = tokens.Purpose.ACCOUNT
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def invoice(name: str, subscription_name: str, *, month: str, number: str, label: str | None = None) -> dict[str, Any]:
    """A finalized invoice of ``subscription_name``; ``label`` the subscription label it carries."""
    return {
        "apiVersion": "chargeops.io/v1alpha1",
        "kind": "Invoice",
        "metadata": {
            "name": name,
            "labels": {"chargeops.io/site": "parkside", "chargeops.io/subscription": label or subscription_name},
        },
        "spec": {
            "siteRef": {"name": "parkside"},
            "subscriptionRef": {"name": subscription_name},
            "period": periods.month_period(month, AMSTERDAM).model_dump(mode="json"),
            "currency": "EUR",
            "lines": [
                {
                    "kind": "Session",
                    "description": "Charging at garage-north-1",
                    "sessionId": f"s-{name}",
                    "chargerRef": {"name": "garage-north-1"},
                    "start": f"{month}-05T17:30:00Z",
                    "end": f"{month}-05T19:10:00Z",
                    "energyWh": 21500,
                    "durationS": 6000,
                    "components": [
                        {"type": "ENERGY", "quantity": "21.5", "unitPrice": "0.42", "amount": "9.03", "vat": "21"}
                    ],
                    "amount": "9.03",
                }
            ],
            "subtotal": "9.03",
            "vat": [{"rate": "21", "base": "9.03", "amount": "1.90"}],
            "total": "10.93",
            "finalized": True,
            "number": number,
        },
    }


@pytest.fixture
async def subscriber(kubectl: NamespacedKubectl) -> dict[str, Any]:
    """Mara, accepted, with two invoices; another subscriber with one, and one that pretends to be hers."""
    await apply_site(kubectl)
    mara = subscription("mara", tags=(TAG,))
    mara["metadata"]["annotations"] = {"chargeops.io/accepted": "2026-09-28T18:04:00Z"}
    created = await create(kubectl, mara)
    await create(kubectl, subscription("other", subscriber="Otto Other", tags=("OTTO-0001",)))
    for body in (
        invoice("mara-2026-09", "mara", month="2026-09", number="PARK-000002"),
        invoice("mara-2026-10", "mara", month="2026-10", number="PARK-000005"),
        invoice("other-2026-10", "other", month="2026-10", number="PARK-000006"),
        # Labelled as Mara's, but the billing wrote it for Otto: the spec is what counts.
        invoice("otto-labelled-mara", "other", month="2026-08", number="PARK-000001", label="mara"),
    ):
        await create(kubectl, body)
    return created


async def charge(charger: Frames, tag: str, *, stop_wh: int | None) -> None:
    """One session with ``tag``: stopped at ``stop_wh`` on the register, or still charging."""
    started = await charger.call(
        "StartTransaction", {"connectorId": 1, "idTag": tag, "meterStart": 1000, "timestamp": stamp(-10)}
    )
    if stop_wh is not None:
        stop = {"transactionId": started["transactionId"], "meterStop": stop_wh, "timestamp": stamp(-2)}
        await charger.call("StopTransaction", stop)


@pytest.fixture
async def sessions(control: Control, raw_charger: RawCharger) -> None:
    """At garage-north-1: Mara charged 7.5 kWh, is charging again, a stranger charged; Mara also charged
    at visitor-1, which her subscription does not cover."""
    for cp_id in ("PARKSIDE-N1", "PARKSIDE-V1"):
        await control.put_desired(
            cp_id, password=PASSWORD, authorization="Required", authorizedIdTags=[TAG, "STRANGER-1"]
        )
    north = Frames(await raw_charger("PARKSIDE-N1"))
    await charge(north, TAG, stop_wh=8500)
    await charge(north, "STRANGER-1", stop_wh=3000)
    visitor = Frames(await raw_charger("PARKSIDE-V1"))
    await charge(visitor, TAG, stop_wh=4000)
    await charge(north, TAG, stop_wh=None)


@pytest.fixture
async def page(browser: Browser) -> Any:
    context = await browser.new_context(viewport=PHONE)
    opened = await context.new_page()
    yield opened
    await context.close()


async def opened(page: Page, url: str) -> Response:
    response = await page.goto(url)
    assert response is not None
    return response


@pytest.mark.usefixtures("sessions")
async def test_the_account_shows_this_months_sessions_at_covered_chargers_and_the_invoices(
    page: Page, subscriber: dict[str, Any], portal: PortalProcess, key: bytes
) -> None:
    shown = await opened(page, link(portal.url, subscriber, key=key, purpose=ACCOUNT))

    assert shown.status == 200
    assert shown.headers["cache-control"] == "no-store"
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert await page.inner_text("h1") == "Mara Kovač"
    sessions = await page.inner_text("#sessions + table")
    assert sessions.count("garage-north-1") == 2
    assert "7.500" in sessions  # 8500 - 1000 Wh
    assert "CHARGING" in sessions  # the badge of the open session
    assert "0:08" in sessions  # 10 minutes ago to 2 minutes ago
    assert "PARKSIDE-V1" not in sessions
    assert "visitor-1" not in sessions
    assert "2 sessions, 7.500 kWh. Times in Europe/Amsterdam." in await page.inner_text("main")
    invoices = [
        await row.locator("td").all_text_contents() for row in await page.locator("#invoices + table tbody tr").all()
    ]
    assert invoices == [
        ["October 2026", "PARK-000005", "10.93 EUR", "Finalized"],
        ["September 2026", "PARK-000002", "10.93 EUR", "Finalized"],
    ]


async def test_an_invoice_opens_from_the_account_and_anothers_is_not_found(
    page: Page, subscriber: dict[str, Any], portal: PortalProcess, key: bytes
) -> None:
    account = link(portal.url, subscriber, key=key, purpose=ACCOUNT)
    refused_by_policy: list[str] = []
    page.on("console", lambda m: refused_by_policy.append(m.text) if "Content Security" in m.text else None)
    await opened(page, account)

    async with page.expect_navigation() as navigation:
        await page.get_by_role("link", name="October 2026").click()
    shown = await navigation.value

    assert shown is not None
    assert shown.status == 200
    assert page.url == f"{account}/invoices/mara-2026-10"
    assert "Invoice PARK-000005" in await page.title()
    assert "Mara Kovač" in await page.inner_text("body")
    assert "'sha256-" in shown.headers["content-security-policy"]
    assert shown.headers["cache-control"] == "no-store"
    # The invoice's own inline style is allowed by its hash: the browser refused nothing.
    assert refused_by_policy == []
    for other in ("other-2026-10", "otto-labelled-mara", "no-such-invoice"):
        refused = await opened(page, f"{account}/invoices/{other}")
        assert refused.status == 404, other
        assert await page.inner_text("h1") == "Invoice not found"


async def test_an_invitation_link_does_not_open_the_account(
    page: Page, subscriber: dict[str, Any], portal: PortalProcess, key: bytes
) -> None:
    invitation = link(portal.url, subscriber, key=key, nonce="n")
    token = invitation.rsplit("/", 1)[1]

    shown = await opened(page, f"{portal.url}/account/{token}")

    assert shown.status == 400
    assert "This link is for invitation, not account." in await page.inner_text("main")


async def test_an_expired_account_link_is_refused_with_410(
    page: Page, subscriber: dict[str, Any], portal: PortalProcess, key: bytes
) -> None:
    expired = link(portal.url, subscriber, key=key, purpose=ACCOUNT, valid_for=timedelta(seconds=-1))

    shown = await opened(page, expired)

    assert shown.status == 410
    assert await page.inner_text("h1") == "This link has expired"
    refused = await opened(page, f"{expired}/invoices/mara-2026-10")
    assert refused.status == 410


async def test_without_the_gateway_the_account_still_shows_the_invoices(
    page: Page, subscriber: dict[str, Any], control_plane: ControlPlane, key: bytes, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{ports.free_port()}"  # nothing listens there
    async with portal_process(
        control_plane, gateway_url=nowhere, gateway_token="unused", key=key, folder=tmp_path
    ) as portal:
        shown = await opened(page, link(portal.url, subscriber, key=key, purpose=ACCOUNT))
        assert shown.status == 200
        text = await page.inner_text("main")
        assert "Your sessions cannot be shown right now." in text
        assert "PARK-000005" in text
        await asyncio.sleep(0)  # the log line is written before the response
        assert f"[{subscriber['metadata']['namespace']}/mara] Sessions not shown" in portal.log_text()


@pytest.mark.usefixtures("sessions")
async def test_screenshots_of_the_account_page(
    browser: Browser, subscriber: dict[str, Any], portal: PortalProcess, key: bytes, tmp_path: Path
) -> None:
    for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        try:
            await opened(page, link(portal.url, subscriber, key=key, purpose=ACCOUNT))
            # Readable on a phone: nothing is wider than the screen.
            assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            for path in save_screenshot_path(tmp_path, f"portal-account-{width}"):
                await page.screenshot(path=str(path), full_page=True)
                assert path.stat().st_size > 10_000
        finally:
            await context.close()
