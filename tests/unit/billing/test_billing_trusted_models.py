"""The invoice parts billing builds without validating them again (``trusted_models``) are what validation
would have made of the same values: equal, serialized alike, with the same fields set."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from chargeops.api.v1alpha1 import ComponentCharge, InvoiceLine, LineKind, LocalObjectReference, TariffDimensionType
from chargeops.billing import trusted_models

CHARGE = {
    "type": TariffDimensionType.ENERGY,
    "quantity": Decimal("12.345"),
    "unit_price": Decimal("0.32"),
    "amount": Decimal("3.95"),
    "vat": Decimal("21"),
}
SUMMER = timezone(timedelta(hours=2))


def line(**changes: object) -> dict[str, object]:
    return {
        "kind": LineKind.SESSION,
        "description": "Charging at garage-north-1",
        "session_id": "3f2a4b1c",
        "charger_ref": LocalObjectReference(name="garage-north-1"),
        "start": datetime(2026, 10, 1, 18, 0, tzinfo=SUMMER),
        "end": datetime(2026, 10, 1, 20, 0, 0, 250_000, tzinfo=SUMMER),
        "energy_wh": 21_732,
        "duration_s": 7200,
        "components": [ComponentCharge(**CHARGE)],  # type: ignore[arg-type]
        "amount": Decimal("9.66"),
    } | changes


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (ComponentCharge, CHARGE),
        (ComponentCharge, CHARGE | {"type": TariffDimensionType.FLAT, "quantity": Decimal(1), "vat": None}),
        (InvoiceLine, line()),
        (InvoiceLine, line(kind=LineKind.ADJUSTMENT, start=datetime(2026, 9, 30, 22, 0, tzinfo=UTC))),
    ],
)
def test_a_trusted_model_is_its_validated_twin(
    model: type[ComponentCharge | InvoiceLine], fields: dict[str, object]
) -> None:
    validated = model(**fields)  # type: ignore[arg-type]
    trusted = trusted_models.build(model, **fields)

    assert trusted == validated
    assert trusted.model_dump_json(by_alias=True) == validated.model_dump_json(by_alias=True)
    assert trusted.model_dump(mode="json", exclude_unset=True) == validated.model_dump(mode="json", exclude_unset=True)
    assert trusted.model_fields_set == validated.model_fields_set


def test_a_trusted_model_stays_frozen() -> None:
    trusted = trusted_models.build(ComponentCharge, **CHARGE)

    with pytest.raises(ValueError, match="frozen"):
        trusted.amount = Decimal(0)  # type: ignore[misc]


@pytest.mark.parametrize(
    "fields",
    [
        {key: value for key, value in CHARGE.items() if key != "vat"},
        CHARGE | {"currency": "EUR"},
    ],
    ids=["a field missing", "a field too many"],
)
def test_a_trusted_model_needs_exactly_its_fields(fields: dict[str, object]) -> None:
    with pytest.raises(TypeError, match="ComponentCharge needs exactly the fields"):
        trusted_models.build(ComponentCharge, **fields)
