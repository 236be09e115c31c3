"""A Subscription as the API server holds it now, and writes to its ``status.invitation``.

``operator/invitations.py`` decides from the object as stored, not from the copy kopf handed the handler
(which may be a few writes old), and records the intent to send with the ``resourceVersion`` it read:
of two writers that read the same version, the API server lets one through and answers the other
409 Conflict. Every write is a merge patch of ``status.invitation`` alone, so it never touches what
kopf writes for the Subscription handler (phase, chargers, conditions).
"""

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chargeops.api.v1alpha1 import GROUP, VERSION, Subscription

PLURAL = "subscriptions"


class SubscriptionConflictError(Exception):
    """The Subscription changed since it was read; read it again and decide again."""


class SubscriptionStore:
    """Reads of Subscriptions and patches of their ``status.invitation``, with the client run in a thread."""

    def __init__(self, api: k8s.CustomObjectsApi) -> None:
        self.api = api

    async def get(self, namespace: str, name: str) -> Subscription | None:
        """The Subscription as stored, or None when it is gone."""
        try:
            body = await self._run(self.api.get_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL, name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return Subscription.model_validate(body)

    async def write_invitation(
        self, subscription: Subscription, fields: Mapping[str, Any], *, unchanged: bool = False
    ) -> Subscription:
        """Merge ``fields`` (camelCase; None removes a field) into ``status.invitation``; with ``unchanged``,
        only if the object is still at the ``resourceVersion`` it was read at, else
        ``SubscriptionConflictError``. Returns the object as stored afterwards."""
        metadata = subscription.metadata
        patch: dict[str, Any] = {"status": {"invitation": dict(fields)}}
        if unchanged:
            patch["metadata"] = {"resourceVersion": metadata["resourceVersion"]}
        try:
            body = await self._run(
                self.api.patch_namespaced_custom_object_status,
                GROUP,
                VERSION,
                metadata["namespace"],
                PLURAL,
                metadata["name"],
                patch,
            )
        except ApiException as error:
            if error.status == 409:
                raise SubscriptionConflictError(f"Subscription {metadata['name']} changed meanwhile.") from error
            raise
        return Subscription.model_validate(body)

    @staticmethod
    async def _run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # The client's calls block and return untyped JSON; the API models give it types.
        return await asyncio.to_thread(call, *args, **kwargs)
