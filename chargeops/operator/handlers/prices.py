"""Site and Tariff handlers: check what the API server cannot, and re-plan the chargers that use them.

Events handled: create, update, resume of Sites and Tariffs. Status owned: ``Ready`` of each, with
``Reconciling`` / ``Stalled`` beside it (``kstatus``). A change of plan, currency, time zone or prices
reaches every affected charger at once (its pay-per-month may become possible or impossible); the
chargers' own status follows on their next reconcile.
"""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import kopf

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import GROUP, VERSION
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import conditions, kstatus, metrics, runtime, tariff_history
from chargeops.operator.handlers.chargers import inventory_of
from chargeops.operator.handlers.subscriptions import fan_out

SITES = (GROUP, VERSION, "sites")
TARIFFS = (GROUP, VERSION, "tariffs")


@kopf.on.resume(*SITES)
@kopf.on.create(*SITES)
@kopf.on.update(*SITES)
@metrics.measured("Site")
async def check_site(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """A Site is Ready when its time zone exists; its chargers are re-planned."""
    site = v1alpha1.Site.model_validate(dict(body))
    now = datetime.now(UTC)
    try:
        ZoneInfo(site.spec.time_zone)
    except ZoneInfoNotFoundError:
        message = (
            f"Time zone {site.spec.time_zone} is not in the tz database; use an IANA name such as Europe/Amsterdam."
        )
        if conditions.mark_false(body, patch, c.READY, c.INVALID_TIME_ZONE, message, now=now):
            kopf.event(body, type="Warning", reason=c.INVALID_TIME_ZONE, message=message)
    else:
        message = f"{site.spec.plan} plan, {site.spec.currency}, months in {site.spec.time_zone}."
        conditions.mark_true(body, patch, c.READY, c.SUCCEEDED, message, now=now)
    inventory = inventory_of(kwargs)
    name = site.metadata.get("name")
    affected = [ch for ch in inventory.chargers_in(site.metadata.get("namespace")) if ch.spec.site_ref.name == name]
    await fan_out(memo, affected, inventory, now=now, logger=logger, reporting=(body, patch))
    kstatus.follow_ready(body, patch, settled=True, now=now)


@kopf.on.resume(*TARIFFS)
@kopf.on.create(*TARIFFS)
@kopf.on.update(*TARIFFS)
@metrics.measured("Tariff")
async def check_tariff(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """A Tariff the API server accepted can price sessions; its spec is kept as a revision for billing,
    and the chargers using it are re-planned."""
    tariff = v1alpha1.Tariff.model_validate(dict(body))
    now = datetime.now(UTC)
    revisions = tariff_history.record(tariff, now=runtime.of(memo).settings.clock.now())
    if revisions is not None:
        patch.setdefault("status", {})["revisions"] = [
            r.model_dump(mode="json", by_alias=True, exclude_none=True) for r in revisions
        ]
    elements = len(tariff.spec.elements)
    message = f"{elements} element{'s' if elements != 1 else ''} in {tariff.spec.currency}."
    conditions.mark_true(body, patch, c.READY, c.SUCCEEDED, message, now=now)
    inventory = inventory_of(kwargs)
    name = tariff.metadata.get("name")
    affected = [
        ch
        for ch in inventory.chargers_in(tariff.metadata.get("namespace"))
        if ch.spec.charging_mode.tariff_ref is not None and ch.spec.charging_mode.tariff_ref.name == name
    ]
    await fan_out(memo, affected, inventory, now=now, logger=logger, reporting=(body, patch))
    kstatus.follow_ready(body, patch, settled=True, now=now)
