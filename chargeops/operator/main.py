"""Run the operator: kopf with chargeops's handlers, cluster-wide, with one shared ``Runtime``.

``chargeops operator`` calls ``run``; tests call ``run`` in a thread or ``kopf.testing.KopfRunner``.
"""

import asyncio
import gc
import logging
import threading
from collections.abc import Collection

import kopf
from kubernetes import client as k8s

from chargeops.operator import runtime, watch_guard
from chargeops.operator.gateway_client import GatewayClient
from chargeops.operator.handlers import (  # noqa: F401 - importing registers the handlers with kopf
    billing,
    chargers,
    indexes,
    lifecycle,
    prices,
    subscriptions,
)
from chargeops.operator.invitations import Postman
from chargeops.operator.invoice_store import InvoiceStore
from chargeops.operator.observations import Observations
from chargeops.operator.subscription_store import SubscriptionStore

# As the gateway does (chargeops/ocpp_gateway/app.py): the billing pass makes a few objects per session
# line that live until the subscription's invoice is written, and with the default thresholds they were
# promoted and scanned again and again — a fifth of the pass's CPU (bench/billing_run.py). Young
# collections every 50,000 allocations let them die first.
GC_THRESHOLDS = (50_000, 20, 10)


def settle_garbage_collector() -> None:
    """For an operator process, once started: keep the start-up objects (modules, CRD models, schemas)
    out of every collection, and collect the young generations less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def memo_for(settings: runtime.OperatorSettings, *, kubeconfig: str | None = None) -> kopf.Memo:
    """The operator-level memo holding the Runtime; the gateway client is created on the running loop."""
    objects = k8s.CustomObjectsApi(runtime.api_client(kubeconfig))
    secrets = runtime.SecretReader.from_kubeconfig(kubeconfig)
    gateway = GatewayClient(settings.gateway_url, token=settings.gateway_token)
    return kopf.Memo(
        {
            runtime.MEMO_KEY: runtime.Runtime(
                settings=settings,
                gateway=gateway,
                observations=Observations(gateway),
                secrets=secrets,
                invoices=InvoiceStore(objects),
                invitations=Postman(
                    SubscriptionStore(objects), secrets, key=settings.signing_key, clock=settings.clock
                ),
            )
        }
    )


async def run(
    settings: runtime.OperatorSettings,
    *,
    kubeconfig: str | None = None,
    namespaces: Collection[str] = (),
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    """Run until ``stop_flag`` is set (or the process is signalled); cluster-wide unless ``namespaces``.

    Raises ``WatchLostError`` (after stopping kopf) if kopf gives up watching a resource, so that the
    process exits and its Deployment starts it again instead of it running on blind (``watch_guard``).
    """
    lost = asyncio.Event()
    guard = watch_guard.WatchLostHandler(lost, asyncio.get_running_loop())
    kopf_logger = logging.getLogger(watch_guard.KOPF_ORCHESTRATION_LOGGER)
    kopf_logger.addHandler(guard)
    operator = asyncio.create_task(
        kopf.operator(
            clusterwide=not namespaces,
            namespaces=list(namespaces),
            standalone=True,  # one active replica, as DESIGN.md says; no kopf peering objects needed
            memo=memo_for(settings, kubeconfig=kubeconfig),
            stop_flag=stop_flag,
            ready_flag=ready_flag,
        )
    )
    watching = asyncio.create_task(lost.wait())
    try:
        await asyncio.wait({operator, watching}, return_when=asyncio.FIRST_COMPLETED)
        if not lost.is_set():
            await operator  # ended by itself: its result or its error
            return
        raise watch_guard.WatchLostError(f"{guard.message}; exiting so that the operator is restarted")
    finally:
        watching.cancel()
        if not operator.done():  # kopf is stopped before the error leaves (or this task was cancelled)
            operator.cancel()
            await asyncio.gather(operator, return_exceptions=True)
        kopf_logger.removeHandler(guard)
