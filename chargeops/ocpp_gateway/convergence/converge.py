"""Bring one connected charger to its desired state, changing only what differs.

Called by ``convergence.runner`` on connect, on boot, when the desired state changes and periodically
(which is how drift is found and repaired). The steps follow the issue: read the configuration, change
only what differs (a key answered Rejected, NotSupported or RebootRequired is recorded, not retried in a
loop), then bring the local authorization list to the desired tags (Differential when the gateway knows
what the charger holds, Full otherwise, and Full again when a Differential is answered Failed or
VersionMismatch, as OCPP 1.6 §5.15 / 2.0.1 D01.FR.xx advise). A key the charger does not answer at all
is recorded as Timeout and the rest is done, the list included; the runner asks it again on its backoff.
The result is a set of ObservedState changes; the caller stores them.
"""

import dataclasses
from datetime import datetime
from typing import Any

from chargeops.api import charger_configuration as keys
from chargeops.api.gateway import AuthorizationMode, ConfigurationResult, ObservedState, StoredDesiredState
from chargeops.api.v1alpha1 import OcppVersion
from chargeops.ocpp_gateway.convergence import local_list
from chargeops.ocpp_gateway.convergence.dialects import Dialect
from chargeops.ocpp_gateway.errors import ChargerRefusedError

_FALLBACK_STATUSES = ("Failed", "VersionMismatch")
# Answers after which the charger holds the desired value (RebootRequired: stored, in effect after a reboot).
_TAKEN = (ConfigurationResult.ACCEPTED, ConfigurationResult.REBOOT_REQUIRED)
# The call that changes configuration, as a person reading the charger's log knows it.
_CHANGE_CALL = {OcppVersion.V16: "ChangeConfiguration", OcppVersion.V201: "SetVariables"}
# What a convergence reports about configuration is the whole truth of this run, not an addition.
REPLACED_FIELDS = ("configuration", "configuration_results")


@dataclasses.dataclass
class Outcome:
    """What one convergence found and did."""

    changes: dict[str, Any]
    drift: list[str]
    unanswered: list[str] = dataclasses.field(default_factory=list)
    """Keys the charger did not answer: everything else was done, and the runner retries on its backoff."""


def is_settled(desired: StoredDesiredState | None, observed: ObservedState) -> bool:
    """Whether the charger was last converged to exactly ``desired`` (its revision and its local list
    version) with no error since: converging it again would only read back what it holds.

    Used when a charger reconnects. Drift it picked up while away (a technician, a factory reset) is
    then found by the drift check, which runs within the drift interval of the reconnect.
    """
    if desired is None or not desired.desired.managed:
        return False
    return (
        observed.applied_revision == desired.desired.revision
        and observed.local_list_revision == desired.local_list_version
        and observed.last_error is None
    )


async def converge(dialect: Dialect, desired: StoredDesiredState, observed: ObservedState, *, now: datetime) -> Outcome:
    """Converge and return the ObservedState changes; raises GatewayError if the charger fails us."""
    wanted = keys.desired_configuration(desired.desired)
    list_key = keys.LIST_LENGTH_KEY[desired.desired.ocpp_version]
    reported, unknown = await dialect.read([*wanted, list_key])
    same_revision = observed.applied_revision == desired.desired.revision
    # A key the charger answered Rejected, NotSupported or RebootRequired for this very revision is not
    # asked again (a RebootRequired key reads back its old value until the charger restarts); a new
    # revision asks again. A key left unanswered (Timeout) is asked again, and is not drift.
    answered_before = observed.configuration_results if same_revision else {}
    settled_before = {k: r for k, r in answered_before.items() if r is not ConfigurationResult.TIMEOUT}
    unanswered_before = answered_before.keys() - settled_before.keys()
    differing = {k: v for k, v in keys.differing(wanted, reported).items() if k not in settled_before}
    results = {key: ConfigurationResult.NOT_SUPPORTED for key in differing if key in unknown}
    answers = await dialect.change({key: value for key, value in differing.items() if key not in unknown})
    results.update(answers)
    results.update({key: settled_before[key] for key in wanted if key in settled_before})
    for key, answer in answers.items():
        if answer in (ConfigurationResult.ACCEPTED, ConfigurationResult.REBOOT_REQUIRED):
            reported[key] = wanted[key]

    list_changes, list_drift = await _sync_local_list(
        dialect, desired, observed, max_entries=_int(reported.get(list_key))
    )
    drift = sorted(differing.keys() - unanswered_before) + list_drift
    settled = {key: result for key, result in results.items() if result is not ConfigurationResult.ACCEPTED}
    unanswered = sorted(key for key, answer in answers.items() if answer is ConfigurationResult.TIMEOUT)
    changes: dict[str, Any] = {
        "configuration": {key: reported[key] for key in wanted if key in reported},
        "configuration_results": settled,
        **list_changes,
        "applied_revision": desired.desired.revision,
        "converged_at": now,
        "last_error": f"{_CHANGE_CALL[desired.desired.ocpp_version]} of {', '.join(unanswered)} got no answer"
        if unanswered
        else None,
        "last_error_at": now if unanswered else None,
    }
    was_applied = same_revision
    if drift and was_applied:
        # The charger had this revision and moved away from it: that is drift, not a pending change.
        changes |= {"drift": drift, "drift_detected_at": now}
        # The local list is back (or this run raised); a key is back only if the charger took the value.
        if all(results.get(key) in _TAKEN for key in differing):
            changes["drift_repaired_at"] = now
    return Outcome(changes=changes, drift=drift if was_applied else [], unanswered=unanswered)


async def _sync_local_list(
    dialect: Dialect, desired: StoredDesiredState, observed: ObservedState, *, max_entries: int | None
) -> tuple[dict[str, Any], list[str]]:
    required = desired.desired.authorization is AuthorizationMode.REQUIRED
    tags = sorted(set(desired.desired.authorized_id_tags)) if required else []
    version = await dialect.list_version()
    if version < 0:
        if required:
            raise ChargerRefusedError("charger has no local authorization list (GetLocalListVersion -1)")
        return {"local_list_version": version}, []
    trusted = observed.local_list_version == version and observed.local_list_revision is not None
    known = observed.local_list if trusted else None
    updates = local_list.plan(tags, charger_version=version, known_tags=known, max_entries=max_entries)
    drift = ["LocalAuthorizationList"] if updates and observed.local_list_revision == desired.local_list_version else []
    version = await _send_all(dialect, updates, tags, version=version, max_entries=max_entries)
    return {"local_list_version": version, "local_list_revision": desired.local_list_version, "local_list": tags}, drift


async def _send_all(
    dialect: Dialect,
    updates: list[local_list.ListUpdate],
    tags: list[str],
    *,
    version: int,
    max_entries: int | None,
    may_fall_back: bool = True,
) -> int:
    for update in updates:
        status = await dialect.send_list(update)
        if status == "Accepted":
            version = update.version
            continue
        differential = update.update_type is local_list.UpdateType.DIFFERENTIAL
        if differential and status in _FALLBACK_STATUSES and may_fall_back:
            # The charger's list is not what we thought: start over with the whole list.
            limit = max_entries or local_list.DEFAULT_MAX_ENTRIES
            return await _send_all(
                dialect,
                local_list.full(tags, first_version=update.version, limit=limit),
                tags,
                version=version,
                max_entries=max_entries,
                may_fall_back=False,
            )
        raise ChargerRefusedError(f"SendLocalList {update.update_type} version {update.version} answered {status}")
    return version


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
