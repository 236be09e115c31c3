"""Which sessions a person must look at before they become money.

The gateway flags sessions whose data it had to guess or could not trust (``SessionFlag``). Billing never
turns a guess into money silently: a session with any of ``REVIEW_FLAGS`` is left off the invoice and
listed in ``status.review``, as is a session whose data fails to price (``SessionNotBillableError``).

``DeliveredLate`` alone is no reason: an offline transaction is a normal one that arrived late, and it is
billed (on the next open invoice as an adjustment when its month is already final).
"""

from chargeops.api.gateway import Session, SessionFlag
from chargeops.api.v1alpha1 import SessionForReview
from chargeops.billing.errors import BillingError

# In order of precedence: the first one a session carries names its reason.
REVIEW_FLAGS: tuple[SessionFlag, ...] = (
    SessionFlag.NEGATIVE_ENERGY,
    SessionFlag.ESTIMATED_STOP,
    SessionFlag.ESTIMATED_START,
    SessionFlag.UNKNOWN_ID_TAG,
)

_WHY = {
    SessionFlag.NEGATIVE_ENERGY: "its stop meter value is below its start meter value",
    SessionFlag.ESTIMATED_STOP: "its stop meter value was estimated from the last meter reading",
    SessionFlag.ESTIMATED_START: "its start meter value was estimated from the first meter reading",
    SessionFlag.UNKNOWN_ID_TAG: "it was started offline with an id tag that was not authorized",
}

# SessionForReview.message holds at most this many characters.
MESSAGE_MAX = 1024


def flagged(session: Session) -> SessionForReview | None:
    """The review entry for a session the gateway flagged as doubtful, or None if it can be billed."""
    if not session.flags:
        return None  # nearly every session
    reasons = [flag for flag in REVIEW_FLAGS if flag in session.flags]
    if not reasons:
        return None
    why = "; ".join(_WHY[flag] for flag in reasons)
    return SessionForReview(
        session_id=session.id,
        reason=reasons[0].value,
        message=_clipped(f"Session {session.id} at {session.charge_point_id} was not billed: {why}."),
    )


def failed(session: Session, error: BillingError) -> SessionForReview:
    """The review entry for a session whose data could not be priced."""
    return SessionForReview(
        session_id=session.id,
        reason=error.reason,
        message=_clipped(f"Session {session.id} at {session.charge_point_id} was not billed: {error}."),
    )


def _clipped(text: str) -> str:
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "…"
