"""What a BootNotification is answered, in both versions: Accepted once the boot is stored, Pending while the
store cannot take it.

Pending is OCPP's answer for "the central system is not ready yet" (1.6 §4.2, 2.0.1 B02): the charger sends
no other request until it is accepted and boots again after ``interval`` seconds, which is the throttling an
overloaded store needs. A CALLERROR instead made benchmark chargers give up (50,000 chargers on one
PostgreSQL). A Pending boot leaves ``ctx.booted`` unset, so convergence still waits for the boot that is
accepted, or for its boot wait to pass, as for a charger that does not boot.
"""

import dataclasses
import enum
import secrets
from collections.abc import Mapping
from datetime import datetime

from chargeops.ocpp_gateway import metrics
from chargeops.ocpp_gateway.context import ChargerContext
from chargeops.ocpp_gateway.store import errors as store_errors

# A charger told Pending boots again after PENDING_BASE_S plus up to PENDING_JITTER_S seconds. An overloaded
# store fails the boots of a whole reconnect storm at once: told one interval, those chargers would all come
# back in the same second and overload it again, so each is given its own, spread evenly over 20 s.
PENDING_BASE_S = 10
PENDING_JITTER_S = 20


class Status(enum.StrEnum):
    """The registration statuses the gateway answers, spelled as both versions' enums spell them."""

    ACCEPTED = "Accepted"  # the boot is stored; the charger goes on with its heartbeat interval
    PENDING = "Pending"  # the store is unavailable; the charger boots again after the interval


@dataclasses.dataclass(frozen=True)
class Registration:
    """A boot's answer: ``interval_s`` is the heartbeat interval if Accepted, the wait before booting
    again if Pending."""

    status: Status
    interval_s: int


async def register(ctx: ChargerContext, observed: Mapping[str, object], *, now: datetime) -> Registration:
    """Store what the charger said of itself at boot and accept it; Pending if the store is unavailable."""
    try:
        await ctx.store.update_observed(ctx.charge_point_id, observed, now=now)
    except store_errors.StoreUnavailableError as error:
        registration = Registration(Status.PENDING, pending_interval_s())
        ctx.logger.warning(
            "BootNotification answered Pending, the store is unavailable (%s): booting again in %s s.",
            error,
            registration.interval_s,
        )
    else:
        registration = Registration(Status.ACCEPTED, ctx.heartbeat_interval_s())
        ctx.booted.set()
    metrics.BOOTS.labels(registration.status.value).inc()
    return registration


def pending_interval_s() -> int:
    """Seconds a charger told Pending waits before booting again: PENDING_BASE_S plus jitter."""
    return PENDING_BASE_S + secrets.randbelow(PENDING_JITTER_S + 1)
