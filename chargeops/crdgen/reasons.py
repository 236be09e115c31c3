"""Which condition types and reasons belong to which kind, read from ``chargeops/api/v1alpha1/conditions.py``.

That module declares each type and reason once, as a constant with a comment on the scenario, grouped under
headings such as ``# Types of a Charger.`` or ``# Reasons of Invoices.``. The comments are the only place
the scenarios are written, so this module reads the source text: the headings say whose a constant is, the
trailing comment says what it means. Called by ``chargeops.crdgen.docs``; a constant this cannot place
raises, so a new heading nobody taught it fails ``chargeops docs`` instead of vanishing from the docs.
"""

import dataclasses
import enum
import re
from collections.abc import Iterable, Mapping, Sequence

from chargeops.crdgen.errors import UnplacedConditionError

_HEADING = re.compile(r"^# (?P<text>.+)$")
_CONSTANT = re.compile(r'^(?P<name>[A-Z][A-Z0-9_]*) = "(?P<value>[^"]+)"\s*#\s*(?:noqa: \S+ - )?(?P<meaning>.*)$')


class Role(enum.Enum):
    """What the constants under a heading are."""

    TYPE = "type"  # a condition type
    REASON = "reason"  # a reason a condition carries
    EVENT_REASON = "event reason"  # a reason only Events carry


@dataclasses.dataclass(frozen=True)
class Entry:
    """One declared type or reason: its value and the scenario its comment names."""

    name: str
    value: str
    meaning: str


@dataclasses.dataclass(frozen=True)
class Section:
    """The constants under one heading, and whose they are."""

    heading: str
    role: Role
    kinds: tuple[str, ...]
    entries: tuple[Entry, ...]


@dataclasses.dataclass(frozen=True)
class KindConditions:
    """The condition types, reasons and Event-only reasons of one kind, shared ones first."""

    types: tuple[Entry, ...]
    reasons: tuple[Entry, ...]
    event_reasons: tuple[Entry, ...]


def sections(source: str, kinds: Sequence[str]) -> list[Section]:
    """The typed sections of ``source`` (the text of conditions.py), in file order.

    A constant under a heading that names no role or no kind raises UnplacedConditionError.
    """
    found: list[Section] = []
    heading: str | None = None
    entries: list[Entry] = []
    for line in source.splitlines():
        if match := _HEADING.match(line):
            _close(found, heading, entries, kinds)
            heading, entries = match["text"], []
        elif match := _CONSTANT.match(line):
            entries.append(Entry(match["name"], match["value"], match["meaning"].strip()))
    _close(found, heading, entries, kinds)
    return found


def for_kind(all_sections: Iterable[Section], kind: str) -> KindConditions:
    """What ``kind`` declares, shared sections included."""
    mine = [section for section in all_sections if kind in section.kinds]

    def of(role: Role) -> tuple[Entry, ...]:
        return tuple(entry for section in mine if section.role is role for entry in section.entries)

    return KindConditions(types=of(Role.TYPE), reasons=of(Role.REASON), event_reasons=of(Role.EVENT_REASON))


def check_complete(all_sections: Iterable[Section], declared: Mapping[str, str]) -> None:
    """Raise unless the sections hold exactly the string constants ``declared`` (name to value) holds."""
    parsed = {entry.name: entry.value for section in all_sections for entry in section.entries}
    missing = sorted(set(declared) - set(parsed))
    if missing:
        raise UnplacedConditionError(missing[0], 'is not a `NAME = "Value"  # scenario` line under a heading')
    for name, value in parsed.items():
        if declared.get(name) != value:
            raise UnplacedConditionError(name, f"reads {value!r} in the source but not at run time")


def _close(found: list[Section], heading: str | None, entries: list[Entry], kinds: Sequence[str]) -> None:
    """Append the section that just ended, if it declared anything."""
    if not entries:
        return
    if heading is None:
        raise UnplacedConditionError(entries[0].name, "comes before any heading")
    role = _role(heading)
    owners = _owners(heading, kinds)
    if role is None or not owners:
        raise UnplacedConditionError(entries[0].name, f"sits under {heading!r}, which names no role or kind")
    found.append(Section(heading, role, owners, tuple(entries)))


def _role(heading: str) -> Role | None:
    lowered = heading.lower()
    if "reasons" in lowered and "events only" in lowered:
        return Role.EVENT_REASON
    if "reasons" in lowered:
        return Role.REASON
    if lowered.startswith("types"):
        return Role.TYPE
    return None


def _owners(heading: str, kinds: Sequence[str]) -> tuple[str, ...]:
    """The kinds a heading names (``Charger``, ``Chargers``), or all of them for shared and generic ones."""
    if "all kinds" in heading or heading.lower().startswith("generic"):
        return tuple(kinds)
    return tuple(kind for kind in kinds if re.search(rf"\b{kind}s?\b", heading))
