"""Subscription handlers: the subscription's phase, and its id tags on the chargers it covers.

Events handled: create, update, resume, delete (with a finalizer, so the tags leave the chargers before
the object is gone), and a timer that notices start and end dates passing. Status owned: ``phase``,
``chargers``, ``invitation`` (through ``handlers/invitations.py``), the ``Ready`` condition. Affected
chargers get their new desired state at once; their own status catches up on their next reconcile.
"""

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import kopf

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import GROUP, VERSION
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import conditions, kstatus, metrics, reconcile, runtime, subscriptions
from chargeops.operator.errors import GatewayUnreachableError
from chargeops.operator.handlers import invitations
from chargeops.operator.handlers.chargers import GATEWAY_RETRY_S, inventory_of
from chargeops.operator.inventory import Inventory, local_today

SUBSCRIPTIONS = (GROUP, VERSION, "subscriptions")
# Pushing desired states to many chargers at once: enough in flight to be quick, few enough for the gateway.
FANOUT_CONCURRENCY = 32


@kopf.on.resume(*SUBSCRIPTIONS)
@kopf.on.create(*SUBSCRIPTIONS)
@kopf.on.update(*SUBSCRIPTIONS)
@kopf.timer(*SUBSCRIPTIONS, interval=600.0, initial_delay=60.0, idle=0)
@metrics.measured("Subscription")
async def bind_subscription(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """Work out the phase and the covered chargers; send the invitation when one is due; give those
    chargers their new id tag lists."""
    subscription = v1alpha1.Subscription.model_validate(dict(body))
    inventory = inventory_of(kwargs)
    namespace = subscription.metadata.get("namespace")
    now = datetime.now(UTC)
    site = inventory.site(namespace, subscription.spec.site_ref.name)
    phase = subscriptions.phase(subscription, site=site, today=local_today(site, now))
    covered = inventory.covered_by(subscription)
    previously = set((body.get("status") or {}).get("chargers") or [])
    names = sorted(str(ch.metadata.get("name")) for ch in covered)
    patch.setdefault("status", {}).update({"phase": phase.phase.value, "chargers": names})
    invitations.record_answer(body, patch, subscription)
    invitation = None
    if site is None:
        verdict = (False, c.SITE_NOT_FOUND, f"Site {subscription.spec.site_ref.name} does not exist.")
    elif not covered:
        # No invitation either: it would name no charger.
        verdict = (False, c.NO_CHARGERS, "spec.chargerRefs or spec.chargerSelector match no Charger of the site.")
    else:
        if phase.reason == c.AWAITING_ACCEPTANCE:
            invitation = await invitations.invite(
                body,
                memo,
                subscription,
                site=site,
                covered=covered,
                inventory=inventory,
                attempt=int(kwargs.get("retry") or 0),
                logger=logger,
            )
        if invitation is not None:
            verdict = (False, invitation.reason, invitation.message)
        else:
            settled_phase = phase.phase.value in ("Suspended", "Ended", "Declined")
            verdict = (phase.active or settled_phase, phase.reason, phase.message)
    mark = conditions.mark_true if verdict[0] else conditions.mark_false
    if mark(body, patch, c.READY, verdict[1], verdict[2], now=now):
        kopf.event(
            body,
            type="Warning" if verdict[1] in (c.INVITATION_FAILED, c.DELIVERY_UNKNOWN) else "Normal",
            reason=verdict[1],
            message=verdict[2],
        )
    # Those it covered before and no longer are looked for among all of the namespace's, only if there are
    # any: a scan per Subscription would make a fleet's Subscriptions cost chargers x subscriptions.
    left = previously - set(names)
    affected = covered + (
        [ch for ch in inventory.chargers_in(namespace) if str(ch.metadata.get("name")) in left] if left else []
    )
    await fan_out(memo, affected, inventory, now=now, logger=logger, reporting=(body, patch))
    # Nothing is left to do once the chargers have their lists (a future start date is the timer's to
    # notice), unless the invitation is to be tried again.
    retry_s = invitation.retry_s if invitation is not None else None
    kstatus.follow_ready(body, patch, settled=retry_s is None, now=now)
    if retry_s is not None:
        raise kopf.TemporaryError(verdict[2], delay=retry_s)


@kopf.on.delete(*SUBSCRIPTIONS)
@metrics.measured("Subscription")
async def unbind_subscription(body: kopf.Body, memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """Take the subscription's id tags off every charger it covered."""
    subscription = v1alpha1.Subscription.model_validate(dict(body))
    inventory = inventory_of(kwargs)
    name = str(subscription.metadata.get("name"))
    affected = inventory.covered_by(subscription)
    await fan_out(memo, affected, inventory, now=datetime.now(UTC), logger=logger, excluding=name)


async def fan_out(
    memo: kopf.Memo,
    chargers: Iterable[v1alpha1.Charger],
    inventory: Inventory,
    *,
    now: datetime,
    logger: Any,
    excluding: str | None = None,
    reporting: tuple[kopf.Body, kopf.Patch] | None = None,
) -> None:
    """Give ``chargers`` their new desired states; retried while the gateway is down, with ``Reconciling``
    on the object in ``reporting`` saying so."""
    limit = asyncio.Semaphore(FANOUT_CONCURRENCY)

    async def one(charger: v1alpha1.Charger) -> None:
        async with limit:
            await reconcile.push(
                runtime.of(memo),
                charger,
                inventory,
                now=now,
                logger=logger,
                with_password=False,
                introduce=False,  # a Charger not handed over yet gets these id tags from its own handler
                excluding_subscription=excluding,
            )

    try:
        await asyncio.gather(*(one(charger) for charger in chargers))
    except GatewayUnreachableError as error:
        if reporting is not None:
            message = f"Handing its chargers' desired states to the gateway: {error}"
            kstatus.working(*reporting, c.PROGRESSING, message, now=now)
        raise kopf.TemporaryError(str(error), delay=GATEWAY_RETRY_S) from error
