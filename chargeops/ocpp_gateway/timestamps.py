"""Parse OCPP timestamps into timezone-aware UTC datetimes.

OCPP requires UTC (1.6 §3.5, 2.0.1 Part 2 §2.1.6: "…SHALL be in UTC"), yet chargers in the field send
offsets or leave the zone out. A missing zone is read as UTC, as the spec intends; an offset is honoured.
An unreadable timestamp is the charger's error: PropertyConstraintViolation, with the value.
"""

from datetime import UTC, datetime

from ocpp.exceptions import PropertyConstraintViolationError


def parse(value: object, *, field: str) -> datetime:
    """``value`` as an aware UTC datetime, or the CallError the charger should get."""
    if not isinstance(value, str):
        raise PropertyConstraintViolationError(details={"cause": f"{field} must be a date-time string"})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PropertyConstraintViolationError(
            details={"cause": f"{field} is not an RFC 3339 date-time: {value!r}"}
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def render(moment: datetime) -> str:
    """``moment`` as OCPP writes it: UTC with a Z and millisecond precision."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
