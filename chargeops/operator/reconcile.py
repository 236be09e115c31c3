"""Bring the gateway's desired state for one Charger in line with the cluster, and read back what it saw.

Called by the Charger handlers (with the charger's password, and status written afterwards) and by the
Subscription, Site and Tariff handlers when a change of theirs affects chargers (without the password:
the gateway keeps the stored hash). The gateway's document changes only when the plan's revision does,
so repeating this is harmless. Nothing is written for a charge point another Charger also names, or
whose password Secret cannot be read: the plan comes back held, with the reason first among its
verdicts.
"""

import logging
from datetime import datetime

from chargeops.api.gateway import ObservedState
from chargeops.api.v1alpha1 import Charger
from chargeops.operator import duplicates, planning, subscriptions
from chargeops.operator.errors import SecretNotFoundError
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
    excluding_subscription: str | None = None,
) -> tuple[planning.ChargerPlan, ObservedState]:
    """Plan ``charger``, update the gateway if the plan changed, and return the plan and observed state."""
    namespace = charger.metadata.get("namespace")
    spec = charger.spec
    site = inventory.site(namespace, spec.site_ref.name)
    tariff_ref = spec.charging_mode.tariff_ref
    tariff = inventory.tariff(namespace, tariff_ref.name) if tariff_ref else None
    today = local_today(site, now)
    grants = subscriptions.grants(
        inventory.subscriptions_in(namespace, excluding=excluding_subscription), charger, today=today
    )
    rivals = duplicates.rivals(charger, inventory.claims(spec.charge_point_id))
    gateway = runtime.gateway
    observed = await gateway.observed(spec.charge_point_id)
    plan = planning.plan_charger(
        charger,
        site=site,
        tariff=tariff,
        grants=grants,
        reported_configuration=observed.configuration,
        rivals=[str(rival) for rival in rivals],
    )
    if plan.hold:
        return plan, observed  # another Charger names this charge point: neither writes (see duplicates)
    stored = await gateway.get_desired(spec.charge_point_id)
    if not plan.apply and stored is not None and stored.desired.managed:
        # Never half-switch: the charger keeps what it had until every precondition holds again.
        return plan, observed
    password = None
    if with_password or stored is None or not stored.has_password:
        try:
            password = await _password(runtime, charger)
        except SecretNotFoundError as error:
            # Without its password the charger could not log in; what the gateway holds stays as it is.
            message = f"{error} spec.security.basicAuthSecretRef names it for the password; looked up again."
            return planning.withheld(plan, error.reason, message), observed
    if stored is None or stored.desired.revision != plan.desired.revision or password is not None:
        desired = plan.desired if password is None else plan.desired.model_copy(update={"password": password})
        await gateway.put_desired(spec.charge_point_id, desired)
        if stored is None or stored.desired.revision != plan.desired.revision:
            logger.info("Desired state revision %s handed to the gateway.", plan.desired.revision)
    return plan, observed


async def _password(runtime: Runtime, charger: Charger) -> str | None:
    security = charger.spec.security
    if security is None or security.basic_auth_secret_ref is None:
        return None
    ref = security.basic_auth_secret_ref
    namespace = str(charger.metadata.get("namespace"))
    return await runtime.secrets.require(namespace, ref.name, ref.key)
