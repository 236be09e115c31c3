"""Billing: a timer per Site runs the billing pass (``billing_pass.bill_site``) over its subscriptions.

Events handled: a timer on each Site. Status owned: Invoices (spec and status) and the Site's
``lastInvoiceNumber`` / ``lastInvoice``. The pass is idempotent, so the timer simply runs it again; a
gateway that is down makes it wait for the next tick (the drafts it already wrote stay).
"""

import os
from typing import Any

import kopf

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import billing_pass, metrics, runtime
from chargeops.operator.errors import GatewayUnreachableError
from chargeops.operator.handlers.chargers import inventory_of
from chargeops.operator.handlers.prices import SITES

# How often each site's pass runs. Invoices close once a month; a few minutes' delay costs nothing, and
# tests and the demo shorten it through the environment (kopf fixes timer intervals at import).
BILLING_INTERVAL_S = float(os.environ.get("CHARGEOPS_BILLING_INTERVAL_S", "300"))


@kopf.timer(*SITES, interval=BILLING_INTERVAL_S, initial_delay=min(10.0, BILLING_INTERVAL_S), idle=0)
@metrics.measured("Billing")
async def bill_site(body: kopf.Body, memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """Draft and finalize the invoices of the site's closed months."""
    site = v1alpha1.Site.model_validate(dict(body))
    inventory = inventory_of(kwargs)
    namespace = site.metadata.get("namespace")
    shared = runtime.of(memo)
    catalogue = billing_pass.Catalogue(
        chargers=inventory.chargers_in(namespace),
        tariffs={str(t.metadata["name"]): t for t in inventory.tariffs_in(namespace)},
    )
    try:
        result = await billing_pass.bill_site(
            site,
            inventory.subscriptions_in(namespace),
            catalogue,
            gateway=shared.gateway,
            store=shared.invoices,
            now=shared.settings.clock.now(),
            secrets=shared.secrets,
        )
    except GatewayUnreachableError as error:
        logger.warning(f"Billing waits for the gateway: {error}")
        return
    for name, number in result.finalized.items():
        kopf.event(body, type="Normal", reason="InvoiceFinalized", message=f"Invoice {name} finalized as {number}.")
    for name, message in result.stripe_failed.items():
        kopf.event(body, type="Warning", reason=c.STRIPE_FAILED, message=f"Invoice {name}: {message}")
    if result.drafted:
        logger.info(
            f"Billing pass: {len(result.drafted)} invoice(s) drafted, {len(result.finalized)} finalized, "
            f"{sum(result.review.values())} session(s) for review."
        )
