"""Which configuration a charger must hold for a desired state: the keys the gateway manages, per mode.

Pure: a ``DesiredState`` in, the key → value map out. The gateway converges chargers to it, and the
operator previews from it what an approval will change (``status.pendingChanges``), so both sides share
this one definition. OCPP 1.6 keys are those of its
Core and LocalAuthListManagement profiles (§9.1, §9.2); OCPP 2.0.1 keys are written Component/Variable
for the AuthCtrlr, AuthCacheCtrlr, LocalAuthListCtrlr and OCPPCommCtrlr components (Part 2, Appendix 3).
"""

from collections.abc import Mapping

from chargeops.api.gateway import AuthorizationMode, DesiredState
from chargeops.api.v1alpha1 import OcppVersion

TRUE = "true"
FALSE = "false"

# Pay-per-month: only listed id tags charge, online (Authorize) and offline (local list). The
# authorization cache is off because it would keep accepting a tag after its subscription ended.
_REQUIRED_V16 = {
    "AuthorizeRemoteTxRequests": TRUE,
    "LocalAuthListEnabled": TRUE,
    "LocalAuthorizeOffline": TRUE,
    "LocalPreAuthorize": TRUE,
    "AllowOfflineTxForUnknownId": FALSE,
    "AuthorizationCacheEnabled": FALSE,
}
# Free: OCPP 1.6 has no key that turns authorization off, so the gateway accepts every tag online and
# the charger is told to accept unknown tags offline too.
_FREE_V16 = {
    "AuthorizeRemoteTxRequests": FALSE,
    "LocalAuthListEnabled": FALSE,
    "AllowOfflineTxForUnknownId": TRUE,
}
_REQUIRED_V201 = {
    "AuthCtrlr/Enabled": TRUE,
    "LocalAuthListCtrlr/Enabled": TRUE,
    "AuthCtrlr/LocalAuthorizeOffline": TRUE,
    "AuthCtrlr/LocalPreAuthorize": TRUE,
    "AuthCtrlr/OfflineTxForUnknownIdEnabled": FALSE,
    "AuthCacheCtrlr/Enabled": FALSE,
}
# OCPP 2.0.1 C01: with AuthCtrlr.Enabled false the station starts transactions without authorization.
_FREE_V201 = {
    "AuthCtrlr/Enabled": FALSE,
    "LocalAuthListCtrlr/Enabled": FALSE,
    "AuthCtrlr/OfflineTxForUnknownIdEnabled": TRUE,
}

HEARTBEAT_KEY = {OcppVersion.V16: "HeartbeatInterval", OcppVersion.V201: "OCPPCommCtrlr/HeartbeatInterval"}
# Read alongside the managed keys: how many entries one SendLocalList may carry.
LIST_LENGTH_KEY = {
    OcppVersion.V16: "SendLocalListMaxLength",
    OcppVersion.V201: "LocalAuthListCtrlr/ItemsPerMessage",
}


def managed(mode: AuthorizationMode, version: OcppVersion) -> Mapping[str, str]:
    """The authorization keys for ``mode`` on a charger speaking ``version``."""
    if version is OcppVersion.V16:
        return _REQUIRED_V16 if mode is AuthorizationMode.REQUIRED else _FREE_V16
    return _REQUIRED_V201 if mode is AuthorizationMode.REQUIRED else _FREE_V201


def desired_configuration(desired: DesiredState) -> dict[str, str]:
    """Every key the charger must hold, with its value: managed keys, heartbeat, then the extra keys."""
    version = desired.ocpp_version
    return {
        **managed(desired.authorization, version),
        HEARTBEAT_KEY[version]: str(desired.heartbeat_interval_s),
        **desired.configuration,
    }


def differing(desired: Mapping[str, str], reported: Mapping[str, str]) -> dict[str, str]:
    """The desired keys whose reported value differs; booleans compare without regard to case."""
    return {key: value for key, value in desired.items() if not _same(reported.get(key), value)}


def _same(reported: str | None, desired: str) -> bool:
    if reported is None:
        return False
    if desired in (TRUE, FALSE):
        # OCPP 1.6 §9: booleans are "true"/"false", but chargers in the field answer "True" or "TRUE".
        return reported.strip().lower() == desired
    return reported.strip() == desired
