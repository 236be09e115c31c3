"""Run the operator: kopf with chargeops's handlers, cluster-wide, with one shared ``Runtime``.

``chargeops operator`` calls ``run``; tests call ``run`` in a thread or ``kopf.testing.KopfRunner``.
"""

import asyncio
import threading
from collections.abc import Collection

import kopf
from kubernetes import client as k8s

from chargeops.operator import runtime
from chargeops.operator.gateway_client import GatewayClient
from chargeops.operator.handlers import (  # noqa: F401 - importing registers the handlers with kopf
    billing,
    chargers,
    indexes,
    lifecycle,
    prices,
    subscriptions,
)
from chargeops.operator.invoice_store import InvoiceStore


def memo_for(settings: runtime.OperatorSettings, *, kubeconfig: str | None = None) -> kopf.Memo:
    """The operator-level memo holding the Runtime; the gateway client is created on the running loop."""
    return kopf.Memo(
        {
            runtime.MEMO_KEY: runtime.Runtime(
                settings=settings,
                gateway=GatewayClient(settings.gateway_url, token=settings.gateway_token),
                secrets=runtime.SecretReader.from_kubeconfig(kubeconfig),
                invoices=InvoiceStore(k8s.CustomObjectsApi(runtime.api_client(kubeconfig))),
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
    """Run until ``stop_flag`` is set (or the process is signalled); cluster-wide unless ``namespaces``."""
    await kopf.operator(
        clusterwide=not namespaces,
        namespaces=list(namespaces),
        standalone=True,  # one active replica, as DESIGN.md says; no kopf peering objects needed
        memo=memo_for(settings, kubeconfig=kubeconfig),
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )
