"""Accept in the browser, and the subscriber's card reaches the charger: the whole path but the email.

Real kube-apiserver + etcd, the real gateway, the operator and the portal each as their own process with
their own ServiceAccount, a simulated charger over a real websocket, and Debian's Chromium. What the
charger holds is read from the simulated charger itself.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from tests.e2e.harness import RunningGateway
from tests.e2e.operator_harness import OperatorProcess, get, operator_process, poll, station, wait_condition
from tests.e2e.portal.portal_harness import PHONE, PortalProcess, apply_site, create, link, mark_sent, subscription

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CP_ID = "PARKSIDE-N1"
CHARGER_PASSWORD = "example-north-1-secret-pass"  # examples/20-chargers.yaml
TAGS = {"04C1A2B3C4D5E6", "APP-mara-0001"}


async def phase(kubectl: NamespacedKubectl, name: str) -> str | None:
    return (await get(kubectl, "subscription", name)).get("status", {}).get("phase")


@pytest.fixture
async def operator(
    control_plane: ControlPlane, gateway: RunningGateway, kubectl: NamespacedKubectl, tmp_path: Path
) -> AsyncIterator[OperatorProcess]:
    """The operator serving this test's namespace through ``gateway``, as its ServiceAccount."""
    async with operator_process(
        control_plane, gateway.control_url, gateway.token, kubectl.namespace, tmp_path
    ) as running:
        yield running


@pytest.mark.usefixtures("operator")
async def test_accepting_in_the_browser_makes_the_subscription_active_and_puts_its_tags_on_the_charger(
    gateway: RunningGateway, portal: PortalProcess, browser: Browser, kubectl: NamespacedKubectl, key: bytes
) -> None:
    async with station(gateway.ocpp_url, CP_ID, CHARGER_PASSWORD) as charger:
        await apply_site(kubectl)
        await wait_condition(kubectl, "charger", "garage-north-1", "Ready", status="True", current=True)
        created = await create(kubectl, subscription("mara", tags=tuple(sorted(TAGS))))
        await mark_sent(kubectl, "mara", nonce="first")
        await poll(lambda: phase(kubectl, "mara"), showing=lambda: "no phase yet")
        assert await phase(kubectl, "mara") == "Pending"
        assert set(charger.state.local_list.entries) == set()  # not before the answer

        context = await browser.new_context(viewport=PHONE)
        page = await context.new_page()
        try:
            await page.goto(link(portal.url, created, key=key, nonce="first"))
            async with page.expect_navigation() as navigation:
                await page.get_by_role("button", name="Accept").click()
            answered = await navigation.value
            assert answered is not None
            assert answered.status == 200
        finally:
            await context.close()

        async def active() -> bool:
            return await phase(kubectl, "mara") == "Active"

        await poll(active)
        await poll(
            lambda: set(charger.state.local_list.entries) == TAGS,
            showing=lambda: set(charger.state.local_list.entries),
        )
