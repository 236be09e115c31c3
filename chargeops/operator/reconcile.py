"""Bring the gateway's desired state for one Charger in line with the cluster, and read back what it saw.

Called by the Charger handlers (checking the charger's password, and status written afterwards) and by
the Subscription, Site and Tariff handlers when a change of theirs affects chargers (without the
password: the gateway keeps the stored hash). The gateway's document changes only when the plan's
revision does, so repeating this is harmless; and it is cheap, because ``Handover`` remembers what the
gateway holds: a pass whose plan the gateway already holds sends nothing, and a password goes over only
when the gateway has none or it changed. Nothing is written for a charge point another Charger also
names, or whose password Secret cannot be read: the plan comes back held, with the reason first among its
verdicts.
"""

import logging
import time
from datetime import datetime

from chargeops.api.gateway import ObservedState
from chargeops.api.v1alpha1 import Charger
from chargeops.operator import duplicates, planning, subscriptions
from chargeops.operator.errors import SecretNotFoundError
from chargeops.operator.handover import Held
from chargeops.operator.inventory import Inventory, local_today
from chargeops.operator.runtime import Runtime


async def push(
    runtime: Runtime,
    charger: Charger,
    inventory: Inventory,
    *,
    now: datetime,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    with_password: bool = True,
    confirm: bool = False,
    introduce: bool = True,
    wait: bool = True,
    excluding_subscription: str | None = None,
) -> tuple[planning.ChargerPlan, ObservedState]:
    """Plan ``charger``, update the gateway if the plan changed, and return the plan and observed state.

    ``with_password``: read the password Secret and hand the password over if the gateway did not get
    this one from this process. ``confirm``: ask the gateway what it holds even when this process
    remembers it (the timer does now and then for a charger that does not show its revision applied).
    ``introduce=False``: leave a charge point this process has not handed over yet to its Charger's own
    pass, which hands over the desired state and the password in one request (a Subscription's fan-out
    would otherwise send it once without the password, and that pass again with it). ``wait=False``:
    while another pass for this charge point is under way, only plan (the timer shows status meanwhile).
    """
    cp_id = charger.spec.charge_point_id
    turn = runtime.handover.turn(cp_id)
    if not wait and turn.locked():
        # Another pass is handing this charger over (it may wait long for the gateway): show this plan
        # against what the charger does meanwhile, and leave the hand-over to that pass.
        return await _plan(runtime, charger, inventory, now=now, excluding_subscription=excluding_subscription)
    # Planned in turn, from the indexes as they are then: a pass that waited for another plans with what
    # that one saw, or newer (a Subscription's fan-out that left a charger to its handler relies on it).
    async with turn:
        plan, observed = await _plan(
            runtime, charger, inventory, now=now, excluding_subscription=excluding_subscription
        )
        if plan.hold:
            return plan, observed  # another Charger names this charge point: neither writes (see duplicates)
        return await _hand_over(
            runtime,
            charger,
            plan,
            observed,
            logger=logger,
            with_password=with_password,
            confirm=confirm,
            introduce=introduce,
        )


async def _plan(
    runtime: Runtime,
    charger: Charger,
    inventory: Inventory,
    *,
    now: datetime,
    excluding_subscription: str | None,
) -> tuple[planning.ChargerPlan, ObservedState]:
    namespace = charger.metadata.get("namespace")
    spec = charger.spec
    cp_id = spec.charge_point_id
    site = inventory.site(namespace, spec.site_ref.name)
    tariff_ref = spec.charging_mode.tariff_ref
    tariff = inventory.tariff(namespace, tariff_ref.name) if tariff_ref else None
    today = local_today(site, now)
    grants = subscriptions.grants(
        inventory.subscriptions_for(charger, excluding=excluding_subscription), charger, site=site, today=today
    )
    rivals = duplicates.rivals(charger, inventory.claims(cp_id))
    observed = runtime.observations.get(cp_id)
    if observed is None:  # no poll has been answered yet
        observed = await runtime.gateway.observed(cp_id)
    plan = planning.plan_charger(
        charger,
        site=site,
        tariff=tariff,
        grants=grants,
        reported_configuration=observed.configuration,
        rivals=[str(rival) for rival in rivals],
    )
    return plan, observed


async def _hand_over(
    runtime: Runtime,
    charger: Charger,
    plan: planning.ChargerPlan,
    observed: ObservedState,
    *,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    with_password: bool,
    confirm: bool,
    introduce: bool,
) -> tuple[planning.ChargerPlan, ObservedState]:
    cp_id = charger.spec.charge_point_id
    gateway = runtime.gateway
    handover = runtime.handover
    held = handover.held(cp_id)
    if held is None and not introduce:
        # Not handed over by this process yet: its Charger's own pass (create, resume or timer) is still to
        # come, and plans in turn with the indexes as they are then.
        return plan, observed
    if confirm or (held is None and not plan.apply):
        # Only a plan that does not apply needs to know first what the gateway holds (see below); for one
        # that does, the PUT's answer says it.
        held = handover.record(cp_id, await gateway.get_desired(cp_id), now=time.monotonic())
    if not plan.apply and held is not None and held.managed:
        # Never half-switch: the charger keeps what it had until every precondition holds again.
        return plan, observed
    password = None
    if with_password or _lacks_password(held):
        try:
            password = await _password(runtime, charger)
        except SecretNotFoundError as error:
            # Without its password the charger could not log in; what the gateway holds stays as it is.
            message = f"{error} spec.security.basicAuthSecretRef names it for the password; looked up again."
            return planning.withheld(plan, error.reason, message), observed
        if password is not None and not _lacks_password(held) and handover.password_sent(cp_id, password):
            password = None  # the gateway has this one already
    if held is None or held.revision != plan.desired.revision or password is not None:
        desired = plan.desired if password is None else plan.desired.model_copy(update={"password": password})
        handover.record(cp_id, await gateway.put_desired(cp_id, desired), now=time.monotonic())
        runtime.observations.expect_changes()  # the charger converges (or logs in) in the next seconds
        if password is not None:
            handover.record_password(cp_id, password)
        if held is None or held.revision != plan.desired.revision:
            logger.info("Desired state revision %s handed to the gateway.", plan.desired.revision)
    return plan, observed


def _lacks_password(held: Held | None) -> bool:
    return held is None or not held.has_password


async def _password(runtime: Runtime, charger: Charger) -> str | None:
    security = charger.spec.security
    if security is None or security.basic_auth_secret_ref is None:
        return None
    ref = security.basic_auth_secret_ref
    namespace = str(charger.metadata.get("namespace"))
    return await runtime.secrets.require(namespace, ref.name, ref.key)
