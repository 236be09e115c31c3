"""The approval fingerprint binds an approval to the charging mode and tariff, and to nothing else."""

from typing import Any

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import approval


def spec(**overrides: Any) -> v1alpha1.ChargerSpec:
    document: dict[str, Any] = {
        "chargePointId": "CP-0001",
        "siteRef": {"name": "parkside"},
        "chargingMode": {"payPerMonth": True, "tariffRef": {"name": "energy-standard"}},
    }
    document.update(overrides)
    return v1alpha1.ChargerSpec.model_validate(document)


def test_fingerprint_is_stable_across_releases() -> None:
    # The examples and users' git repositories hold this exact value: changing it invalidates approvals.
    assert approval.fingerprint(spec()) == "v1-d672bb74844a2eb8"


def test_changing_the_tariff_needs_a_new_approval() -> None:
    other = spec(chargingMode={"payPerMonth": True, "tariffRef": {"name": "time-and-fee"}})
    assert approval.fingerprint(other) != approval.fingerprint(spec())


def test_turning_pay_per_month_off_changes_the_fingerprint() -> None:
    free = spec(chargingMode={"payPerMonth": False, "tariffRef": {"name": "energy-standard"}})
    assert approval.fingerprint(free) != approval.fingerprint(spec())


def test_edits_outside_billing_keep_the_approval() -> None:
    edited = spec(
        heartbeatIntervalS=60,
        ocppVersion="2.0.1",
        configuration=[{"key": "MeterValueSampleInterval", "value": "30"}],
    )
    assert approval.fingerprint(edited) == approval.fingerprint(spec())


def test_fingerprint_names_its_version() -> None:
    assert approval.fingerprint(spec()).startswith(f"{approval.FINGERPRINT_VERSION}-")
