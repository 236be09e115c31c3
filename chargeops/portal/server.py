"""``chargeops portal`` running: the application on a port, the API server and gateway clients it uses.

``cli/portal.py`` builds ``PortalSettings`` and awaits ``serve`` until a signal sets ``stop``; tests start
the same thing as the real command in a child process.
"""

import asyncio
import dataclasses
import logging
import signal

from aiohttp import web
from kubernetes import client as k8s

from chargeops.invitations import tokens
from chargeops.operator import runtime
from chargeops.operator.gateway_client import GatewayClient
from chargeops.portal import app
from chargeops.portal.cluster import Cluster

log = logging.getLogger(__name__)
ACCESS_LOGGER = "chargeops.portal.access"


@dataclasses.dataclass(frozen=True)
class PortalSettings:
    """Where the portal listens, the key that checks links, and how it reaches the gateway and cluster."""

    host: str
    port: int
    signing_key: bytes = dataclasses.field(repr=False)
    gateway_url: str
    gateway_token: str = dataclasses.field(repr=False)
    kubeconfig: str | None = None

    def __post_init__(self) -> None:
        if len(self.signing_key) < tokens.MIN_KEY_BYTES:
            raise ValueError(
                f"the signing key needs at least {tokens.MIN_KEY_BYTES} bytes, got {len(self.signing_key)}"
            )


async def serve(settings: PortalSettings, *, stop: asyncio.Event) -> None:
    """Serve the portal until ``stop`` is set."""
    cluster = Cluster(k8s.CustomObjectsApi(runtime.api_client(settings.kubeconfig)))
    async with GatewayClient(settings.gateway_url, token=settings.gateway_token) as gateway:
        application = app.application(cluster=cluster, gateway=gateway, key=settings.signing_key)
        runner = web.AppRunner(
            application, access_log_class=app.AccessLogger, access_log=logging.getLogger(ACCESS_LOGGER)
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.host, settings.port).start()
            log.info("Portal listening on http://%s:%s.", settings.host, settings.port)
            await stop.wait()
        finally:
            await runner.cleanup()


async def serve_until_signalled(settings: PortalSettings) -> None:
    """Serve the portal until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, stop=stop)
