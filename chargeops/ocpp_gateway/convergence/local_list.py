"""Plan the SendLocalList messages that bring a charger's local authorization list to the desired tags.

Pure. OCPP 1.6 §5.15 / 2.0.1 D01: a Full update replaces the list, a Differential one adds and removes
entries; either carries the version the charger must hold afterwards. A list longer than the charger
takes in one message (SendLocalListMaxLength, ItemsPerMessage) goes as several messages, each with the
next version, so every message is strictly newer than the one before — the rule chargers check before
answering VersionMismatch. The gateway remembers which charger version holds which tags.
"""

import dataclasses
from collections.abc import Collection, Sequence
from enum import StrEnum

# When a charger does not say how many entries one message may hold; small enough for every charger
# seen in the field, large enough that 10,000 tags are 40 messages.
DEFAULT_MAX_ENTRIES = 250


class UpdateType(StrEnum):
    """OCPP UpdateType."""

    FULL = "Full"  # replace the whole list
    DIFFERENTIAL = "Differential"  # add/update and remove entries


@dataclasses.dataclass(frozen=True)
class ListUpdate:
    """One SendLocalList request: entries to accept, and (Differential only) entries to remove."""

    update_type: UpdateType
    version: int
    accept: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


def plan(
    desired: Collection[str],
    *,
    charger_version: int,
    known_tags: Collection[str] | None,
    max_entries: int | None,
) -> list[ListUpdate]:
    """The updates, in order, that take a charger at ``charger_version`` to hold exactly ``desired``.

    ``known_tags`` are the tags the gateway last sent for that version, or None when it cannot tell what
    the charger holds (first contact, or the versions disagree); then only a Full update is safe.
    """
    limit = max(1, max_entries or DEFAULT_MAX_ENTRIES)
    wanted = sorted(set(desired))
    base = max(charger_version, 0)
    if not wanted and charger_version <= 0 and not known_tags:
        return []  # an empty list (version 0) or no list support (-1): nothing to clear
    if known_tags is not None:
        known = set(known_tags)
        if known == set(wanted):
            return []
        added = [tag for tag in wanted if tag not in known]
        removed = sorted(known - set(wanted))
        return _differential_chunks(added, removed, first_version=base + 1, limit=limit)
    return full(wanted, first_version=base + 1, limit=limit)


def full(wanted: Sequence[str], *, first_version: int, limit: int) -> list[ListUpdate]:
    """A Full update of ``wanted``, continued by Differential additions when it exceeds ``limit``."""
    head = ListUpdate(UpdateType.FULL, first_version, accept=tuple(wanted[:limit]))
    return [head, *_differential_chunks(wanted[limit:], [], first_version=first_version + 1, limit=limit)]


def _differential_chunks(
    added: Sequence[str], removed: Sequence[str], *, first_version: int, limit: int
) -> list[ListUpdate]:
    entries = [(tag, True) for tag in added] + [(tag, False) for tag in removed]
    updates = []
    for index, start in enumerate(range(0, len(entries), limit)):
        chunk = entries[start : start + limit]
        updates.append(
            ListUpdate(
                UpdateType.DIFFERENTIAL,
                first_version + index,
                accept=tuple(tag for tag, keep in chunk if keep),
                remove=tuple(tag for tag, keep in chunk if not keep),
            )
        )
    return updates
