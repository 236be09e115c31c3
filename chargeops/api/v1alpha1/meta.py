"""Building blocks shared by every chargeops kind: the model base, references, conditions, typed strings.

The CRD schemas are generated from these models (``chargeops.crdgen``), so a docstring here is the text
``kubectl explain`` prints and a constraint here is one the API server enforces.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel

GROUP = "chargeops.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Names of other objects are DNS-1123 subdomains (RFC 1123), as metadata.name is.
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_SUBDOMAIN_MAX = 253


def rule(expression: str, message: str, *, field_path: str | None = None) -> dict[str, str]:
    """One CEL validation rule as the API server reads it under ``x-kubernetes-validations``."""
    validation = {"rule": expression, "message": message}
    if field_path is not None:
        validation["fieldPath"] = field_path
    return validation


def matches(pattern: str, message: str) -> dict[str, str]:
    """A rule that the string matches ``pattern``, with a message that says how to fix it.

    Preferred over the schema's ``pattern`` for fields people type, because the API server then answers
    with ``message`` rather than echoing the regular expression back.
    """
    return rule(f"self.matches(r'{pattern}')", message)


def validations(*rules: dict[str, str]) -> dict[str, Any]:
    """The JSON-schema extra that attaches CEL rules to a model or a field."""
    return {"x-kubernetes-validations": list(rules)}


def _decimal_text(pattern: str, message: str) -> Callable[[object], str | Decimal]:
    """A validator that admits exactly the decimal strings the CRD's CEL rule admits."""
    compiled = re.compile(pattern)

    def validate(value: object) -> str | Decimal:
        if isinstance(value, Decimal):
            # A Decimal goes on as it is: parsing its text back would give the same Decimal, only slower
            # (billing builds every invoice amount this way).
            if compiled.fullmatch(str(value)) is None:
                raise ValueError(message)
            return value
        # A float has already lost the cents it was meant to hold; only str, int and Decimal are exact.
        if isinstance(value, float):
            raise ValueError(f'{message}; write it as a string, e.g. "0.35", never as a float')
        text = str(value) if isinstance(value, int) else value
        if not isinstance(text, str) or compiled.fullmatch(text) is None:
            raise ValueError(message)
        return text

    return validate


def decimal_string(pattern: str, *, example: str, message: str) -> Any:
    """A ``Decimal`` that the CRD declares as a string matching ``pattern``, so money is never a YAML float."""
    schema = {"type": "string", "maxLength": 32, "example": example} | validations(matches(pattern, message))
    return Annotated[
        Decimal,
        BeforeValidator(_decimal_text(pattern, message)),
        # Fixed-point, because str(Decimal) switches to exponent notation ("1E+2") the CRD pattern refuses.
        PlainSerializer(lambda amount: format(amount, "f"), return_type=str),
        WithJsonSchema(schema),
    ]


# A price: non-negative, at most 9 integer digits and 6 decimals ("0.35", "12", "0.000125").
PRICE_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,6})?$"
Price = decimal_string(
    PRICE_PATTERN,
    example="0.35",
    message='must be a non-negative decimal string such as "0.35", with at most 6 decimals',
)
# An amount on an invoice may be negative (an adjustment that refunds a session).
AMOUNT_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$"
Amount = decimal_string(AMOUNT_PATTERN, example="12.40", message='must be a decimal string such as "12.40" or "-3.10"')
# A VAT rate in percent, 0 to 100 with up to 4 decimals ("21", "5.5").
VAT_PATTERN = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$"
VatRate = decimal_string(
    VAT_PATTERN,
    example="21",
    message='must be a VAT rate in percent between "0" and "100", e.g. "21" or "5.5"',
)


class ApiModel(BaseModel):
    """Base of every API type: snake_case in Python, camelCase in YAML, docstrings become the CRD text."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
        extra="forbid",
        frozen=True,
    )


class LocalObjectReference(ApiModel):
    """A reference to another object in the same namespace."""

    name: str = Field(min_length=1, max_length=DNS_SUBDOMAIN_MAX, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the referenced object, e.g. `energy-standard`."""


class SecretKeySelector(ApiModel):
    """A key of a Secret in the same namespace."""

    name: str = Field(min_length=1, max_length=DNS_SUBDOMAIN_MAX, pattern=DNS_SUBDOMAIN_PATTERN)
    """Name of the Secret."""

    key: str = Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")
    """Key within the Secret's data, e.g. `password`."""


class ConditionStatus(StrEnum):
    """Whether a condition holds, as in Kubernetes API conventions."""

    TRUE = "True"  # the condition holds
    FALSE = "False"  # the condition does not hold
    UNKNOWN = "Unknown"  # the operator cannot tell yet


class Condition(ApiModel):
    """One aspect of an object's state, shaped like metav1.Condition and cert-manager's conditions."""

    type: str = Field(min_length=1, max_length=316, pattern=r"^([a-z0-9.-]+/)?[A-Za-z][A-Za-z0-9_]*$")
    """Type of the condition in CamelCase, e.g. `Ready`, `Connected`, `Approved`."""

    status: ConditionStatus
    """Status of the condition: `True`, `False` or `Unknown`."""

    reason: str = Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    """Programmatic identifier of the cause, one CamelCase word, e.g. `TariffNotFound`."""

    message: str = Field(default="", max_length=32768)
    """Human-readable sentence about the transition; names the other object involved."""

    last_transition_time: datetime
    """When the condition last changed status, reason or message (RFC 3339, UTC)."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The `metadata.generation` the condition was computed from."""


Conditions = Annotated[
    list[Condition],
    Field(
        max_length=32,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]


@dataclass(frozen=True)
class PrinterColumn:
    """One column of `kubectl get`, as CustomResourceDefinition `additionalPrinterColumns` declares it."""

    name: str
    json_path: str
    type: str = "string"
    description: str = ""
    priority: int = 0


def condition_column(condition_type: str, *, priority: int = 0) -> PrinterColumn:
    """A column showing one condition's status, like cert-manager's `Ready` column."""
    return PrinterColumn(
        name=condition_type,
        json_path=f'.status.conditions[?(@.type=="{condition_type}")].status',
        description=f"Status of the {condition_type} condition.",
        priority=priority,
    )


AGE_COLUMN = PrinterColumn(name="Age", json_path=".metadata.creationTimestamp", type="date")


@dataclass(frozen=True)
class ResourceNames:
    """How a kind is named and shown: the CRD's `names` plus its printer columns."""

    kind: str
    plural: str
    singular: str
    short_names: Sequence[str] = ()
    categories: Sequence[str] = ("chargeops",)
    printer_columns: Sequence[PrinterColumn] = field(default_factory=tuple)


class Resource(ApiModel):
    """A top-level object of a chargeops kind: apiVersion, kind, metadata, spec, status."""

    names: ClassVar[ResourceNames]

    api_version: str = API_VERSION
    """APIVersion of this representation; always `chargeops.io/v1alpha1`."""

    kind: str
    """Kind of this object."""

    metadata: Mapping[str, Any] = Field(default_factory=dict)
    """Standard object metadata."""
