"""Parse a validated OCPP payload into a typed model, turning a mismatch into the right CallError."""

from collections.abc import Mapping
from typing import Any, TypeVar

from ocpp.exceptions import TypeConstraintViolationError
from pydantic import BaseModel, ConfigDict, ValidationError

Model = TypeVar("Model", bound="Payload")


class Payload(BaseModel):
    """Base of request models: snake_case like the library's kwargs; unknown keys were refused by the
    schema already, and the ones a handler does not need are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def parse(model: type[Model], payload: Mapping[str, Any]) -> Model:
    """``payload`` as ``model``; a value the schema let through but the model cannot use is the charger's
    TypeConstraintViolation."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise TypeConstraintViolationError(details={"cause": f"{where}: {first['msg']}"}) from None
