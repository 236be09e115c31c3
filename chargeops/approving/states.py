"""Whether a Charger is approved, and what its approval covers, from the Charger as a plain mapping.

Both ``cluster`` (a Charger read from the API server) and ``documents`` (one from a YAML file) assess
through here, so a file and the cluster agree on the value: ``approval.fingerprint`` of the spec.
"""

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pydantic

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import approval
from chargeops.approving import errors


class Standing(StrEnum):
    """Where a Charger's approval stands against its current spec."""

    APPROVED = "Approved"  # the annotation holds the fingerprint of the current mode and tariff
    MISSING = "Missing"  # no annotation at all
    STALE = "Stale"  # an annotation, but for an earlier mode or tariff


@dataclasses.dataclass(frozen=True)
class ApprovalState:
    """One Charger's approval: the value it needs, the value it has, and what approving means."""

    name: str
    namespace: str | None
    pay_per_month: bool
    expected: str
    """The value ``chargeops.io/approval`` must hold, e.g. ``v1-d672bb74844a2eb8``."""

    current: str | None
    covers: str
    """What the approval confirms, in words: ``pay-per-month, priced by Tariff energy-standard``."""

    @property
    def standing(self) -> Standing:
        if self.current is None:
            return Standing.MISSING
        return Standing.APPROVED if self.current == self.expected else Standing.STALE

    @property
    def reference(self) -> str:
        """``charger/NAME``, as kubectl names it."""
        return f"charger/{self.name}"

    @property
    def annotation(self) -> str:
        """``chargeops.io/approval=<expected>``, as ``kubectl annotate`` takes it."""
        return f"{approval.ANNOTATION}={self.expected}"


def assess(charger: Mapping[str, Any]) -> ApprovalState:
    """The approval state of a Charger object (``apiVersion``, ``metadata``, ``spec``)."""
    metadata = charger.get("metadata") or {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise errors.InvalidChargerError("A Charger without metadata.name cannot be approved.")
    try:
        spec = v1alpha1.ChargerSpec.model_validate(charger.get("spec") or {})
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"spec.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise errors.InvalidChargerError(f"charger/{name} has an invalid spec: {problems}.") from exc
    annotations = metadata.get("annotations") or {}
    current = annotations.get(approval.ANNOTATION)
    return ApprovalState(
        name=name,
        namespace=metadata.get("namespace"),
        pay_per_month=spec.charging_mode.pay_per_month,
        expected=approval.fingerprint(spec),
        current=None if current is None else str(current),
        covers=describe(spec),
    )


def describe(spec: v1alpha1.ChargerSpec) -> str:
    """The billing-relevant spec in words, as an approval prompt shows it."""
    mode = spec.charging_mode
    if not mode.pay_per_month:
        return "free charging"
    if mode.tariff_ref is None:
        return "pay-per-month without a tariff (spec.chargingMode.tariffRef is unset)"
    return f"pay-per-month, priced by Tariff {mode.tariff_ref.name}"


def require_pay_per_month(state: ApprovalState) -> None:
    """Raise ``NothingToApproveError`` for a free Charger: approvals confirm pay-per-month only."""
    if not state.pay_per_month:
        raise errors.NothingToApproveError(
            f"{state.reference} charges for free (spec.chargingMode.payPerMonth is not true); "
            "approvals confirm pay-per-month only, so there is nothing to approve."
        )
