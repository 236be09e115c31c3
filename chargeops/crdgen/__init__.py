"""CRD generation: the pydantic API types in, CustomResourceDefinition YAML out. Pure; no cluster."""

from chargeops.crdgen.crd import crd_name, custom_resource_definition, openapi_schema, printer_columns
from chargeops.crdgen.errors import CrdGenError, NotStructuralError, StaleCrdsError
from chargeops.crdgen.files import check, render, rendered, stale, write
from chargeops.crdgen.schema import structural

__all__ = [
    "CrdGenError",
    "NotStructuralError",
    "StaleCrdsError",
    "check",
    "crd_name",
    "custom_resource_definition",
    "openapi_schema",
    "printer_columns",
    "render",
    "rendered",
    "stale",
    "structural",
    "write",
]
