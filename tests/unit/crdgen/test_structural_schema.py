"""crdgen turns pydantic's JSON schema into a structural schema the API server accepts."""

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from chargeops import crdgen
from chargeops.api import v1alpha1


def nodes(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from nodes(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), Mapping):
        yield from nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), Mapping):
        yield from nodes(schema["additionalProperties"], f"{path}{{}}")


ALL_NODES = [
    (f"{kind.names.kind}{path}", node) for kind in v1alpha1.KINDS for path, node in nodes(crdgen.openapi_schema(kind))
]


def test_optional_field_becomes_a_plain_optional_property() -> None:
    converted = crdgen.structural(
        {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}], "default": None, "title": "X"}
    )
    assert converted == {"type": "string", "maxLength": 3}


def test_reference_is_inlined_and_the_field_description_wins() -> None:
    schema = {
        "$defs": {"Ref": {"type": "object", "description": "Type text.", "title": "Ref", "properties": {}}},
        "$ref": "#/$defs/Ref",
        "description": "Field text.",
    }
    assert crdgen.structural(schema) == {"type": "object", "description": "Field text.", "properties": {}}


def test_a_union_of_two_types_is_refused() -> None:
    with pytest.raises(crdgen.NotStructuralError, match="anyOf with 2 alternatives"):
        crdgen.structural({"anyOf": [{"type": "string"}, {"type": "integer"}]})


def test_hard_wrapped_docstrings_read_as_one_paragraph() -> None:
    assert crdgen.structural({"type": "string", "description": "one\ntwo\n\nthree"})["description"] == (
        "one two\n\nthree"
    )


@pytest.mark.parametrize(("path", "node"), ALL_NODES, ids=[p for p, _ in ALL_NODES])
def test_every_node_is_typed_and_free_of_json_schema_only_keys(path: str, node: Mapping[str, Any]) -> None:
    assert "type" in node, f"{path} has no type"
    assert not {"$ref", "$defs", "anyOf", "allOf", "oneOf", "title"} & node.keys()
    assert node.get("additionalProperties") is not False


@pytest.mark.parametrize(("path", "node"), ALL_NODES, ids=[p for p, _ in ALL_NODES])
def test_no_field_is_a_float(path: str, node: Mapping[str, Any]) -> None:
    assert node["type"] != "number", f"{path} would accept floats; money and meters are strings or integers"


def test_every_spec_and_status_field_is_documented_for_kubectl_explain() -> None:
    undocumented = [
        path
        for path, node in ALL_NODES
        if (".spec" in path or ".status" in path) and not path.endswith(("[]", "{}")) and not node.get("description")
    ]
    assert undocumented == []


def test_strings_checked_by_cel_have_a_length_bound() -> None:
    # The API server estimates the cost of each CEL rule from maxLength/maxItems and refuses unbounded ones.
    unbounded = [
        path
        for path, node in ALL_NODES
        if "x-kubernetes-validations" in node and node["type"] == "string" and "maxLength" not in node
    ]
    assert unbounded == []
