"""The whole path: the operator emails the invitation, the subscriber opens its link, accepts in the
browser, and their cards reach the charger.

Real kube-apiserver + etcd, the real gateway, a real SMTP server (aiosmtpd on loopback), the operator and
the portal each as their own process with their own ServiceAccount and the one signing key, a simulated
charger over a real websocket, and Debian's Chromium opening the link exactly as the email carries it.
"""

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from tests.e2e.harness import RunningGateway
from tests.e2e.operator_harness import OperatorProcess, get, operator_process, poll, station, wait_condition
from tests.e2e.portal.portal_harness import PHONE, PortalProcess, apply_site, create, subscription
from tests.smtp_harness import HOST, SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CP_ID = "PARKSIDE-N1"
CHARGER_PASSWORD = "example-north-1-secret-pass"  # examples/20-chargers.yaml
TAGS = {"04C1A2B3C4D5E6", "APP-mara-0001"}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def operator(
    control_plane: ControlPlane, gateway: RunningGateway, kubectl: NamespacedKubectl, key: bytes, tmp_path: Path
) -> AsyncIterator[OperatorProcess]:
    """The operator serving this test's namespace, signing links with the portal's key."""
    async with operator_process(
        control_plane,
        gateway.control_url,
        gateway.token,
        kubectl.namespace,
        tmp_path,
        env={"CHARGEOPS_SIGNING_KEY": key.decode()},
    ) as running:
        yield running


async def invite_through(kubectl: NamespacedKubectl, smtp: SmtpServer, portal: PortalProcess) -> None:
    """The examples' site sends invitations through ``smtp`` with links to ``portal``."""
    smtp_settings = {"host": HOST, "port": smtp.port, "starttls": False, "fromAddress": "chargers@parkside.example"}
    invitations = {"smtp": smtp_settings | {"fromName": "Parkside HOA"}, "portalUrl": portal.url}
    patch = json.dumps({"spec": {"invitations": invitations}})
    await asyncio.to_thread(kubectl, "patch", "site", "parkside", "--type=merge", "-p", patch)


@pytest.mark.usefixtures("operator")
async def test_the_link_in_the_email_accepts_and_the_cards_reach_the_charger(
    gateway: RunningGateway, portal: PortalProcess, browser: Browser, kubectl: NamespacedKubectl, smtp: SmtpServer
) -> None:
    async with station(gateway.ocpp_url, CP_ID, CHARGER_PASSWORD) as charger:
        await apply_site(kubectl)
        await invite_through(kubectl, smtp, portal)
        await wait_condition(kubectl, "charger", "garage-north-1", "Ready", status="True", current=True)
        await create(kubectl, subscription("mara", tags=tuple(sorted(TAGS))))

        await poll(smtp.mailbox.messages, showing=lambda: "no email yet")
        [received] = smtp.mailbox.messages()
        assert received.recipients == ["mara@example.com"]
        found = re.search(re.escape(portal.url) + r"/invitation/\S+", received.text)
        assert found is not None, received.text
        assert set(charger.state.local_list.entries) == set()  # not before the answer

        context = await browser.new_context(viewport=PHONE)
        page = await context.new_page()
        try:
            shown = await page.goto(found.group(0))
            assert shown is not None
            assert shown.status == 200
            text = await page.inner_text("main")
            assert "Parkside HOA invites you to charge by the month at Parkside Garage" in text
            for line in ("Otherwise: 0.42 EUR per kWh (plus 21% VAT), billed per 0.1 kWh begun",):
                assert line in received.text
                assert line in text  # the page says what the email said
            async with page.expect_navigation() as navigation:
                await page.get_by_role("button", name="Accept").click()
            answered = await navigation.value
            assert answered is not None
            assert answered.status == 200
        finally:
            await context.close()

        async def active() -> bool:
            body = await get(kubectl, "subscription", "mara")
            status = body.get("status") or {}
            return status.get("phase") == "Active" and bool((status.get("invitation") or {}).get("answeredAt"))

        await poll(active, showing=lambda: "not Active yet")
        await poll(
            lambda: set(charger.state.local_list.entries) == TAGS,
            showing=lambda: set(charger.state.local_list.entries),
        )
        assert len(smtp.mailbox.messages()) == 1
