"""Assemble a CustomResourceDefinition for one chargeops kind from its pydantic model.

Pure: model in, CRD document out. ``chargeops.crdgen.files`` writes the documents to ``crds/``.
"""

import inspect
from typing import Any

from chargeops.api.v1alpha1 import GROUP, VERSION, Resource
from chargeops.crdgen import schema

GENERATED_BY_ANNOTATION = f"{GROUP}/generated-by"


def crd_name(kind: type[Resource]) -> str:
    """The CRD's metadata.name, `<plural>.<group>`."""
    return f"{kind.names.plural}.{GROUP}"


def openapi_schema(kind: type[Resource]) -> schema.JsonSchema:
    """The structural `openAPIV3Schema` of ``kind``: apiVersion, kind, metadata, spec, status."""
    generated = kind.model_json_schema(by_alias=True, mode="validation")
    properties = generated["properties"]
    defs = generated.get("$defs", {})
    root: schema.JsonSchema = {
        "description": inspect.cleandoc(kind.__doc__ or ""),
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object.",
                "type": "string",
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents.",
                "type": "string",
            },
            "metadata": {"type": "object"},
            "spec": schema.structural(properties["spec"], defs=defs),
            "status": schema.structural(properties["status"], defs=defs),
        },
        "required": ["spec"],
    }
    return root


def printer_columns(kind: type[Resource]) -> list[dict[str, Any]]:
    """`additionalPrinterColumns` for ``kind``, in the order `kubectl get` shows them."""
    columns = []
    for column in kind.names.printer_columns:
        entry: dict[str, Any] = {"name": column.name, "type": column.type, "jsonPath": column.json_path}
        if column.description:
            entry["description"] = column.description
        if column.priority:
            entry["priority"] = column.priority
        columns.append(entry)
    return columns


def custom_resource_definition(kind: type[Resource]) -> dict[str, Any]:
    """The whole CRD document for ``kind``, ready to serialize."""
    names = kind.names
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": crd_name(kind),
            "annotations": {GENERATED_BY_ANNOTATION: "chargeops crds"},
            "labels": {"app.kubernetes.io/part-of": "chargeops"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": names.kind,
                "listKind": f"{names.kind}List",
                "plural": names.plural,
                "singular": names.singular,
                "shortNames": list(names.short_names),
                "categories": list(names.categories),
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": printer_columns(kind),
                    "schema": {"openAPIV3Schema": openapi_schema(kind)},
                }
            ],
        },
    }
