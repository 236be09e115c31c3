"""Condition types and reasons of every chargeops kind, declared once with the scenario each names.

The operator writes them, the Argo CD health scripts read them, and docs list them; all three take them
from here. Reasons are one CamelCase word; flux's generic ones (``Succeeded``, ``Progressing``,
``DependencyNotReady``) come first. ``Ready`` is present on every object and True is the good state;
``Reconciling`` and ``Stalled`` work the other way round and appear only while True (flux
``apis/meta/conditions.go``).
"""

# Types shared by all kinds.
READY = "Ready"  # summary: True when the object does what its spec asks
RECONCILING = "Reconciling"  # True while the operator works towards the spec (absent otherwise)
STALLED = "Stalled"  # True when the operator cannot progress without a change by a person (absent otherwise)

# Types of a Charger.
CONNECTED = "Connected"  # the live charger holds a websocket to the gateway
APPROVED = "Approved"  # the approval annotation matches the billing-relevant spec (or none is needed)
CONFIGURED = "Configured"  # the live charger converged to the desired state

# Types of a Subscription.
ACCEPTED = "Accepted"  # the subscriber accepted the invitation

# Generic reasons (flux).
SUCCEEDED = "Succeeded"  # the condition holds as wanted
PROGRESSING = "Progressing"  # work is under way
DEPENDENCY_NOT_READY = "DependencyNotReady"  # an object this one needs exists but is not Ready

# Reasons of Sites.
INVALID_TIME_ZONE = "InvalidTimeZone"  # spec.timeZone has the right shape but names no zone in the tz database

# Reasons of Chargers.
SITE_NOT_FOUND = "SiteNotFound"  # spec.siteRef names no existing Site
PLAN_NOT_ELIGIBLE = "PlanNotEligible"  # pay-per-month on a Site whose plan is not Business
TARIFF_NOT_FOUND = "TariffNotFound"  # spec.chargingMode.tariffRef names no existing Tariff
CURRENCY_MISMATCH = "CurrencyMismatch"  # the Tariff's currency differs from the Site's
AWAITING_APPROVAL = "AwaitingApproval"  # pay-per-month requested, approval annotation absent
APPROVAL_STALE = "ApprovalStale"  # the annotation approves an earlier mode or tariff
NOT_REQUIRED = "NotRequired"  # free charging: no approval is needed
CHARGER_OFFLINE = "ChargerOffline"  # the charger has no connection to the gateway now
CHARGER_CONNECTED = "ChargerConnected"  # the charger is connected
GATEWAY_UNREACHABLE = "GatewayUnreachable"  # the operator cannot reach the gateway's control API
CONVERGED = "Converged"  # the live charger holds the desired state
CONVERGING = "Converging"  # the gateway is bringing the charger to the desired state
CONVERGENCE_FAILED = "ConvergenceFailed"  # the charger refused or did not answer; the gateway retries
ID_TAG_CONFLICT = "IdTagConflict"  # two active Subscriptions claim one id tag on this charger
DUPLICATE_CHARGE_POINT_ID = "DuplicateChargePointId"  # another Charger (any namespace) names the same chargePointId
SECRET_NOT_FOUND = "SecretNotFound"  # noqa: S105 - spec.security.basicAuthSecretRef names a missing Secret or key

# Reasons of Charger Events only (no condition carries them).
DRIFT_DETECTED = "DriftDetected"  # the live charger moved away from a desired state it had held
DRIFT_REPAIRED = "DriftRepaired"  # the gateway brought every differing setting back

# Reasons of Subscriptions.
AWAITING_ACCEPTANCE = "AwaitingAcceptance"  # invited; the subscriber has not answered yet
DECLINED = "Declined"  # the subscriber declined the invitation
SUSPENDED = "Suspended"  # spec.suspend is true
ENDED = "Ended"  # today is after spec.endDate
NOT_STARTED = "NotStarted"  # today is before spec.startDate
NO_CHARGERS = "NoChargers"  # the refs or the selector match no Charger
INVITATION_FAILED = "InvitationFailed"  # the SMTP server refused the invitation or was unreachable; retried
DELIVERY_UNKNOWN = "DeliveryUnknown"  # the operator stopped mid-send: not resent until the resend annotation
SIGNING_KEY_MISSING = "SigningKeyMissing"  # the operator runs without a key to sign invitation links

# Reasons of Subscription Events only (no condition carries them).
INVITATION_SENT = "InvitationSent"  # the SMTP server accepted the invitation

# Reasons of Invoices.
DRAFT = "Draft"  # the grace period runs; sessions may still arrive
FINALIZED = "Finalized"  # numbered and immutable
PAID = "Paid"  # Stripe reports the invoice paid
STRIPE_FAILED = "StripeFailed"  # Stripe refused or was unreachable; retried with the same idempotency keys

# Reasons for which a Ready=False object waits for a person, not for time: Argo CD shows them Suspended
# (approval) or Degraded (a mistake in the spec). The operator sets Stalled=True with the same reason and
# message beside them (kstatus: it cannot progress without a change by a person); it still looks again on
# its timers, so an object that appears later (a Secret, a Tariff) recovers the charger by itself.
WAITING_FOR_PERSON = frozenset({AWAITING_APPROVAL, APPROVAL_STALE, AWAITING_ACCEPTANCE, DELIVERY_UNKNOWN})
SPEC_ERRORS = frozenset(
    {
        SITE_NOT_FOUND,
        PLAN_NOT_ELIGIBLE,
        TARIFF_NOT_FOUND,
        CURRENCY_MISMATCH,
        INVALID_TIME_ZONE,
        ID_TAG_CONFLICT,
        DUPLICATE_CHARGE_POINT_ID,
        SECRET_NOT_FOUND,
        SIGNING_KEY_MISSING,
    }
)
