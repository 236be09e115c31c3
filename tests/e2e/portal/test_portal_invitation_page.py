"""The invitation page in a real browser: the offer, Accept and Decline, and every link that must fail.

Real kube-apiserver + etcd, the real gateway, ``chargeops portal`` as its own process with its
ServiceAccount, and Debian's Chromium driven by Playwright. Links are signed in the test with the key the
portal was given; the Subscription's ``status.invitation`` is written as the operator writes it after
sending the email.
"""

import asyncio
import base64
import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, Response

from chargeops.devcluster.controlplane import NamespacedKubectl
from chargeops.invitations import tokens
from tests.e2e.portal.portal_harness import (
    DESKTOP,
    PHONE,
    PortalProcess,
    apply_site,
    create,
    get,
    link,
    mark_sent,
    save_screenshot_path,
    subscription,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
]

ACCEPTED = "chargeops.io/accepted"
DECLINED = "chargeops.io/declined"
XSS = "<img src=x onerror=alert(1)>"


@dataclasses.dataclass
class Invited:
    """A Subscription whose invitation was sent, and the link in that email."""

    body: dict[str, Any]
    url: str


async def invite(kubectl: NamespacedKubectl, portal: PortalProcess, key: bytes, name: str, **spec: Any) -> Invited:
    await apply_site(kubectl)
    created = await create(kubectl, subscription(name, **spec))
    await mark_sent(kubectl, name, nonce="first")
    return Invited(created, link(portal.url, created, key=key, nonce="first"))


@pytest.fixture
async def invited(kubectl: NamespacedKubectl, portal: PortalProcess, key: bytes) -> Invited:
    return await invite(kubectl, portal, key, "mara")


@pytest.fixture
async def page(browser: Browser) -> Any:
    context = await browser.new_context(viewport=PHONE)
    opened = await context.new_page()
    yield opened
    await context.close()


async def annotations(kubectl: NamespacedKubectl, name: str) -> dict[str, str]:
    return dict((await get(kubectl, "subscription", name))["metadata"].get("annotations") or {})


async def press(page: Page, button: str) -> Response:
    """Click ``button`` and return the response of the page it leads to."""
    async with page.expect_navigation() as navigation:
        await page.get_by_role("button", name=button).click()
    response = await navigation.value
    assert response is not None
    return response


async def opened(page: Page, url: str) -> Response:
    response = await page.goto(url)
    assert response is not None
    return response


async def test_the_page_states_the_offer_and_accept_records_the_answer(
    page: Page, invited: Invited, kubectl: NamespacedKubectl, portal: PortalProcess
) -> None:
    refused_by_policy: list[str] = []
    page.on(
        "console",
        lambda message: refused_by_policy.append(message.text) if "Content Security" in message.text else None,
    )

    shown = await opened(page, invited.url)

    assert shown.status == 200
    headers = shown.headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # no script source at all: default-src 'none' forbids every script
    assert "unsafe-inline" not in policy
    text = await page.inner_text("main")
    assert "Hello Mara Kovač" in text
    assert "Parkside Garage invites you to charge by the month" in text
    assert "garage-north-1" in text
    assert "garage-north-2" in text
    assert "0.42 EUR per kWh (plus 21% VAT)" in text
    assert "Monthly fee: 9.90 EUR per month (plus 21% VAT)." in text
    assert "04C1A2B3C4D5E6" in text
    # The inline stylesheet applies (its hash is in the policy): the Accept button is filled, not grey.
    background = await page.get_by_role("button", name="Accept").evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == "rgb(11, 92, 173)"
    assert await annotations(kubectl, "mara") == {}

    answered = await press(page, "Accept")

    assert answered.status == 200
    assert await page.inner_text("h1") == "Thank you, you are subscribed"
    assert answered.headers["cache-control"] == "no-store"
    recorded = await annotations(kubectl, "mara")
    assert list(recorded) == [ACCEPTED]
    datetime.fromisoformat(recorded[ACCEPTED])  # RFC 3339
    assert recorded[ACCEPTED].endswith("Z")
    assert refused_by_policy == []
    # The link is a key: it never reaches the log, and the log names the subscription instead.
    log = portal.log_text()
    assert invited.url.rsplit("/", 1)[1] not in log
    assert f"[{kubectl.namespace}/mara] Invitation accepted." in log
    # The confirmation gives the subscriber their read-only account page, by a signed link of its own.
    await page.click("a.account-link")
    assert "/account/" in page.url
    assert await page.inner_text("h1") == "Mara Kovač"


async def test_a_used_link_answers_no_more_and_says_so(
    page: Page, invited: Invited, kubectl: NamespacedKubectl
) -> None:
    # The invitation open in two tabs: accepted in one, then the other's button pressed.
    other_tab = await page.context.new_page()
    await opened(other_tab, invited.url)
    await opened(page, invited.url)
    await press(page, "Accept")
    first = await annotations(kubectl, "mara")

    again = await press(other_tab, "Decline")

    assert again.status == 409
    assert await other_tab.inner_text("h1") == "Already accepted"
    assert "You accepted this invitation on" in await other_tab.inner_text("main")
    reopened = await opened(page, invited.url)
    assert reopened.status == 409
    assert await page.get_by_role("button").count() == 0
    assert await annotations(kubectl, "mara") == first


async def test_decline_records_the_declined_annotation(
    page: Page, invited: Invited, kubectl: NamespacedKubectl
) -> None:
    await opened(page, invited.url)

    answered = await press(page, "Decline")

    assert answered.status == 200
    assert await page.inner_text("h1") == "You declined the invitation"
    assert list(await annotations(kubectl, "mara")) == [DECLINED]


async def test_two_answers_submitted_at_once_record_one(invited: Invited, kubectl: NamespacedKubectl) -> None:
    async with aiohttp.ClientSession() as http:

        async def submit(answer: str) -> int:
            async with http.post(f"{invited.url}/{answer}") as response:
                return response.status

        statuses = await asyncio.gather(*(submit(answer) for answer in ("accept", "decline") * 3))

    assert sorted(statuses) == [200, 409, 409, 409, 409, 409]
    assert len(await annotations(kubectl, "mara")) == 1


async def test_a_get_of_an_answer_address_changes_nothing(
    page: Page, invited: Invited, kubectl: NamespacedKubectl
) -> None:
    """Mail scanners follow links; only the form's POST answers."""
    landed = await opened(page, f"{invited.url}/accept")

    assert landed.status == 200
    assert page.url == invited.url
    assert await page.get_by_role("button", name="Accept").is_visible()
    assert await annotations(kubectl, "mara") == {}


async def test_an_expired_link_is_refused_with_410(
    page: Page, invited: Invited, kubectl: NamespacedKubectl, portal: PortalProcess, key: bytes
) -> None:
    expired = link(portal.url, invited.body, key=key, nonce="first", valid_for=timedelta(seconds=-1))

    shown = await opened(page, expired)

    assert shown.status == 410
    assert await page.inner_text("h1") == "This link has expired"
    assert "Ask the site's manager for a new invitation." in await page.inner_text("main")
    assert await page.get_by_role("button").count() == 0
    async with aiohttp.ClientSession() as http, http.post(f"{expired}/accept") as response:
        assert response.status == 410
    assert await annotations(kubectl, "mara") == {}


async def test_a_changed_link_is_refused_with_403(
    page: Page, invited: Invited, kubectl: NamespacedKubectl, portal: PortalProcess, key: bytes
) -> None:
    # Someone edits the payload to name another subscription and keeps our signature.
    other = await create(kubectl, subscription("other"))
    payload, signature = invited.url.rsplit("/", 1)[1].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(sub="other", uid=other["metadata"]["uid"])
    forged = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()

    shown = await opened(page, f"{portal.url}/invitation/{forged}.{signature}")

    assert shown.status == 403
    assert await page.inner_text("h1") == "This link is not valid"
    assert "This link was changed or was not issued by us." in await page.inner_text("main")
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{portal.url}/invitation/{forged}.{signature}/accept") as response,
    ):
        assert response.status == 403
    assert await annotations(kubectl, "other") == {}


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "%3Cscript%3E.x", "eyJ9.!!"])
async def test_a_damaged_link_is_refused_with_400(page: Page, portal: PortalProcess, token: str) -> None:
    shown = await opened(page, f"{portal.url}/invitation/{token}")

    assert shown.status == 400
    assert await page.inner_text("h1") == "This link is damaged"
    assert shown.headers["content-security-policy"].startswith("default-src 'none'")


async def test_an_account_link_cannot_answer_an_invitation(
    page: Page, invited: Invited, portal: PortalProcess, key: bytes
) -> None:
    account = link(portal.url, invited.body, key=key, purpose=tokens.Purpose.ACCOUNT)
    token = account.rsplit("/", 1)[1]

    shown = await opened(page, f"{portal.url}/invitation/{token}")

    assert shown.status == 400
    assert "This link is for account, not invitation." in await page.inner_text("main")


async def test_a_link_replaced_by_a_resend_is_refused_with_410_and_the_new_one_works(
    page: Page, invited: Invited, kubectl: NamespacedKubectl, portal: PortalProcess, key: bytes
) -> None:
    await mark_sent(kubectl, "mara", nonce="second")  # the operator sent the invitation again

    old = await opened(page, invited.url)

    assert old.status == 410
    assert await page.inner_text("h1") == "This invitation was replaced"
    assert "Use the link in the latest email." in await page.inner_text("main")

    await opened(page, link(portal.url, invited.body, key=key, nonce="second"))
    assert (await press(page, "Accept")).status == 200
    assert list(await annotations(kubectl, "mara")) == [ACCEPTED]


async def test_a_link_to_a_subscription_deleted_and_made_again_is_refused_with_410(
    page: Page, invited: Invited, kubectl: NamespacedKubectl
) -> None:
    await asyncio.to_thread(kubectl, "delete", "subscription", "mara", "--wait=false")
    await create(kubectl, subscription("mara"))
    await mark_sent(kubectl, "mara", nonce="first")

    shown = await opened(page, invited.url)

    assert shown.status == 410
    assert "The subscription this link was for no longer exists." in await page.inner_text("main")


async def test_a_subscriber_name_with_markup_is_shown_as_text_and_runs_nothing(
    browser: Browser, kubectl: NamespacedKubectl, portal: PortalProcess, key: bytes
) -> None:
    invited = await invite(kubectl, portal, key, "mallory", subscriber=XSS)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    try:
        await opened(page, invited.url)
        assert await page.inner_text("h1") == f"Hello {XSS}"
        assert await page.locator("img").count() == 0

        await press(page, "Accept")
        assert XSS in await page.inner_text("main")
        assert await page.locator("img").count() == 0
    finally:
        await context.close()

    assert dialogs == []
    assert ACCEPTED in await annotations(kubectl, "mallory")


async def test_without_javascript_the_page_still_accepts(
    browser: Browser, invited: Invited, kubectl: NamespacedKubectl
) -> None:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    try:
        await opened(page, invited.url)
        answered = await press(page, "Accept")
        assert answered.status == 200
        assert await page.inner_text("h1") == "Thank you, you are subscribed"
    finally:
        await context.close()
    assert list(await annotations(kubectl, "mara")) == [ACCEPTED]


async def test_an_unknown_address_is_a_page_not_a_traceback(page: Page, portal: PortalProcess) -> None:
    shown = await opened(page, f"{portal.url}/invitation")

    assert shown.status == 404
    assert await page.inner_text("h1") == "Page not found"
    assert shown.headers["cache-control"] == "no-store"


async def test_screenshots_of_the_invitation_page(browser: Browser, invited: Invited, tmp_path: Path) -> None:
    for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        try:
            await opened(page, invited.url)
            # Readable on a phone: nothing is wider than the screen.
            assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            for path in save_screenshot_path(tmp_path, f"portal-invitation-{width}"):
                await page.screenshot(path=str(path), full_page=True)
                assert path.stat().st_size > 10_000
        finally:
            await context.close()
