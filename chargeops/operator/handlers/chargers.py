"""Charger handlers: hand the gateway the charger's desired state and show what the live charger does.

Events handled: create, update (spec or annotations — the approval is an annotation), resume, a timer
that reads the gateway's observed state, and delete (with a finalizer: the charger returns to free
charging before it is forgotten, unless another Charger names the same charge point, see
``duplicates``). Status owned: everything under ``status`` (see ``charger_status``). A password Secret
that cannot be read is retried by the change handler and looked up again by the timer until it appears.
"""

import os
import time
from datetime import UTC, datetime
from typing import Any

import kopf

from chargeops.api import v1alpha1
from chargeops.api.gateway import AuthorizationMode
from chargeops.api.v1alpha1 import GROUP, VERSION
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import charger_status, conditions, duplicates, kstatus, metrics, planning, reconcile, runtime
from chargeops.operator.errors import GatewayUnreachableError
from chargeops.operator.inventory import Inventory

CHARGERS = (GROUP, VERSION, "chargers")
# While the gateway is down, look again this often; kopf keeps the handler pending meanwhile.
GATEWAY_RETRY_S = 15
# While a password Secret is missing, the change handler looks again this often (the timer does too).
SECRET_RETRY_S = 15
# Ready reasons after which the timer reads the password again: the gateway may hold none, or another's.
PASSWORD_RECHECK_REASONS = frozenset({c.SECRET_NOT_FOUND, c.DUPLICATE_CHARGE_POINT_ID})
# How often a Charger's status is refreshed from the gateway's observed state. kopf fixes timer intervals
# when the module is imported, so tests and small demos shorten it through the environment.
OBSERVE_INTERVAL_S = float(os.environ.get("CHARGEOPS_OBSERVE_INTERVAL_S", "30"))


def inventory_of(kwargs: dict[str, Any]) -> Inventory:
    return Inventory(
        sites=kwargs["site_index"],
        tariffs=kwargs["tariff_index"],
        chargers=kwargs["charger_index"],
        subscriptions=kwargs["subscription_index"],
        charge_points=kwargs["charge_point_index"],
    )


async def _reconcile(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, *, with_password: bool, **kwargs: Any
) -> planning.ChargerPlan:
    charger = v1alpha1.Charger.model_validate(dict(body))
    now = datetime.now(UTC)
    try:
        plan, observed = await reconcile.push(
            runtime.of(memo), charger, inventory_of(kwargs), now=now, logger=logger, with_password=with_password
        )
    except GatewayUnreachableError as error:
        if conditions.mark_false(body, patch, c.READY, error.reason, str(error), now=now):
            kopf.event(body, type="Warning", reason=error.reason, message=str(error))
        kstatus.working(body, patch, c.PROGRESSING, f"Handing the desired state to the gateway: {error}", now=now)
        raise kopf.TemporaryError(str(error), delay=GATEWAY_RETRY_S) from error
    for event in charger_status.write(body, patch, plan, observed, now=now):
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)
    return plan


@kopf.on.resume(*CHARGERS)
@kopf.on.create(*CHARGERS)
@kopf.on.update(*CHARGERS)
@metrics.measured("Charger")
async def reconcile_charger(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """Hand the gateway the desired state (with the password) and write status."""
    plan = await _reconcile(body, patch, memo, logger, with_password=True, **kwargs)
    if plan.hold and plan.verdicts[0].reason == c.SECRET_NOT_FOUND:
        raise kopf.TemporaryError(plan.verdicts[0].message, delay=SECRET_RETRY_S)


@kopf.timer(*CHARGERS, interval=OBSERVE_INTERVAL_S, initial_delay=min(5.0, OBSERVE_INTERVAL_S), idle=0)
@metrics.measured("Charger")
async def observe_charger(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """Read what the gateway saw (connection, convergence, drift) into status; repair a stale desired state.

    The password is read again only when the last pass could not hand it over (its Secret was missing, or
    another Charger held the charge point): one Secret read per Charger per interval would not scale.
    """
    recheck = conditions.get_reason(body, patch, c.READY) in PASSWORD_RECHECK_REASONS
    await _reconcile(body, patch, memo, logger, with_password=recheck, **kwargs)


@kopf.on.delete(*CHARGERS)
@metrics.measured("Charger")
async def release_charger(body: kopf.Body, memo: kopf.Memo, logger: Any, started: datetime, **kwargs: Any) -> None:
    """Return the charger to free charging with an empty list, then forget it; never block for ever.

    A charge point another Charger still names is left as it is: that Charger takes it over.
    """
    gateway = runtime.of(memo).gateway
    charger = v1alpha1.Charger.model_validate(dict(body))
    cp_id = charger.spec.charge_point_id
    rivals = duplicates.rivals(charger, inventory_of(kwargs).claims(cp_id))
    if rivals:
        others = ", ".join(str(rival) for rival in rivals)
        message = f"Charge point {cp_id} is also named by Charger {others}; left to it, not released."
        kopf.event(body, type="Normal", reason=c.DUPLICATE_CHARGE_POINT_ID, message=message)
        logger.info("Not released: Charger %s names the same charge point.", others)
        return
    stored = await gateway.get_desired(cp_id)
    if stored is None:
        return
    free = stored.desired.model_copy(
        update={"authorization": AuthorizationMode.FREE, "authorized_id_tags": [], "managed": True}
    )
    free = free.model_copy(update={"revision": planning.revision(free)})
    if free != stored.desired:
        await gateway.put_desired(cp_id, free)
    observed = await gateway.observed(cp_id)
    waited = time.time() - started.timestamp()
    if observed.connected and observed.applied_revision != free.revision:
        if waited < runtime.of(memo).settings.release_timeout_s:
            raise kopf.TemporaryError(f"Waiting for charge point {cp_id} to return to free charging.", delay=5)
        kopf.event(
            body,
            type="Warning",
            reason=c.CONVERGENCE_FAILED,
            message=f"Charge point {cp_id} did not confirm free charging within {int(waited)} s; released anyway.",
        )
    if not observed.connected:
        kopf.event(
            body,
            type="Warning",
            reason=c.CHARGER_OFFLINE,
            message=f"Charge point {cp_id} is offline; the gateway frees it when it returns.",
        )
        logger.info("Released while offline; the gateway keeps it free until it returns.")
        return
    await gateway.forget(cp_id)
    logger.info("Returned to free charging and released.")
