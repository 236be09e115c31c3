"""Flatten a kind's structural schema into one entry per field, with everything the API server enforces on it.

Called by ``chargeops.crdgen.docs``, which prints the entries as the reference page of a kind. The schema is
the one the CRD carries (``crd.openapi_schema``), so what the page says is what the API server checks:
types, defaults, bounds, patterns and the CEL rules with the messages users see when they break one.
"""

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class Rule:
    """One CEL rule under ``x-kubernetes-validations``: what the user reads, and the expression."""

    message: str
    expression: str


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a kind, named by its YAML path as ``kubectl explain`` names it."""

    path: str
    """E.g. ``spec.chargingMode.tariffRef.name``; list items add ``[]``: ``spec.configuration[].key``."""

    type: str
    """``string``, ``integer``, ``boolean``, ``object``, ``array of object``, ``map of string``, …"""

    required: bool
    description: str
    default: str | None
    """The default as JSON text (``300``, ``"72h"``), or None when the field has none."""

    constraints: tuple[str, ...]
    """Bounds, patterns, allowed values and list semantics, each as a short phrase."""

    rules: tuple[Rule, ...]


def walk(schema: Mapping[str, Any], *, path: str) -> list[Field]:
    """Every field below ``schema`` (an object node such as ``spec``), parents before their children."""
    return list(_children(schema, path=path))


def describe(node: Mapping[str, Any], *, path: str, required: bool) -> Field:
    """The entry of one schema node."""
    default = node.get("default")
    return Field(
        path=path,
        type=type_name(node),
        required=required,
        description=node.get("description", ""),
        default=None if default is None else json.dumps(default),
        constraints=tuple(constraints(node)),
        rules=tuple(Rule(r["message"], r["rule"]) for r in node.get("x-kubernetes-validations", ())),
    )


def type_name(node: Mapping[str, Any]) -> str:
    """The node's type in words; a ``date-time`` string says so."""
    kind = node.get("type", "object")
    if kind == "array":
        return f"array of {type_name(node.get('items', {}))}"
    if kind == "object" and isinstance(node.get("additionalProperties"), Mapping):
        return f"map of {type_name(node['additionalProperties'])}"
    if node.get("format"):
        return f"{kind} ({node['format']})"
    return str(kind)


def constraints(node: Mapping[str, Any]) -> Iterator[str]:
    """What the schema itself (not CEL) requires of a value, in words."""
    if "enum" in node:
        yield "one of " + ", ".join(f"`{value}`" for value in node["enum"])
    for low, high, unit in (
        ("minLength", "maxLength", "characters"),
        ("minItems", "maxItems", "items"),
        ("minProperties", "maxProperties", "entries"),
    ):
        bounds = _bounds(node.get(low), node.get(high))
        if bounds:
            yield f"{bounds} {unit}"
    bounds = _bounds(node.get("minimum"), node.get("maximum"))
    if bounds:
        yield bounds
    if "pattern" in node:
        yield f"matches `{node['pattern']}`"
    list_type = node.get("x-kubernetes-list-type")
    if list_type == "set":
        yield "no duplicates"
    elif list_type == "map":
        keys = ", ".join(f"`{key}`" for key in node.get("x-kubernetes-list-map-keys", ()))
        yield f"one entry per {keys}"
    if "example" in node:
        yield f"e.g. `{node['example']}`"


def _children(node: Mapping[str, Any], *, path: str) -> Iterator[Field]:
    required = set(node.get("required", ()))
    for name, child in node.get("properties", {}).items():
        child_path = f"{path}.{name}"
        yield describe(child, path=child_path, required=name in required)
        yield from _nested(child, path=child_path)


def _nested(node: Mapping[str, Any], *, path: str) -> Iterator[Field]:
    """The fields inside an object node, or inside the items of an array node."""
    if node.get("type") == "array":
        items = node.get("items", {})
        if items.get("x-kubernetes-validations"):  # rules on each item as a whole
            yield describe(items, path=f"{path}[]", required=False)
        yield from _nested(items, path=f"{path}[]")
    elif "properties" in node:
        yield from _children(node, path=path)


def _bounds(low: object, high: object) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}" if low != high else f"exactly {low}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return ""
