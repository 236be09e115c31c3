"""Invoices in the API server: one per subscription-month, drafts rewritten, finals numbered without gaps.

Exactly one Invoice per (subscription, month), however often and from however many processes the billing
pass runs: the name is deterministic and the API server refuses a second create of it. A draft is
replaced with its ``resourceVersion``, so of two passes writing at once one wins and the other reads
again. Finalized invoices are never written again (their spec is immutable by a CEL rule anyway).

Numbers come from the Site's status, reserved with optimistic concurrency *together with the name of the
invoice they are for* (``lastInvoiceNumber`` + ``lastInvoice``):

1. the invoice is already final → nothing to do;
2. the site's last reservation is for this invoice → a pass stopped between reserving and finalizing:
   finish with that number;
3. the last reservation is for another invoice that is not final yet → finish that one first;
4. otherwise reserve ``last + 1`` for this invoice by replacing the Site status at the version read; on a
   conflict (another pass reserved meanwhile) start again from 1.

So a number is never given twice, never skipped, and a crash at any step is repaired by the next pass.
"""

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chargeops.api.v1alpha1 import GROUP, VERSION, Invoice, InvoiceSpec

NUMBER_DIGITS = 6
# Label that lets a pass list a site's invoices in one call.
SITE_LABEL = "chargeops.io/site"
SUBSCRIPTION_LABEL = "chargeops.io/subscription"


class InvoiceConflictError(Exception):
    """Another writer changed the object since it was read; read again and retry."""


def invoice_number(prefix: str, number: int) -> str:
    """The printed number, e.g. ``INV-000042``."""
    return f"{prefix}{number:0{NUMBER_DIGITS}d}"


class InvoiceStore:
    """Invoice and Site-status writes through the API server, with the client run in a thread."""

    def __init__(self, api: k8s.CustomObjectsApi) -> None:
        self.api = api

    async def get(self, namespace: str, name: str) -> Invoice | None:
        """The invoice, or None when there is none of that name."""
        try:
            body = await self._run(self.api.get_namespaced_custom_object, GROUP, VERSION, namespace, "invoices", name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return Invoice.model_validate(body)

    async def for_site(self, namespace: str, site: str) -> dict[str, Invoice]:
        """The site's invoices by name."""
        listed = await self._run(
            self.api.list_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            "invoices",
            label_selector=f"{SITE_LABEL}={site}",
        )
        invoices = (Invoice.model_validate(item) for item in listed.get("items", []))
        return {invoice.metadata["name"]: invoice for invoice in invoices}

    async def write_draft(self, namespace: str, name: str, spec: InvoiceSpec) -> Invoice | None:
        """Create the draft, or replace the spec of the existing draft when it differs.

        Returns the invoice as stored, or None when it is final (finalized invoices are never rewritten).
        Raises ``InvoiceConflictError`` when another writer got there between our read and write.
        """
        existing = await self.get(namespace, name)
        body = _invoice_body(namespace, name, spec)
        if existing is None:
            try:
                created = await self._run(
                    self.api.create_namespaced_custom_object, GROUP, VERSION, namespace, "invoices", body
                )
            except ApiException as error:
                if error.status == 409:
                    raise InvoiceConflictError(f"Invoice {namespace}/{name} was created meanwhile.") from error
                raise
            return Invoice.model_validate(created)
        if existing.spec.finalized:
            return None
        if existing.spec == spec:
            return existing
        body["metadata"]["resourceVersion"] = existing.metadata["resourceVersion"]
        try:
            replaced = await self._run(
                self.api.replace_namespaced_custom_object, GROUP, VERSION, namespace, "invoices", name, body
            )
        except ApiException as error:
            if error.status == 409:
                raise InvoiceConflictError(f"Invoice {namespace}/{name} changed meanwhile.") from error
            raise
        return Invoice.model_validate(replaced)

    async def finalize(self, namespace: str, site: str, name: str, *, prefix: str) -> str:
        """Give the draft ``name`` the site's next number and make it final; returns the number.

        Safe to call again after a crash at any point, and from several processes at once.
        """
        while True:
            invoice = await self.get(namespace, name)
            if invoice is None:
                raise LookupError(f"Invoice {namespace}/{name} does not exist.")
            if invoice.spec.finalized and invoice.spec.number is not None:
                return invoice.spec.number
            site_body = await self._run(self.api.get_namespaced_custom_object, GROUP, VERSION, namespace, "sites", site)
            status = dict(site_body.get("status") or {})
            last = int(status.get("lastInvoiceNumber") or 0)
            reserved_for = status.get("lastInvoice")
            if reserved_for == name:
                return await self._seal(namespace, name, invoice_number(prefix, last))
            if reserved_for is not None:
                other = await self.get(namespace, reserved_for)
                if other is not None and not other.spec.finalized:
                    await self._seal(namespace, reserved_for, invoice_number(prefix, last))
                    continue
            status.update(lastInvoiceNumber=last + 1, lastInvoice=name)
            site_body["status"] = status
            try:
                await self._run(
                    self.api.replace_namespaced_custom_object_status,
                    GROUP,
                    VERSION,
                    namespace,
                    "sites",
                    site,
                    site_body,
                )
            except ApiException as error:
                if error.status == 409:
                    continue  # another pass reserved a number meanwhile: read again
                raise
            return await self._seal(namespace, name, invoice_number(prefix, last + 1))

    async def patch_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """Merge ``status`` into the invoice's status."""
        await self._run(
            self.api.patch_namespaced_custom_object_status,
            GROUP,
            VERSION,
            namespace,
            "invoices",
            name,
            {"status": dict(status)},
        )

    async def _seal(self, namespace: str, name: str, number: str) -> str:
        # A merge patch of two fields: the lines stay as the last draft wrote them.
        patch = {"spec": {"finalized": True, "number": number}}
        await self._run(self.api.patch_namespaced_custom_object, GROUP, VERSION, namespace, "invoices", name, patch)
        return number

    @staticmethod
    async def _run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # The client's calls block and return untyped JSON; the models above give it types.
        return await asyncio.to_thread(call, *args, **kwargs)


def ready_condition(invoice: Invoice, *, ok: bool, reason: str, message: str, now: datetime) -> dict[str, Any]:
    """The invoice's Ready condition as a status patch holds it; its transition time moves only when its
    status or reason changes."""
    status = "True" if ok else "False"
    conditions = (invoice.status.conditions if invoice.status is not None else None) or []
    previous = next((cond for cond in conditions if cond.type == "Ready"), None)
    unchanged = previous is not None and (previous.status, previous.reason) == (status, reason)
    since = previous.last_transition_time if unchanged and previous is not None else now
    return {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "observedGeneration": invoice.metadata.get("generation"),
    }


def finalized_at(invoice: Invoice) -> datetime | None:
    """When the invoice was finalized, as its status says."""
    return invoice.status.finalized_at if invoice.status is not None else None


def _invoice_body(namespace: str, name: str, spec: InvoiceSpec) -> dict[str, Any]:
    # No owner reference to the Subscription: an invoice is an accounting record and outlives it.
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Invoice",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {SITE_LABEL: spec.site_ref.name, SUBSCRIPTION_LABEL: spec.subscription_ref.name},
        },
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
