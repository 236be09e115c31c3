"""What a Charger should be on the live charger, and why not yet: pure, from the objects it depends on.

The Charger handler and the subscription fan-out both call ``plan_charger`` with the Charger, its Site
and Tariff (or None when missing), and the id tags that active Subscriptions grant on it. The plan says
which desired-state document to hand the gateway (or to leave the live charger as it is), the
conditions to show, and what approval would change. Pay-per-month takes effect only when every
precondition holds — Business plan, existing tariff in the site's currency, current approval — so a
charger is never half-switched (issue #4, item 2).
"""

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence

from chargeops.api import charger_configuration
from chargeops.api.gateway import AuthorizationMode, DesiredState
from chargeops.api.v1alpha1 import (
    Charger,
    ChargingModeName,
    ConfigurationChange,
    PendingChanges,
    Plan,
    Site,
    Tariff,
    approval,
)
from chargeops.api.v1alpha1 import conditions as c

# Enough bits that two different documents never share a revision in practice, few enough to stay an
# exact JSON number for every client (2^53).
_REVISION_HEX_DIGITS = 12


@dataclasses.dataclass(frozen=True)
class Grant:
    """Id tags an active Subscription authorizes on a charger."""

    subscription: str
    id_tags: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One condition to show: type, whether it holds, the reason and a sentence a person can act on."""

    type: str
    ok: bool
    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class ChargerPlan:
    """What to do with one Charger now."""

    desired: DesiredState
    """The document for the gateway. When ``apply`` is False, it is unmanaged: the gateway admits and
    observes the charger and changes nothing on it."""

    apply: bool
    """Whether the preconditions hold and ``desired`` manages the charger."""

    mode: ChargingModeName
    """The mode ``desired`` puts the charger in (when applied)."""

    verdicts: tuple[Verdict, ...]
    """Approved, and the precondition that blocks (if any), for status."""

    fingerprint: str
    """The approval value for the current billing-relevant spec."""

    pending: PendingChanges | None
    """What applying pay-per-month would change, shown while it waits for approval."""

    conflicts: Mapping[str, tuple[str, ...]]
    """Id tags claimed by more than one active Subscription, with the claimants; left off the list."""

    hold: bool = False
    """Whether to leave the gateway's document for this charge point as it is, whatever it holds: another
    Charger names the same charge point, or the password cannot be read (``withheld``)."""


def plan_charger(
    charger: Charger,
    *,
    site: Site | None,
    tariff: Tariff | None,
    grants: Sequence[Grant],
    reported_configuration: Mapping[str, str] | None = None,
    rivals: Sequence[str] = (),
) -> ChargerPlan:
    """Plan ``charger``; see the module docstring. ``rivals`` are the other Chargers (namespace/name) that
    name the same charge point: while there are any, the plan holds (``duplicates`` says why)."""
    spec = charger.spec
    fingerprint = approval.fingerprint(spec)
    duplicate = _duplicate(spec.charge_point_id, rivals)
    blocker = duplicate or _blocker(charger, site=site, tariff=tariff, fingerprint=fingerprint)
    pay_per_month = spec.charging_mode.pay_per_month
    tags, conflicts = _authorized_tags(grants)
    mode = ChargingModeName.PAY_PER_MONTH if pay_per_month else ChargingModeName.FREE
    desired = DesiredState(
        ocpp_version=spec.ocpp_version,
        security_profile=spec.security.profile if spec.security else 1,
        authorization=AuthorizationMode.REQUIRED if pay_per_month else AuthorizationMode.FREE,
        managed=blocker is None,
        heartbeat_interval_s=spec.heartbeat_interval_s,
        configuration={entry.key: entry.value for entry in spec.configuration or []},
        authorized_id_tags=list(tags) if pay_per_month else [],
    )
    desired = desired.model_copy(update={"revision": revision(desired)})
    verdicts = [_approval_verdict(charger, fingerprint)]
    if duplicate is not None:
        verdicts.insert(0, duplicate)  # it outranks every other reason: nothing is written at all
    elif blocker is not None and blocker.type != c.APPROVED:
        # Before the approval verdict: Ready names the precondition a person must fix first (the plan,
        # the tariff), not the approval that would not help yet.
        verdicts.insert(0, blocker)
    pending = None
    if blocker is not None and pay_per_month:
        pending = _pending_changes(desired, reported_configuration or {})
    return ChargerPlan(
        desired=desired,
        apply=blocker is None,
        mode=mode,
        verdicts=tuple(verdicts),
        fingerprint=fingerprint,
        pending=pending,
        conflicts=conflicts,
        hold=duplicate is not None,
    )


def withheld(plan: ChargerPlan, reason: str, message: str) -> ChargerPlan:
    """``plan`` held back for a cause found while carrying it out (a password Secret that cannot be
    read): nothing is written, and the cause outranks the plan's own verdicts."""
    verdict = Verdict(c.READY, False, reason, message)
    return dataclasses.replace(plan, apply=False, hold=True, verdicts=(verdict, *plan.verdicts))


def revision(desired: DesiredState) -> int:
    """A content hash of ``desired`` (password and revision excluded), as the gateway's revision number."""
    document = desired.model_dump(mode="json", exclude={"password", "revision"})
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return int(digest[:_REVISION_HEX_DIGITS], 16)


def _duplicate(charge_point_id: str, rivals: Sequence[str]) -> Verdict | None:
    if not rivals:
        return None
    others = ", ".join(rivals)
    return Verdict(
        c.READY,
        False,
        c.DUPLICATE_CHARGE_POINT_ID,
        f"Charge point {charge_point_id} is also named by Charger {others}; neither changes the live charger "
        "until all but one of them are deleted.",
    )


def _blocker(  # noqa: PLR0911 - one answer per precondition, in the order the issue lists them
    charger: Charger, *, site: Site | None, tariff: Tariff | None, fingerprint: str
) -> Verdict | None:
    spec = charger.spec
    if site is None:
        return Verdict(c.READY, False, c.SITE_NOT_FOUND, f"Site {spec.site_ref.name} does not exist.")
    if not spec.charging_mode.pay_per_month:
        return None
    site_name = site.metadata.get("name", spec.site_ref.name)
    if site.spec.plan is not Plan.BUSINESS:
        return Verdict(
            c.READY,
            False,
            c.PLAN_NOT_ELIGIBLE,
            f"Site {site_name} is on the {site.spec.plan} plan; pay-per-month needs Business.",
        )
    tariff_ref = spec.charging_mode.tariff_ref
    assert tariff_ref is not None  # the CRD's CEL rule requires it with payPerMonth
    if tariff is None:
        return Verdict(c.READY, False, c.TARIFF_NOT_FOUND, f"Tariff {tariff_ref.name} does not exist.")
    if tariff.spec.currency != site.spec.currency:
        return Verdict(
            c.READY,
            False,
            c.CURRENCY_MISMATCH,
            f"Tariff {tariff_ref.name} is in {tariff.spec.currency} but Site {site_name} bills in "
            f"{site.spec.currency}.",
        )
    approved = (charger.metadata.get("annotations") or {}).get(approval.ANNOTATION)
    if approved != fingerprint:
        return _approval_verdict(charger, fingerprint)
    return None


def _approval_verdict(charger: Charger, fingerprint: str) -> Verdict:
    if not charger.spec.charging_mode.pay_per_month:
        return Verdict(c.APPROVED, True, c.NOT_REQUIRED, "Free charging needs no approval.")
    approved = (charger.metadata.get("annotations") or {}).get(approval.ANNOTATION)
    name = charger.metadata.get("name", "NAME")
    namespace = charger.metadata.get("namespace", "NAMESPACE")
    how = f"set annotation {approval.ANNOTATION}={fingerprint} (chargeops approve charger/{name} -n {namespace})"
    if approved is None:
        return Verdict(c.APPROVED, False, c.AWAITING_APPROVAL, f"Pay-per-month awaits a super-admin: {how}.")
    if approved != fingerprint:
        return Verdict(
            c.APPROVED,
            False,
            c.APPROVAL_STALE,
            f"The approval {approved} is for an earlier mode or tariff; to approve the current one, {how}.",
        )
    return Verdict(c.APPROVED, True, c.SUCCEEDED, f"Pay-per-month approved ({fingerprint}).")


def _authorized_tags(grants: Sequence[Grant]) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    claimants: dict[str, set[str]] = {}
    for grant in grants:
        for tag in grant.id_tags:
            claimants.setdefault(tag, set()).add(grant.subscription)
    conflicts = {tag: tuple(sorted(names)) for tag, names in claimants.items() if len(names) > 1}
    tags = tuple(sorted(tag for tag in claimants if tag not in conflicts))
    return tags, conflicts


def _pending_changes(desired: DesiredState, reported: Mapping[str, str]) -> PendingChanges:
    applied = desired.model_copy(update={"managed": True})
    wanted = charger_configuration.desired_configuration(applied)
    changes = [
        ConfigurationChange(key=key, current=reported.get(key), desired=value)
        for key, value in charger_configuration.differing(wanted, reported).items()
    ]
    return PendingChanges(mode=ChargingModeName.PAY_PER_MONTH, configuration=changes or None)
