"""The ocpp library's schema validation at compiled speed: the same schemas, the same CallErrors.

The library validates every message it routes, both ways, with jsonschema's ``Draft4Validator``
(``ocpp.messages.get_validator``, cached per action). For a MeterValues that costs about 100 µs and for
a StatusNotification 45 µs, the largest share of handling one after the store (``bench/gateway_load.py
--mode saturation`` under py-spy). ``install()``, called once by ``app``, makes the library's validator
cache hand out a ``CompiledValidator`` instead: jsonschema-rs, compiled from the very same schema,
says "valid" in about a microsecond. A payload it does not accept goes to the library's own validator,
which raises exactly what it always did, so which CallError a malformed frame gets never depends on
the fast path: that path only ever lets a payload through.

The library files every schema failure it does not name under FormatViolation; OCPP-J (1.6 §4.2.3,
2.0.1 Part 4 §4.2.3) has closer codes for two kinds: a value outside its enumeration or range is a
PropertyConstraintViolation ("a field contains an invalid value"), too few or too many array items an
OccurrenceConstraintViolation. ``validate`` raises those instead.

OCPP integers are 32-bit (2.0.1 Part 2 §2.1 "integer"; 1.6 chargers and CSMSs treat them alike), yet
the schemas bound none of them, and a larger one reached the store and failed there (InternalError, found
by ``tests/e2e/test_gateway_fuzz.py``). The compiled schema carries the 32-bit bounds; a payload that
only the bounds refuse is the charger's TypeConstraintViolation. The library's path stays unbounded, so
the check costs nothing for a valid payload.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jsonschema_rs
import ocpp.messages
from ocpp.exceptions import (
    OccurrenceConstraintViolationError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)
from ocpp.messages import SchemaValidationError  # jsonschema's ValidationError, as the library catches it


class CompiledValidator:
    """Stands in for the library's ``Draft4Validator``: a compiled check first, the library's on failure."""

    def __init__(self, reference: Any) -> None:
        self.reference = reference
        self._compiled: jsonschema_rs.Validator | None = None
        # The library reads three 1.6 schemas with Decimal numbers, so that multipleOf 0.1 holds exactly;
        # a compiled validator would see floats again. Those (rare: charging profiles) stay the library's.
        if not _has_decimal(reference.schema):
            # jsonschema's Draft4Validator checks no "format" unless given a format checker, and the
            # library gives none: the compiled one must not either, or it would refuse what the library
            # accepts.
            self._compiled = jsonschema_rs.Draft4Validator(_int32_bounded(reference.schema), validate_formats=False)

    def validate(self, payload: Any) -> None:
        """Return if ``payload`` is valid; else raise the library validator's ``ValidationError``, its
        closer CallError, or TypeConstraintViolation for an integer beyond 32 bits."""
        if self._compiled is not None:
            try:
                if self._compiled.is_valid(payload):
                    return
            except (TypeError, ValueError):
                pass  # a value JSON has no type for: the library decides
        try:
            self.reference.validate(payload)
        except SchemaValidationError as error:
            closer = _CLOSER_ERRORS.get(str(error.validator))
            if closer is None:
                raise
            raise closer(details={"cause": error.message}) from None
        if self._compiled is not None:
            raise TypeConstraintViolationError(details={"cause": "an integer is outside the 32-bit range"})

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reference, name)


_CLOSER_ERRORS: dict[str, Any] = {
    **dict.fromkeys(
        ("enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "pattern"),
        PropertyConstraintViolationError,
    ),
    **dict.fromkeys(("minItems", "maxItems", "uniqueItems"), OccurrenceConstraintViolationError),
}


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _int32_bounded(schema: Any) -> Any:
    """A copy of ``schema`` in which every integer carries the 32-bit bounds it does not already have."""
    if isinstance(schema, list):
        return [_int32_bounded(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    bounded = {key: _int32_bounded(value) for key, value in schema.items()}
    if bounded.get("type") == "integer":
        bounded.setdefault("minimum", INT32_MIN)
        bounded.setdefault("maximum", INT32_MAX)
    return bounded


def _has_decimal(schema: object) -> bool:
    if isinstance(schema, Decimal):
        return True
    if isinstance(schema, Mapping):
        return any(_has_decimal(value) for value in schema.values())
    if isinstance(schema, list):
        return any(_has_decimal(value) for value in schema)
    return False


class _CompiledCache(dict[str, Any]):
    """``ocpp.messages._validators``, wrapping each validator the library stores."""

    def __setitem__(self, key: str, validator: Any) -> None:
        if not isinstance(validator, CompiledValidator):
            validator = CompiledValidator(validator)
        super().__setitem__(key, validator)


def install() -> None:
    """Make the library validate through ``CompiledValidator``; idempotent."""
    cache: Mapping[str, Any] = ocpp.messages._validators
    if isinstance(cache, _CompiledCache):
        return
    compiled = _CompiledCache()
    for key, validator in cache.items():
        compiled[key] = validator
    ocpp.messages._validators = compiled
