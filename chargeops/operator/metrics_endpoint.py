"""The operator's HTTP endpoint: ``/metrics`` for Prometheus and ``/healthz`` for a liveness probe.

Started by the operator's start-up handler on ``OperatorSettings.metrics_port`` and stopped by its
clean-up handler. It runs on kopf's own event loop, so a scrape reads kopf's indexes without a lock, and
``/healthz`` answers only while that loop does (what a liveness probe should see).
"""

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chargeops.operator import metrics


async def start(host: str, port: int) -> web.AppRunner:
    """Serve on ``host:port`` until the returned runner is cleaned up."""
    app = web.Application()
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok\n")
