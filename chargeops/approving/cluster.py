"""Live Chargers: read one, and set its approval as the kubeconfig's user.

The patch goes out under the caller's own identity, so the API server — RBAC and the
ValidatingAdmissionPolicy ``approval.chargeops.io`` — decides whether that user may approve; this
module never works around a refusal, it reports the server's words. The patch carries the
resourceVersion that was read, so a Charger whose mode or tariff changed in between is not approved by
accident.
"""

import dataclasses
import json
from typing import Any, cast

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from chargeops.api.v1alpha1 import GROUP, VERSION, approval
from chargeops.approving import errors, states

PLURAL = "chargers"
# kubectl's fallback when neither -n nor the kubeconfig context names a namespace.
DEFAULT_NAMESPACE = "default"


@dataclasses.dataclass(frozen=True)
class Connection:
    """An API client logged in as the kubeconfig context's user, and that context's namespace."""

    api: k8s.CustomObjectsApi
    default_namespace: str


@dataclasses.dataclass(frozen=True)
class LiveCharger:
    """A Charger as read from the API server: its approval state and the version it was read at."""

    state: states.ApprovalState
    namespace: str
    resource_version: str


def connect(kubeconfig: str | None = None, *, context: str | None = None) -> Connection:
    """Log in like kubectl: ``kubeconfig`` (else ``$KUBECONFIG``, ``~/.kube/config``) and ``context`` (else current)."""
    try:
        api_client = k8s_config.new_client_from_config(config_file=kubeconfig, context=context)  # type: ignore[no-untyped-call]
        contexts, current = k8s_config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    except (k8s_config.ConfigException, OSError) as exc:
        where = kubeconfig or "the default kubeconfig ($KUBECONFIG or ~/.kube/config)"
        raise errors.ClusterUnavailableError(f"Cannot use {where}: {exc}") from exc
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    namespace = ((chosen or {}).get("context") or {}).get("namespace") or DEFAULT_NAMESPACE
    return Connection(api=k8s.CustomObjectsApi(api_client), default_namespace=str(namespace))


def read(connection: Connection, name: str, *, namespace: str) -> LiveCharger:
    """The Charger ``namespace/name`` and its approval state."""
    try:
        obj = connection.api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except ApiException as exc:
        raise _translate(exc, name=name, namespace=namespace, doing="read") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise _unreachable(connection, exc) from exc
    charger = cast(dict[str, Any], obj)
    return LiveCharger(
        state=states.assess(charger),
        namespace=namespace,
        resource_version=str(charger["metadata"]["resourceVersion"]),
    )


def approve(connection: Connection, charger: LiveCharger) -> None:
    """Set the approval annotation to the expected value, if the Charger is still at the version read."""
    # A JSON merge patch touches only this annotation; resourceVersion turns it into a compare-and-set.
    body = {
        "metadata": {
            "resourceVersion": charger.resource_version,
            "annotations": {approval.ANNOTATION: charger.state.expected},
        }
    }
    name = charger.state.name
    try:
        connection.api.patch_namespaced_custom_object(GROUP, VERSION, charger.namespace, PLURAL, name, body)
    except ApiException as exc:
        raise _translate(exc, name=name, namespace=charger.namespace, doing="approve") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise _unreachable(connection, exc) from exc


def _translate(exc: ApiException, *, name: str, namespace: str, doing: str) -> errors.ApprovalError:
    """The API server's refusal as an ``ApprovalError`` that carries its own message."""
    message = _server_message(exc)
    if exc.status == 404:
        return errors.ChargerNotFoundError(
            f"charger/{name} does not exist in namespace {namespace}.", name=name, namespace=namespace
        )
    if exc.status == 409:
        return errors.ChargerChangedError(
            f"charger/{name} changed while it was being approved; look at it again and rerun the command."
        )
    if exc.status in (400, 401, 403, 422):
        return errors.ApprovalDeniedError(f"Cannot {doing} charger/{name}: {message}", status=int(exc.status))
    return errors.ApprovalError(f"Cannot {doing} charger/{name}: the API server answered {exc.status}: {message}")


def _server_message(exc: ApiException) -> str:
    """The ``message`` of the Status object the server sent, else the HTTP reason."""
    try:
        status = json.loads(exc.body or "")
    except (TypeError, ValueError):
        return str(exc.reason)
    return str(status.get("message") or exc.reason) if isinstance(status, dict) else str(exc.reason)


def _unreachable(connection: Connection, exc: Exception) -> errors.ClusterUnavailableError:
    host = connection.api.api_client.configuration.host
    return errors.ClusterUnavailableError(f"The API server at {host} did not answer: {exc}")
