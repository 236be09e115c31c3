"""What the operator's handlers share for its whole run: settings, the gateway client, the Secret reader,
the invoice store, the invitations' postman, the gateway's polled observed states, what was handed
over to it and the Charger statuses written lately.

``chargeops operator`` builds one ``Runtime`` and hands it to kopf as the operator-level ``memo``;
handlers take it with ``runtime.of(memo)``.
"""

import asyncio
import base64
import dataclasses
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from chargeops.operator.clock import Clock, SystemClock
from chargeops.operator.errors import SecretNotFoundError
from chargeops.operator.gateway_client import GatewayClient
from chargeops.operator.handover import Handover
from chargeops.operator.invitations import Postman
from chargeops.operator.invoice_store import InvoiceStore
from chargeops.operator.observations import Observations
from chargeops.operator.status_memory import WrittenStatuses

MEMO_KEY = "chargeops_runtime"


@dataclasses.dataclass(frozen=True)
class OperatorSettings:
    """How the operator reaches the gateway, how often it looks, and how it signs invitation links."""

    gateway_url: str
    gateway_token: str
    observe_interval_s: float = 30.0
    # Deleting a Charger waits this long for a connected charger to return to free charging.
    release_timeout_s: float = 120.0
    # Where /metrics and /healthz are served; port 0 serves neither.
    metrics_host: str = "0.0.0.0"  # noqa: S104 - Prometheus scrapes the Pod's address
    metrics_port: int = 0
    # What time it is for billing and subscription dates; tests and the demo move it.
    clock: Clock = dataclasses.field(default_factory=SystemClock)
    # Signs the links of invitation emails (the portal verifies them with the same key); without one, a
    # Subscription of a site that invites by email says SigningKeyMissing.
    signing_key: bytes | None = dataclasses.field(default=None, repr=False)


def api_client(kubeconfig: str | None = None, *, context: str | None = None) -> k8s.ApiClient:
    """A client logged in like kubectl: in-cluster first, then the kubeconfig."""
    try:
        k8s_config.load_incluster_config()  # type: ignore[no-untyped-call]
        return k8s.ApiClient()
    except k8s_config.ConfigException:
        return k8s_config.new_client_from_config(config_file=kubeconfig, context=context)  # type: ignore[no-untyped-call,no-any-return]


class SecretReader:
    """Reads single keys of Secrets (charger passwords, SMTP logins): get only, never list or watch."""

    def __init__(self, api: k8s.CoreV1Api) -> None:
        self.api = api
        # Reads in flight, by (namespace, name). Thousands of Chargers created at once name a handful of
        # Secrets: callers asking while a read of the same Secret is on its way share it. A finished read is
        # never reused, so a Secret created or changed a moment ago is seen by the next caller.
        self._reads: dict[tuple[str, str], asyncio.Future[k8s.V1Secret | None]] = {}

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str | None = None, *, context: str | None = None) -> "SecretReader":
        """Log in like kubectl (in-cluster first, then the kubeconfig)."""
        return cls(k8s.CoreV1Api(api_client(kubeconfig, context=context)))

    async def read(self, namespace: str, name: str, key: str) -> str | None:
        """The value of ``key`` in Secret ``namespace/name``, or None when the Secret or key is missing."""

        def get() -> str | None:
            try:
                secret = self.api.read_namespaced_secret(name, namespace)
            except ApiException as error:
                if error.status == 404:
                    return None
                raise
            data = secret.data or {}
            return base64.b64decode(data[key]).decode() if key in data else None

        return await asyncio.to_thread(get)

    async def require(self, namespace: str, name: str, key: str) -> str:
        """The value of ``key`` in Secret ``namespace/name``; SecretNotFoundError names what is missing.

        Calls made while a read of the same Secret is in flight share that read."""
        secret = await self._shared_read(namespace, name)
        if secret is None:
            raise SecretNotFoundError(namespace, name, key, secret_exists=False)
        data = secret.data or {}
        if key not in data:
            raise SecretNotFoundError(namespace, name, key, secret_exists=True)
        return base64.b64decode(data[key]).decode()

    async def _shared_read(self, namespace: str, name: str) -> k8s.V1Secret | None:
        key = (namespace, name)
        read = self._reads.get(key)
        if read is None:
            read = self._reads[key] = asyncio.ensure_future(asyncio.to_thread(self._get, namespace, name))
            read.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(read)

    def _forget(self, key: tuple[str, str], read: "asyncio.Future[k8s.V1Secret | None]") -> None:
        if self._reads.get(key) is read:
            del self._reads[key]
        if not read.cancelled():
            read.exception()  # retrieved here, so a failure no caller awaited is not logged as lost

    def _get(self, namespace: str, name: str) -> k8s.V1Secret | None:
        try:
            return self.api.read_namespaced_secret(name, namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise


@dataclasses.dataclass(frozen=True)
class Runtime:
    """The operator's shared parts."""

    settings: OperatorSettings
    gateway: GatewayClient
    secrets: SecretReader
    invoices: InvoiceStore
    invitations: Postman
    observations: Observations
    handover: Handover = dataclasses.field(default_factory=Handover)
    statuses: WrittenStatuses = dataclasses.field(default_factory=WrittenStatuses)


def of(memo: Any) -> Runtime:
    """The Runtime kopf carries in ``memo``."""
    runtime = memo[MEMO_KEY]
    assert isinstance(runtime, Runtime)
    return runtime
