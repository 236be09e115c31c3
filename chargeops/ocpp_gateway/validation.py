"""The ocpp library's schema validation at compiled speed: the same schemas, the same CallErrors.

The library validates every message it routes, both ways, with jsonschema's ``Draft4Validator``
(``ocpp.messages.get_validator``, cached per action). For a MeterValues that costs about 100 µs and for
a StatusNotification 45 µs, the largest share of handling one after the store (``bench/gateway_load.py
--mode saturation`` under py-spy). ``install()``, called once by ``app``, makes the library's validator
cache hand out a ``CompiledValidator`` instead: jsonschema-rs, compiled from the very same schema,
says "valid" in about a microsecond. A payload it does not accept goes to the library's own validator,
which raises exactly what it always did, so which CallError a malformed frame gets never depends on
the fast path: that path only ever lets a payload through.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jsonschema_rs
import ocpp.messages


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
            self._compiled = jsonschema_rs.Draft4Validator(reference.schema, validate_formats=False)

    def validate(self, payload: Any) -> None:
        """Return if ``payload`` is valid; else raise the library validator's ``ValidationError``."""
        if self._compiled is not None:
            try:
                if self._compiled.is_valid(payload):
                    return
            except (TypeError, ValueError):
                pass  # a value JSON has no type for: the library decides
        self.reference.validate(payload)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reference, name)


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
