"""What the portal's browser tests share: the portal as a child process, links, the site's objects.

The portal runs as the real ``chargeops portal`` command with its ServiceAccount and the shipped
least-privilege ClusterRole (``deploy/rbac/portal.yaml``), so a page that works here works with only
those rights. Links are signed here with the key the portal is given, as the operator would sign them.
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import aiohttp

from chargeops.devcluster import ports
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.invitations import tokens

ROOT = Path(__file__).resolve().parents[3]
RBAC = ROOT / "deploy" / "rbac" / "portal.yaml"
EXAMPLES = ROOT / "examples"
# Debian's package; Playwright's own browser downloads are never used (`make system-deps` installs it).
CHROMIUM = "/usr/bin/chromium"
# Screenshots go to the test's folder, and to docs/ for the README when this is set to 1.
WRITE_DOCS_ENV = "CHARGEOPS_WRITE_DOCS"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
STARTUP_TIMEOUT_S = 60.0


def service_account_kubeconfig(control_plane: ControlPlane, path: Path) -> Path:
    """A kubeconfig for the portal's ServiceAccount, with the shipped RBAC applied."""
    control_plane.kubectl("apply", "-f", str(RBAC))
    token = control_plane.kubectl(
        "create", "token", "chargeops-portal", "-n", "chargeops-system", "--duration=2h"
    ).stdout.strip()
    cluster = {"server": control_plane.server, "certificate-authority": str(control_plane.ca_file)}
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "dev", "cluster": cluster}],
        "users": [{"name": "portal", "user": {"token": token}}],
        "contexts": [{"name": "portal", "context": {"cluster": "dev", "user": "portal"}}],
        "current-context": "portal",
    }
    path.write_text(json.dumps(document))
    return path


class PortalProcess:
    """``chargeops portal`` as a child process on a free loopback port; its output goes to ``log``."""

    def __init__(self, *, kubeconfig: Path, key_file: Path, gateway_url: str, token_file: Path, log: Path) -> None:
        self.port = ports.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            str(Path(sys.executable).with_name("chargeops")),
            "portal",
            "--listen",
            f"127.0.0.1:{self.port}",
            "--kubeconfig",
            str(kubeconfig),
            "--signing-key-file",
            str(key_file),
            "--gateway-url",
            gateway_url,
            "--gateway-token-file",
            str(token_file),
        ]
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start the process (``start`` also waits until it serves)."""
        self._output = self.log.open("ab")
        # Only the kubeconfig given on the command line: never one from the environment.
        env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
        self._process = subprocess.Popen(self.command, env=env, stdout=self._output, stderr=subprocess.STDOUT)
        return self._process

    async def start(self) -> None:
        """Start it and wait until /healthz answers."""
        process = self.spawn()
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT_S
        async with aiohttp.ClientSession() as http:
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"the portal exited with {process.returncode}:\n{self.log_text()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"the portal did not answer within {STARTUP_TIMEOUT_S} s:\n{self.log_text()}")
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """SIGTERM and wait."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 30)
        if self._output is not None:
            self._output.close()
            self._output = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.asynccontextmanager
async def portal_process(
    control_plane: ControlPlane, *, gateway_url: str, gateway_token: str, key: bytes, folder: Path
) -> AsyncIterator[PortalProcess]:
    """A started portal running as its ServiceAccount; stopped afterwards, its log printed."""
    kubeconfig = await asyncio.to_thread(service_account_kubeconfig, control_plane, folder / "portal.kubeconfig")
    key_file = folder / "signing.key"
    key_file.write_bytes(key + b"\n")  # as `openssl rand -base64 48 > signing.key` writes it
    token_file = folder / "gateway.token"
    token_file.write_text(gateway_token)
    portal = PortalProcess(
        kubeconfig=kubeconfig,
        key_file=key_file,
        gateway_url=gateway_url,
        token_file=token_file,
        log=folder / "portal.log",
    )
    await portal.start()
    try:
        yield portal
    finally:
        await portal.stop()
        print(f"--- portal log ---\n{portal.log_text()}")  # shown by pytest when the test fails


def subscription(
    name: str, *, subscriber: str = "Mara Kovač", tags: tuple[str, ...] = ("04C1A2B3C4D5E6",)
) -> dict[str, Any]:
    """A Subscription at the north garage of the examples' site, started this month, not yet answered."""
    start = datetime.now(UTC).date().replace(day=1)
    return {
        "apiVersion": "chargeops.io/v1alpha1",
        "kind": "Subscription",
        "metadata": {"name": name},
        "spec": {
            "siteRef": {"name": "parkside"},
            "subscriber": {"name": subscriber, "email": f"{name}@example.com"},
            "idTags": list(tags),
            "chargerSelector": {"matchLabels": {"chargeops.io/garage": "north"}},
            "startDate": start.isoformat(),
        },
    }


async def apply_site(kubectl: NamespacedKubectl) -> None:
    """The examples' Site, Tariffs, Secret and Chargers (not their Subscriptions)."""
    for name in ("00-site.yaml", "10-tariffs.yaml", "20-chargers.yaml"):
        await asyncio.to_thread(kubectl, "apply", "-f", str(EXAMPLES / name))


async def create(kubectl: NamespacedKubectl, body: dict[str, Any]) -> dict[str, Any]:
    """Create ``body``; the object as stored."""
    result = await asyncio.to_thread(kubectl, "create", "-o", "json", "-f", "-", input=json.dumps(body))
    return dict(json.loads(result.stdout))


async def get(kubectl: NamespacedKubectl, kind: str, name: str) -> dict[str, Any]:
    result = await asyncio.to_thread(kubectl, "get", kind, name, "-o", "json")
    return dict(json.loads(result.stdout))


async def mark_sent(kubectl: NamespacedKubectl, name: str, *, nonce: str) -> dict[str, Any]:
    """Record in the Subscription's status that invitation ``nonce`` was sent, as the operator does after
    it mailed the link; the Subscription as stored."""
    now = datetime.now(UTC)
    invitation = {
        "sentAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sentTo": f"{name}@example.com",
        "nonce": nonce,
        "expiresAt": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    patch = json.dumps({"status": {"invitation": invitation}})
    result = await asyncio.to_thread(
        kubectl, "patch", "subscription", name, "--subresource=status", "--type=merge", "-p", patch, "-o", "json"
    )
    return dict(json.loads(result.stdout))


def link(
    base: str,
    body: dict[str, Any],
    *,
    key: bytes,
    nonce: str = "",
    purpose: tokens.Purpose = tokens.Purpose.INVITATION,
    valid_for: timedelta = timedelta(days=7),
) -> str:
    """The portal's address for ``body`` (a Subscription as stored), signed with ``key``."""
    claims = tokens.Claims(
        purpose=purpose,
        namespace=body["metadata"]["namespace"],
        subscription=body["metadata"]["name"],
        uid=body["metadata"]["uid"],
        nonce=nonce,
        expires=datetime.now(UTC) + valid_for,
    )
    return f"{base}/{purpose.value}/{tokens.issue(claims, key=key)}"


def save_screenshot_path(folder: Path, name: str) -> list[Path]:
    """Where a screenshot called ``name`` goes: the test's folder, and docs/screenshots/ when asked."""
    paths = [folder / f"{name}.png"]
    if os.environ.get(WRITE_DOCS_ENV) == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        paths.append(DOCS_SCREENSHOTS / f"{name}.png")
    return paths
