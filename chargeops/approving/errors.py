"""Why an approval could not be computed or written; ``chargeops approve`` prints the message and exits 1.

ChargeOpsError
 └── ApprovalError
      ├── ChargerNotFoundError       the named Charger does not exist (or is not in the file)
      ├── InvalidChargerError        its spec does not parse, so no fingerprint can be computed
      ├── NothingToApproveError      pay-per-month is off: nothing to approve
      ├── ApprovalDeniedError        the API server refused the annotation (admission policy, RBAC)
      ├── ChargerChangedError        the Charger changed between reading and approving
      ├── UneditableDocumentError    the YAML is laid out so the annotation can't be placed safely
      └── ClusterUnavailableError    no usable kubeconfig, or the API server did not answer
"""

from chargeops.errors import ChargeOpsError


class ApprovalError(ChargeOpsError):
    """An approval that was asked for and not given; the message says why and what to do."""

    reason = "ApprovalFailed"


class ChargerNotFoundError(ApprovalError):
    """No Charger of that name where it was looked for."""

    reason = "ChargerNotFound"

    def __init__(self, message: str, *, name: str, namespace: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.namespace = namespace


class InvalidChargerError(ApprovalError):
    """The Charger's spec is not a valid ChargerSpec."""

    reason = "InvalidCharger"


class NothingToApproveError(ApprovalError):
    """The Charger (or every Charger of a file) charges for free; approvals cover pay-per-month only."""

    reason = "NothingToApprove"


class ApprovalDeniedError(ApprovalError):
    """The API server refused the patch; ``message`` is its own words (who may approve)."""

    reason = "ApprovalDenied"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class ChargerChangedError(ApprovalError):
    """The Charger's resourceVersion moved on between read and patch; the approval may not match any more."""

    reason = "ChargerChanged"


class UneditableDocumentError(ApprovalError):
    """The annotation would have to go somewhere this editor can't write without changing other content."""

    reason = "UneditableDocument"


class ClusterUnavailableError(ApprovalError):
    """No usable kubeconfig, or the API server did not answer."""

    reason = "ClusterUnavailable"
