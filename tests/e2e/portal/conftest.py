"""Fixtures of the portal's browser tests: Debian's Chromium through Playwright, a portal per test.

``database_url`` overrides the e2e one (both store backends) with SQLite alone: the backend adds nothing
here. ``browser`` is one headless Chromium for the session; each test opens its own context, so cookies
and settings never leak between tests. ``portal`` is ``chargeops portal`` serving the real control plane
and this test's gateway, checking links with ``key``.
"""

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from chargeops.devcluster.controlplane import ControlPlane
from tests.e2e.harness import RunningGateway
from tests.e2e.portal.portal_harness import CHROMIUM, PortalProcess, portal_process


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian's package; Playwright drives it over its driver."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (Debian package chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The gateway's store for one test: SQLite only, as the store's backend adds nothing to these tests."""
    return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def key() -> bytes:
    """The key that signs this test's links, as text (what `openssl rand -base64 48` gives)."""
    return secrets.token_urlsafe(48).encode()


@pytest.fixture
async def portal(
    control_plane: ControlPlane, gateway: RunningGateway, key: bytes, tmp_path: Path
) -> AsyncIterator[PortalProcess]:
    async with portal_process(
        control_plane, gateway_url=gateway.control_url, gateway_token=gateway.read_token or "", key=key, folder=tmp_path
    ) as running:
        yield running
