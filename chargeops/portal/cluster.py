"""What the portal reads from the API server, and the one write it makes: the subscriber's answer.

The kubernetes client blocks, so every call runs in a thread (as ``operator/invoice_store.py`` does) and
returns the typed models of ``chargeops.api.v1alpha1``. The portal's ServiceAccount may get, list and
watch the five kinds and patch Subscriptions, nothing else (``deploy/rbac/portal.yaml``).
"""

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chargeops.api.v1alpha1 import GROUP, VERSION, Charger, Invoice, Resource, Site, Subscription, Tariff
from chargeops.operator.invoice_store import SUBSCRIPTION_LABEL
from chargeops.portal.errors import AnswerConflictError

Model = TypeVar("Model", bound=Resource)


class Cluster:
    """The portal's reads and its one patch, through the API server."""

    def __init__(self, api: k8s.CustomObjectsApi) -> None:
        self.api = api

    async def subscription(self, namespace: str, name: str) -> Subscription | None:
        """The Subscription, or None when there is none of that name."""
        return await self._get(Subscription, namespace, name)

    async def site(self, namespace: str, name: str) -> Site | None:
        """The Site, or None."""
        return await self._get(Site, namespace, name)

    async def tariff(self, namespace: str, name: str) -> Tariff | None:
        """The Tariff, or None."""
        return await self._get(Tariff, namespace, name)

    async def invoice(self, namespace: str, name: str) -> Invoice | None:
        """The Invoice, or None."""
        return await self._get(Invoice, namespace, name)

    async def chargers(self, namespace: str) -> list[Charger]:
        """Every Charger of the namespace (a subscription may pick them by label)."""
        return await self._list(Charger, namespace)

    async def invoices(self, namespace: str, *, subscription: str) -> list[Invoice]:
        """The invoices of ``subscription``, found by their label and checked by their spec: a label is a
        hint anyone with write access could copy, ``spec.subscriptionRef`` is what the billing wrote."""
        listed = await self._list(Invoice, namespace, label_selector=f"{SUBSCRIPTION_LABEL}={subscription}")
        return [invoice for invoice in listed if invoice.spec.subscription_ref.name == subscription]

    async def annotate(self, namespace: str, name: str, *, key: str, value: str, resource_version: str) -> Subscription:
        """Set one annotation on the Subscription, only if it is still at ``resource_version``.

        A merge patch that names ``metadata.resourceVersion`` is refused with 409 when the object changed
        since; that becomes ``AnswerConflictError``, and the caller reads again before trying once more.
        """
        patch = {"metadata": {"resourceVersion": resource_version, "annotations": {key: value}}}
        try:
            body = await _run(
                self.api.patch_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                Subscription.names.plural,
                name,
                patch,
            )
        except ApiException as error:
            if error.status == 409:
                raise AnswerConflictError(f"Subscription {namespace}/{name} changed meanwhile.") from error
            raise
        return Subscription.model_validate(body)

    async def _get(self, model: type[Model], namespace: str, name: str) -> Model | None:
        try:
            body = await _run(
                self.api.get_namespaced_custom_object, GROUP, VERSION, namespace, model.names.plural, name
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return model.model_validate(body)

    async def _list(self, model: type[Model], namespace: str, **options: str) -> list[Model]:
        listed = await _run(
            self.api.list_namespaced_custom_object, GROUP, VERSION, namespace, model.names.plural, **options
        )
        return [model.model_validate(item) for item in listed.get("items", [])]


async def _run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    # The client's calls block and return untyped JSON; the models above give it types.
    return await asyncio.to_thread(call, *args, **kwargs)
