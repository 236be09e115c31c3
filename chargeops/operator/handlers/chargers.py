"""Charger handlers: hand the gateway the charger's desired state and show what the live charger does.

Events handled: create, update (spec or annotations — the approval is an annotation), resume, a timer
that shows the gateway's observed state, and delete (with a finalizer: the charger returns to free
charging before it is forgotten, unless another Charger names the same charge point, see
``duplicates``). Status owned: everything under ``status`` (see ``charger_status``). A password Secret
that cannot be read is retried by the change handler and looked up again by the timer until it appears.

The timer waits until the operator's shared poll finds its charger changed, or an interval passed
(``Observations.next_change``), so a charger that converged or connected shows it within a poll. It
makes no request of its own as long as nothing changed: it reads the charger's observed state
from the operator's shared poll (``observations``) and what the gateway holds from ``handover``, and
writes status only where it changed. A gateway that fails to answer leaves Ready as it was until the
failure persists (``observations.OUTAGE_POLLS``); a handler's own failed request is retried without
taking Ready away meanwhile. Status is computed, after any wait for the gateway, from the newest status
the operator knows: the one it wrote last until its watch shows that (``status_memory``), else the charger
status index; never from a handler's own body, which is older when a timer wrote while the handler waited.
"""

import asyncio
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import kopf

from chargeops.api.gateway import AuthorizationMode, ObservedState
from chargeops.api.v1alpha1 import GROUP, VERSION
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import (
    charger_status,
    conditions,
    duplicates,
    kstatus,
    metrics,
    parsing,
    planning,
    reconcile,
    runtime,
)
from chargeops.operator.errors import GatewayUnreachableError, OperatorError
from chargeops.operator.inventory import Inventory
from chargeops.operator.observations import Observations
from chargeops.operator.planning import Verdict
from chargeops.operator.status_memory import WrittenStatuses

CHARGERS = (GROUP, VERSION, "chargers")
# While the gateway is down, look again this often; kopf keeps the handler pending meanwhile.
GATEWAY_RETRY_S = 15
# While a password Secret is missing, the change handler looks again this often (the timer does too).
SECRET_RETRY_S = 15
# Ready reasons after which the timer reads the password again: the gateway may hold none, or another's.
PASSWORD_RECHECK_REASONS = frozenset({c.SECRET_NOT_FOUND, c.DUPLICATE_CHARGE_POINT_ID})
# How often a Charger's status is refreshed from the gateway's observed state (and the gateway polled).
# kopf fixes timer intervals when the module is imported, so tests and small demos shorten it through the
# environment.
OBSERVE_INTERVAL_S = float(os.environ.get("CHARGEOPS_OBSERVE_INTERVAL_S", "30"))
# The timer waits for its charger to change in the gateway's poll (``Observations.next_change``), at most
# an interval; between two looks at one Charger it pauses this long, which bounds its status writes.
LOOK_PAUSE_S = min(1.0, OBSERVE_INTERVAL_S / 4)
# For a charger that does not show the revision the gateway holds (offline, or still converging), the
# timer asks the gateway what it holds this often (in intervals), so a document lost or changed behind
# the operator's back (a database restored from a backup) is put back; otherwise it trusts its memory.
CONFIRM_EVERY_INTERVALS = 20
# After a change, the change handler waits this long at most for the gateway to bring a connected charger
# to the new revision (it takes a fraction of a second), looking this often, so that status says Ready
# moments after the change rather than after the next poll and timer tick.
FOLLOW_S = 3.0
FOLLOW_EVERY_S = 0.25


def inventory_of(kwargs: dict[str, Any]) -> Inventory:
    return Inventory(
        sites=kwargs["site_index"],
        tariffs=kwargs["tariff_index"],
        chargers=kwargs["charger_index"],
        subscriptions=kwargs["subscription_index"],
        charge_points=kwargs["charge_point_index"],
        statuses=kwargs["charger_status_index"],
    )


def newest(body: kopf.Body, inventory: Inventory, written: WrittenStatuses | None = None) -> Mapping[str, Any]:
    """``body``'s metadata with the newest status the operator knows of it: the one it wrote last, until its
    watch shows that (``status_memory``), else the one it has seen."""
    uid = (body.get("metadata") or {}).get("uid")
    status = inventory.status_of(uid)
    if written is not None:
        status = written.newest(uid, status)
    return body if status is None else {"metadata": body.get("metadata") or {}, "status": status}


def _settle(shared: runtime.Runtime, seen: Mapping[str, Any], patch: kopf.Patch) -> None:
    """Leave in the patch only what changes the status, and remember the status it makes."""
    charger_status.drop_unchanged(seen, patch)
    uid = (seen.get("metadata") or {}).get("uid")
    shared.statuses.remember(uid, seen.get("status") or {}, patch.get("status"))


async def _reconcile(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: Any,
    *,
    with_password: bool,
    confirm: bool = False,
    follow: bool = False,
    wait: bool = True,
    **kwargs: Any,
) -> planning.ChargerPlan:
    shared = runtime.of(memo)
    inventory = inventory_of(kwargs)
    try:
        plan, observed = await reconcile.push(
            shared,
            parsing.charger(body),
            inventory,
            now=datetime.now(UTC),
            logger=logger,
            with_password=with_password,
            confirm=confirm,
            wait=wait,
        )
        if follow and plan.apply:
            observed = await _follow(shared, observed, plan.desired.revision)
    except GatewayUnreachableError as error:
        # Read after the wait for the gateway, as below.
        seen, now = newest(body, inventory, shared.statuses), datetime.now(UTC)
        # A busy gateway is no reason to take Ready away from a working charger; an outage is.
        if shared.observations.outage() is not None or not conditions.is_true(seen, patch, c.READY):
            _show_unreachable(body, seen, patch, error, now=now)
        kstatus.working(seen, patch, c.PROGRESSING, f"Handing the desired state to the gateway: {error}", now=now)
        _settle(shared, seen, patch)
        raise kopf.TemporaryError(str(error), delay=GATEWAY_RETRY_S) from error
    # Read after the wait for the gateway: the timer may have shown a newer poll meanwhile, and status written
    # from older ones would take that back (a charger shown connected, then offline again) or write it all
    # again with new transition times.
    observed = shared.observations.get(observed.charge_point_id) or observed
    seen, now = newest(body, inventory, shared.statuses), datetime.now(UTC)
    for event in charger_status.write(seen, patch, plan, observed, now=now):
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)
    _settle(shared, seen, patch)
    return plan


async def _follow(shared: runtime.Runtime, observed: ObservedState, revision: int) -> ObservedState:
    """The charger's observed state once it holds ``revision``, or as it is after ``FOLLOW_S``; kept in
    ``observations`` so the timer does not show an older poll's state meanwhile."""
    deadline = time.monotonic() + FOLLOW_S
    while observed.connected and observed.applied_revision != revision and time.monotonic() < deadline:
        await asyncio.sleep(FOLLOW_EVERY_S)
        observed = await shared.gateway.observed(observed.charge_point_id)
        shared.observations.remember(observed)
    return observed


def _show_unreachable(
    body: kopf.Body, seen: Mapping[str, Any], patch: kopf.Patch, error: OperatorError, *, now: datetime
) -> None:
    event = charger_status.mark_ready(seen, patch, Verdict(c.READY, False, error.reason, str(error)), now=now)
    if event is not None:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)


@kopf.on.resume(*CHARGERS)
@kopf.on.create(*CHARGERS)
@kopf.on.update(*CHARGERS)
@metrics.measured("Charger")
async def reconcile_charger(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """Hand the gateway the desired state (and the password, if it changed) and write status."""
    plan = await _reconcile(body, patch, memo, logger, with_password=True, follow=True, **kwargs)
    if plan.hold and plan.verdicts[0].reason == c.SECRET_NOT_FOUND:
        raise kopf.TemporaryError(plan.verdicts[0].message, delay=SECRET_RETRY_S)


@kopf.timer(*CHARGERS, interval=LOOK_PAUSE_S, initial_delay=min(5.0, OBSERVE_INTERVAL_S), idle=0)
async def observe_charger(memo: kopf.Memo, body: kopf.Body, **kwargs: Any) -> None:
    """Wait for the charger to change in the gateway's poll (or for the interval to pass), then show it."""
    cp_id = str((body.get("spec") or {}).get("chargePointId"))
    if await _until_change(runtime.of(memo).observations, cp_id, kwargs["stopped"]):
        await show_observed(memo=memo, body=body, **kwargs)


async def _until_change(observations: Observations, cp_id: str, stopped: kopf.DaemonStopped) -> bool:
    """Whether ``cp_id`` changed or the interval passed; False when the timer is being stopped."""
    change = asyncio.ensure_future(observations.next_change(cp_id, OBSERVE_INTERVAL_S))
    stop = asyncio.ensure_future(_stopping(stopped))
    try:
        await asyncio.wait([change, stop], return_when=asyncio.FIRST_COMPLETED)
    finally:
        change.cancel()
        stop.cancel()
    return not stopped


async def _stopping(stopped: kopf.DaemonStopped) -> None:
    await stopped.wait()


@metrics.measured("Charger")
async def show_observed(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """Show what the gateway saw (connection, convergence, drift) in status; repair a stale desired state.

    The password is read again only when the last pass could not hand it over (its Secret was missing, or
    another Charger held the charge point): one Secret read per Charger per interval would not scale.
    """
    shared = runtime.of(memo)
    seen = newest(body, inventory_of(kwargs), shared.statuses)
    outage = shared.observations.outage()
    if outage is not None:
        now = datetime.now(UTC)
        _show_unreachable(body, seen, patch, outage, now=now)
        kstatus.working(seen, patch, c.PROGRESSING, f"Reading the charger's state from the gateway: {outage}", now=now)
        _settle(shared, seen, patch)
        return
    cp_id = str((body.get("spec") or {}).get("chargePointId"))
    observed = shared.observations.get(cp_id)
    if observed is None:
        return  # no poll has been answered yet; the next tick looks again
    held = shared.handover.held(cp_id)
    confirm = (
        held is not None
        and observed.applied_revision != held.revision
        and time.monotonic() - held.confirmed_at >= CONFIRM_EVERY_INTERVALS * OBSERVE_INTERVAL_S
    )
    recheck = conditions.get_reason(seen, patch, c.READY) in PASSWORD_RECHECK_REASONS
    # Not waiting for a pass that is handing this charger over (a Subscription's, queued at a busy
    # gateway): status would stay as old as that wait is long.
    await _reconcile(body, patch, memo, logger, with_password=recheck, confirm=confirm, wait=False, **kwargs)


@kopf.on.delete(*CHARGERS)
@metrics.measured("Charger")
async def release_charger(body: kopf.Body, memo: kopf.Memo, logger: Any, started: datetime, **kwargs: Any) -> None:
    """Return the charger to free charging with an empty list, then forget it; never block for ever.

    A charge point another Charger still names is left as it is: that Charger takes it over.
    """
    gateway = runtime.of(memo).gateway
    handover = runtime.of(memo).handover
    charger = parsing.charger(body)
    cp_id = charger.spec.charge_point_id
    rivals = duplicates.rivals(charger, inventory_of(kwargs).claims(cp_id))
    if rivals:
        others = ", ".join(str(rival) for rival in rivals)
        message = f"Charge point {cp_id} is also named by Charger {others}; left to it, not released."
        kopf.event(body, type="Normal", reason=c.DUPLICATE_CHARGE_POINT_ID, message=message)
        logger.info("Not released: Charger %s names the same charge point.", others)
        return
    stored = await gateway.get_desired(cp_id)
    handover.forget(cp_id)  # a new Charger for this charge point starts by asking the gateway
    runtime.of(memo).observations.forget(cp_id)
    runtime.of(memo).statuses.forget((body.get("metadata") or {}).get("uid"))
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
