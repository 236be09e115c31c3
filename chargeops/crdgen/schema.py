"""Turn a pydantic JSON schema into a structural OpenAPI v3 schema the API server accepts.

pydantic emits JSON Schema 2020-12 with ``$defs``/``$ref``, ``anyOf [X, null]`` for optional fields, auto
titles and ``additionalProperties: false``. A CRD needs a *structural* schema: every node typed, no refs,
no ``anyOf`` alternatives, unknown fields pruned by the server rather than forbidden in the schema
(Kubernetes "Specifying a structural schema"). Called by ``chargeops.crdgen.crd``.
"""

import re
from collections.abc import Mapping
from typing import Any

from chargeops.crdgen.errors import NotStructuralError

JsonSchema = dict[str, Any]

# Keys that only make sense in JSON Schema 2020-12 or only to pydantic; the CRD has no use for them.
_DROPPED_KEYS = frozenset({"title", "$defs", "examples"})
_LONE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)")


def structural(schema: Mapping[str, Any], *, defs: Mapping[str, Any] | None = None) -> JsonSchema:
    """Return ``schema`` inlined and rewritten as a structural schema."""
    return _convert(schema, defs if defs is not None else schema.get("$defs", {}), path="")


def _convert(node: Mapping[str, Any], defs: Mapping[str, Any], *, path: str) -> JsonSchema:
    inner = _single_alternative(node, path=path)
    if inner is not None:
        # The referenced (or only non-null) schema, with the field's own keys on top: a field's docstring
        # describes the field better than its type's class docstring does.
        siblings = {k: v for k, v in node.items() if k not in {"$ref", "anyOf", "allOf", "oneOf"}}
        return _convert({**_resolve(inner, defs, path=path), **siblings}, defs, path=path)

    out: JsonSchema = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS:
            continue
        if key == "additionalProperties" and value is False:
            continue  # the server prunes unknown fields, and strict field validation reports them
        if key == "default" and value is None:
            continue
        if key == "description":
            out[key] = _LONE_NEWLINE.sub(" ", value)
        elif key == "properties":
            out[key] = {name: _convert(sub, defs, path=f"{path}.{name}") for name, sub in value.items()}
        elif key == "items" or (key == "additionalProperties" and isinstance(value, Mapping)):
            out[key] = _convert(value, defs, path=f"{path}[]")
        else:
            out[key] = value
    if "type" not in out and out:
        raise NotStructuralError(path or ".", "has no type")
    return out


def _single_alternative(node: Mapping[str, Any], *, path: str) -> Mapping[str, Any] | None:
    """The one schema a ``$ref``, ``allOf`` or ``X | None`` node stands for, or None for a plain node."""
    if "$ref" in node:
        return {"$ref": node["$ref"]}
    for combinator in ("anyOf", "allOf", "oneOf"):
        if combinator in node:
            options = [o for o in node[combinator] if o != {"type": "null"}]
            if len(options) != 1:
                raise NotStructuralError(path or ".", f"{combinator} with {len(options)} alternatives")
            return dict(options[0])
    return None


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any], *, path: str) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    name = ref.removeprefix("#/$defs/")
    if name not in defs:
        raise NotStructuralError(path or ".", f"refers to unknown definition {ref}")
    target: Mapping[str, Any] = defs[name]
    return {**_resolve(target, defs, path=path), **{k: v for k, v in node.items() if k != "$ref"}}
