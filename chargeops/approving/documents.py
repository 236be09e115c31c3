"""YAML manifests: find the pay-per-month Chargers in a file and write their approvals into its text.

``chargeops approve -f`` prepares a git commit, so the diff must show the approval and nothing else.
This module therefore edits the text rather than dumping a re-serialized copy: PyYAML's composer knows
where every node starts and ends, and the annotation is written there — replacing an existing value,
adding a line to an existing ``metadata.annotations``, or adding ``annotations`` to ``metadata``.
Comments, quoting, flow style, key order and line endings stay as they were. The result is parsed
again and must equal the old documents with only the approvals changed; if it does not (anchors,
unusual layouts), nothing is written and the error says what to add by hand.
"""

import copy
import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from chargeops.api.v1alpha1 import GROUP, approval
from chargeops.approving import errors, states

# When metadata's own entries give no indentation step to copy (a flow-style parent), use YAML's usual.
DEFAULT_INDENT = 2


@dataclasses.dataclass(frozen=True)
class ChargerDocument:
    """One pay-per-month Charger of a manifest: where it is and its approval state."""

    position: int
    """Index of its document in the file, from 0."""

    line: int
    """Line of the file where its document starts, from 1."""

    state: states.ApprovalState
    node: yaml.MappingNode = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A parsed YAML file: its text, its documents as data, and the Chargers it holds."""

    source: str
    text: str
    documents: list[Any]
    chargers: list[ChargerDocument]
    """The pay-per-month Chargers, in file order."""

    free_chargers: list[str]
    """Names of the Chargers that charge for free (nothing to approve)."""


@dataclasses.dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    replacement: str


def parse(text: str, *, source: str) -> Manifest:
    """Read every document of ``text``; ``source`` names the file in messages."""
    loader = yaml.SafeLoader(text)
    documents: list[Any] = []
    chargers: list[ChargerDocument] = []
    free: list[str] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            data = loader.construct_document(node)
            position = len(documents)
            documents.append(data)
            if not _is_charger(data) or not isinstance(node, yaml.MappingNode):
                continue
            if not _requests_pay_per_month(data):
                free.append(str((data.get("metadata") or {}).get("name")))
                continue
            state = states.assess(data)
            chargers.append(ChargerDocument(position, node.start_mark.line + 1, state, node))
    except yaml.YAMLError as exc:
        raise errors.UneditableDocumentError(f"{source} is not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return Manifest(source=source, text=text, documents=documents, chargers=chargers, free_chargers=free)


def select(manifest: Manifest, names: Iterable[str] = ()) -> list[ChargerDocument]:
    """The pay-per-month Chargers named in ``names`` (all of them if none), or an error saying why none."""
    wanted = list(names)
    if not wanted:
        if not manifest.chargers:
            raise errors.NothingToApproveError(
                f"{manifest.source} holds no Charger with spec.chargingMode.payPerMonth: true; "
                "approvals confirm pay-per-month only, so there is nothing to approve."
            )
        return list(manifest.chargers)
    by_name = {document.state.name: document for document in manifest.chargers}
    chosen = []
    for name in wanted:
        if name in by_name:
            chosen.append(by_name[name])
        elif name in manifest.free_chargers:
            raise errors.NothingToApproveError(
                f"charger/{name} in {manifest.source} charges for free (spec.chargingMode.payPerMonth is not "
                "true); approvals confirm pay-per-month only, so there is nothing to approve."
            )
        else:
            raise errors.ChargerNotFoundError(f"{manifest.source} holds no Charger named {name}.", name=name)
    return chosen


def approve(manifest: Manifest, chargers: Sequence[ChargerDocument]) -> str:
    """``manifest.text`` with each of ``chargers`` carrying its expected approval; the rest unchanged."""
    newline = "\r\n" if "\r\n" in manifest.text else "\n"
    edits = [_edit(manifest.text, document, newline=newline) for document in chargers]
    text = manifest.text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.replacement + text[edit.end :]
    _verify(manifest, chargers, text)
    return text


def _is_charger(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("kind") != "Charger":
        return False
    return str(data.get("apiVersion", "")).split("/")[0] == GROUP


def _requests_pay_per_month(data: dict[str, Any]) -> bool:
    mode = (data.get("spec") or {}).get("chargingMode") or {}
    return isinstance(mode, dict) and mode.get("payPerMonth") is True


def _edit(text: str, document: ChargerDocument, *, newline: str) -> _Edit:
    """Where and what to write so ``document`` carries its approval."""
    value = document.state.expected
    entry = f"{approval.ANNOTATION}: {value}"
    metadata_key, metadata = _entry(document.node, "metadata") or (None, None)
    if metadata_key is None or not isinstance(metadata, yaml.MappingNode):
        raise _uneditable(document, "metadata is not a mapping")
    found = _entry(metadata, "annotations")
    step = _indent_step(metadata_key, metadata)
    if found is None:
        block = [("annotations:", 0), (entry, step)]
        return _add_entry(text, metadata, block=block, flow=f"annotations: {{{entry}}}", newline=newline)
    annotations_key, annotations = found
    if isinstance(annotations, yaml.ScalarNode) and annotations.tag == "tag:yaml.org,2002:null":
        if annotations.start_mark.index == annotations.end_mark.index:  # `annotations:` with nothing after
            at = _line_end(text, annotations_key.end_mark.index)
            indent = " " * (annotations_key.start_mark.column + step)
            return _Edit(at, at, _leading_newline(text, at, newline) + indent + entry + newline)
        return _Edit(annotations.start_mark.index, annotations.end_mark.index, f"{{{entry}}}")
    if not isinstance(annotations, yaml.MappingNode):
        raise _uneditable(document, "metadata.annotations is not a mapping")
    existing = _entry(annotations, approval.ANNOTATION)
    if existing is None:
        return _add_entry(text, annotations, block=[(entry, 0)], flow=entry, newline=newline)
    scalar = existing[1]
    if not isinstance(scalar, yaml.ScalarNode) or scalar.style in ("|", ">"):
        raise _uneditable(document, f"the {approval.ANNOTATION} value is not a one-line string")
    quote = scalar.style if scalar.style in ("'", '"') else ""
    return _Edit(scalar.start_mark.index, scalar.end_mark.index, f"{quote}{value}{quote}")


def _add_entry(
    text: str, mapping: yaml.MappingNode, *, block: Sequence[tuple[str, int]], flow: str, newline: str
) -> _Edit:
    """Add an entry to ``mapping``: as lines after its last one (block), or first in its braces (flow).

    ``block`` is the entry's lines with their indentation relative to the mapping's keys.
    """
    if mapping.flow_style or not mapping.value:
        if not mapping.value:  # `{}`: replace the braces
            return _Edit(mapping.start_mark.index, mapping.end_mark.index, f"{{{flow}}}")
        first_key = mapping.value[0][0]
        return _Edit(first_key.start_mark.index, first_key.start_mark.index, f"{flow}, ")
    column = mapping.value[0][0].start_mark.column
    at = _end_of_content(text, mapping)
    lines = "".join(" " * (column + extra) + line + newline for line, extra in block)
    return _Edit(at, at, _leading_newline(text, at, newline) + lines)


def _entry(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The key and value nodes of ``key`` in ``mapping``."""
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _indent_step(key: yaml.Node, mapping: yaml.MappingNode) -> int:
    """How far the file indents a nested mapping, read from ``key:`` and its block mapping below."""
    if mapping.flow_style or not mapping.value:
        return DEFAULT_INDENT
    step = mapping.value[0][0].start_mark.column - key.start_mark.column
    return step if step > 0 else DEFAULT_INDENT


def _end_of_content(text: str, node: yaml.Node) -> int:
    """The start of the line after ``node``'s last scalar (so its trailing comment stays where it is)."""
    leaf = node
    while isinstance(leaf, yaml.MappingNode | yaml.SequenceNode) and leaf.value:
        last = leaf.value[-1]
        leaf = last[1] if isinstance(leaf, yaml.MappingNode) else last
    end = leaf.end_mark
    if end.column == 0:  # a block scalar ends at the start of the next line
        return int(end.index)
    return _line_end(text, end.index)


def _line_end(text: str, index: int) -> int:
    """Index just after the line break that ends the line holding ``index`` (or the end of the text)."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _leading_newline(text: str, at: int, newline: str) -> str:
    """A line break to write first when inserting at the end of a file that lacks a final one."""
    return newline if at == len(text) and text and not text.endswith("\n") else ""


def _verify(manifest: Manifest, chargers: Sequence[ChargerDocument], text: str) -> None:
    """Parse the edited text: it must be the old documents plus the approvals, or nothing is written."""
    expected = copy.deepcopy(manifest.documents)
    for document in chargers:
        metadata = expected[document.position]["metadata"]
        metadata["annotations"] = dict(metadata.get("annotations") or {})
        metadata["annotations"][approval.ANNOTATION] = document.state.expected
    try:
        edited = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        edited = None
    if edited != expected:
        names = ", ".join(document.state.reference for document in chargers)
        raise errors.UneditableDocumentError(
            f"Cannot place the approval in {manifest.source} without changing other content ({names}); "
            f"add it by hand under metadata.annotations: "
            + "; ".join(f"{d.state.reference}: {approval.ANNOTATION}: {d.state.expected}" for d in chargers)
        )


def _uneditable(document: ChargerDocument, why: str) -> errors.UneditableDocumentError:
    return errors.UneditableDocumentError(
        f"{document.state.reference} (line {document.line}): {why}; set "
        f"metadata.annotations[{approval.ANNOTATION!r}] to {document.state.expected} by hand."
    )
