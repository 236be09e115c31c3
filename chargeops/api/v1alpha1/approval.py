"""The approval of a Charger's billing-relevant spec: its annotation and the fingerprint it must hold.

Turning on pay-per-month changes what people pay, so a super-admin confirms it by setting
``ANNOTATION`` to ``fingerprint(spec)``. The fingerprint covers only the charging mode and the tariff
reference: a later change to either needs a fresh approval, any other edit keeps it (like
tofu-controller's ``approvePlan``). The ValidatingAdmissionPolicy shipped with chargeops decides who may
write the annotation; this module only says what its value must be.
"""

import hashlib
import json

from chargeops.api.v1alpha1.charger import ChargerSpec

ANNOTATION = "chargeops.io/approval"
# Bumped only if the fingerprinted fields change; an old approval then reads as stale, never as valid.
FINGERPRINT_VERSION = "v1"
# 64 bits of SHA-256 keep the value short enough to read aloud; it binds an approval to content, and
# admission control, not secrecy, is what stops forgery.
FINGERPRINT_HEX_DIGITS = 16


def billing_relevant(spec: ChargerSpec) -> dict[str, object]:
    """The part of a Charger's spec an approval covers, as plain JSON values."""
    tariff = spec.charging_mode.tariff_ref
    return {
        "payPerMonth": spec.charging_mode.pay_per_month,
        "tariffRef": tariff.name if tariff is not None else None,
    }


def fingerprint(spec: ChargerSpec) -> str:
    """The approval value for ``spec``: stable across processes, versions and key order, e.g. `v1-3f9a…`."""
    canonical = json.dumps(billing_relevant(spec), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:FINGERPRINT_HEX_DIGITS]
    return f"{FINGERPRINT_VERSION}-{digest}"
