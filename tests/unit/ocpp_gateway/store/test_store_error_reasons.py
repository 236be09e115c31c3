"""Every store error is a StoreError (so a ChargeOpsError) with its own one-word reason."""

import inspect

from chargeops.errors import ChargeOpsError
from chargeops.ocpp_gateway.store import errors

ERRORS = [cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, ChargeOpsError)]


def test_every_error_derives_from_store_error() -> None:
    assert all(issubclass(cls, errors.StoreError) for cls in ERRORS if cls is not ChargeOpsError)


def test_every_error_has_a_distinct_pascal_case_reason() -> None:
    reasons = [cls.reason for cls in ERRORS if cls is not ChargeOpsError]

    assert len(set(reasons)) == len(reasons)
    assert all(reason[0].isupper() and reason.isalnum() for reason in reasons)
