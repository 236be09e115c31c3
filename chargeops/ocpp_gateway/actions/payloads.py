"""Parse a validated OCPP payload into a typed model, turning a mismatch into the right CallError."""

from collections.abc import Mapping
from typing import Any, TypeVar

from ocpp.exceptions import PropertyConstraintViolationError, TypeConstraintViolationError
from pydantic import BaseModel, ConfigDict, ValidationError

Model = TypeVar("Model", bound="Payload")


class Payload(BaseModel):
    """Base of request models: snake_case like the library's kwargs; unknown keys were refused by the
    schema already, and the ones a handler does not need are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def parse(model: type[Model], payload: Mapping[str, Any]) -> Model:
    """``payload`` as ``model``; a value the schema let through but the model cannot use is the charger's
    TypeConstraintViolation, and a NUL character anywhere is its PropertyConstraintViolation."""
    # The path is worked out only for a payload that has a NUL: building it per key cost 5% of the
    # gateway's CPU at 10,000 chargers (bench/gateway_load.py under py-spy).
    where = _nul_at(payload, "") if _has_nul(payload) else None
    if where is not None:
        # No OCPP string holds a NUL, and PostgreSQL text cannot store one: refuse it, naming the field.
        raise PropertyConstraintViolationError(details={"cause": f"{where or 'payload'} contains a NUL character"})
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise TypeConstraintViolationError(details={"cause": f"{where}: {first['msg']}"}) from None


def _has_nul(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _nul_at(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, Mapping):
        return next(
            (found for key, item in value.items() if (found := _nul_at(item, f"{path}.{key}".lstrip("."))) is not None),
            None,
        )
    if isinstance(value, list):
        return next(
            (found for n, item in enumerate(value) if (found := _nul_at(item, f"{path}[{n}]")) is not None), None
        )
    return None
