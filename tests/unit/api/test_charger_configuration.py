"""Which keys a charger must hold for each mode and version, and how reported values compare."""

import pytest

from chargeops.api import charger_configuration as keys
from chargeops.api.gateway import AuthorizationMode, DesiredState
from chargeops.api.v1alpha1 import OcppVersion


def test_pay_per_month_on_16_requires_authorization_and_the_local_list() -> None:
    desired = DesiredState(authorization=AuthorizationMode.REQUIRED, heartbeat_interval_s=120)
    wanted = keys.desired_configuration(desired)
    assert wanted["AuthorizeRemoteTxRequests"] == "true"
    assert wanted["LocalAuthListEnabled"] == "true"
    assert wanted["AllowOfflineTxForUnknownId"] == "false"
    assert wanted["AuthorizationCacheEnabled"] == "false"
    assert wanted["HeartbeatInterval"] == "120"


def test_free_on_201_turns_authorization_off() -> None:
    wanted = keys.desired_configuration(DesiredState(ocpp_version=OcppVersion.V201))
    assert wanted["AuthCtrlr/Enabled"] == "false"
    assert wanted["OCPPCommCtrlr/HeartbeatInterval"] == "300"


def test_extra_keys_are_added() -> None:
    wanted = keys.desired_configuration(DesiredState(configuration={"MeterValueSampleInterval": "60"}))
    assert wanted["MeterValueSampleInterval"] == "60"


@pytest.mark.parametrize(
    ("reported", "differs"), [("true", False), ("True", False), (" TRUE ", False), ("false", True), (None, True)]
)
def test_booleans_compare_without_case(reported: str | None, differs: bool) -> None:
    current = {} if reported is None else {"LocalAuthListEnabled": reported}
    assert bool(keys.differing({"LocalAuthListEnabled": "true"}, current)) is differs


def test_numbers_compare_as_written() -> None:
    assert keys.differing({"HeartbeatInterval": "300"}, {"HeartbeatInterval": "300"}) == {}
    assert keys.differing({"HeartbeatInterval": "300"}, {"HeartbeatInterval": "60"}) == {"HeartbeatInterval": "300"}
