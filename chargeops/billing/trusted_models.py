"""API models built from values billing has already made valid, without validating them again.

An invoice of a month holds a line per session and a charge per price component of it; validating each
(four decimal strings matched against the CRD's patterns, a reference, two datetimes) cost more than all of
the session's arithmetic (``bench/billing_run.py``). The values come from billing's own rules — amounts
rounded to the minor unit, descriptions clipped, at most ``MAX_COMPONENTS_PER_LINE`` charges — so ``build``
sets them as pydantic would after validation. Only ``pricing`` and ``invoicing`` use it, for
``ComponentCharge`` and ``InvoiceLine``; a test holds each equal to its validated twin
(tests/unit/billing/test_billing_trusted_models.py).
"""

import functools
from typing import Any, TypeVar

from chargeops.api.v1alpha1 import ApiModel

ModelT = TypeVar("ModelT", bound=ApiModel)

_set = object.__setattr__


def build(model: type[ModelT], **fields: Any) -> ModelT:
    """A ``model`` holding ``fields`` (every one of its fields, by Python name), as validation would leave it.

    What pydantic's ``model_construct`` does, less its per-field loop, which costs as much as validating.
    """
    if fields.keys() != _names(model):
        raise TypeError(f"{model.__name__} needs exactly the fields {sorted(_names(model))}, not {sorted(fields)}")
    instance = model.__new__(model)
    _set(instance, "__dict__", fields)
    _set(instance, "__pydantic_fields_set__", set(fields))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


@functools.cache
def _names(model: type[ApiModel]) -> frozenset[str]:
    return frozenset(model.model_fields)
