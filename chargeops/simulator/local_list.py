"""The local authorization list of a simulated charger: versioned Full and Differential updates.

``v16`` (SendLocalList, GetLocalListVersion: OCPP 1.6 §5.15, §5.10) and ``v201`` (use cases D01, D02) apply
the gateway's updates here, and the station consults the list to authorize offline (LocalAuthorizeOffline)
or before asking the central system (LocalPreAuthorize). The version rules are the part a gateway gets wrong,
so they are all in ``apply``:

- A Full update replaces the list and takes the given version, whatever the current one is.
- A Differential update whose version is not newer than the current one answers VersionMismatch and
  changes nothing. Its entries with idTagInfo are added or replaced; entries without it are removed.
- An update with more entries than SendLocalListMaxLength, or one that would leave more than
  LocalAuthListMaxLength entries, answers Failed and changes nothing.
- A charger built without the feature answers NotSupported. One that has it but is configured with
  LocalAuthListEnabled false still stores updates; it only stops consulting the list.
- Version 0 means "no list"; a charger that cannot hold a list reports -1 (§5.10).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class UpdateType(StrEnum):
    """1.6 UpdateType and 2.0.1 UpdateEnumType."""

    FULL = "Full"
    DIFFERENTIAL = "Differential"


class UpdateStatus(StrEnum):
    """1.6 UpdateStatus; 2.0.1 SendLocalListStatusEnumType has all but NotSupported."""

    ACCEPTED = "Accepted"
    FAILED = "Failed"
    NOT_SUPPORTED = "NotSupported"
    VERSION_MISMATCH = "VersionMismatch"


@dataclass(frozen=True)
class IdTagInfo:
    """What the list says of one id tag (1.6 IdTagInfo / 2.0.1 IdTokenInfoType, the fields used here)."""

    status: str
    """Accepted, Blocked, Expired, Invalid, ConcurrentTx (and 2.0.1's Unknown, NoCredit, …)."""

    expiry_date: datetime | None = None
    """After this moment the tag counts as Expired."""

    parent_id_tag: str | None = None
    """The group the tag belongs to (1.6 parentIdTag, 2.0.1 groupIdToken)."""

    def is_valid_at(self, moment: datetime) -> bool:
        """Whether the tag may start a transaction at ``moment``."""
        return self.status == "Accepted" and (self.expiry_date is None or moment < self.expiry_date)


@dataclass(frozen=True)
class ListEntry:
    """One entry of an update: ``info`` None removes the tag (Differential) or is skipped (Full)."""

    id_tag: str
    info: IdTagInfo | None


class LocalAuthorizationList:
    """A charger's local list and its version."""

    def __init__(self, *, max_length: int, max_per_message: int) -> None:
        self.version = 0
        self._entries: dict[str, IdTagInfo] = {}
        self.max_length = max_length
        self.max_per_message = max_per_message

    def apply(
        self, version: int, update_type: UpdateType, entries: Sequence[ListEntry], *, supported: bool = True
    ) -> UpdateStatus:
        """Apply one SendLocalList; return its status. A refused update changes nothing."""
        if not supported:
            return UpdateStatus.NOT_SUPPORTED
        if len(entries) > self.max_per_message:
            return UpdateStatus.FAILED
        if update_type is UpdateType.FULL:
            updated = {entry.id_tag: entry.info for entry in entries if entry.info is not None}
        else:
            # 1.6 §5.15 / 2.0.1 D01: a Differential must carry a newer version than the list holds.
            if version <= self.version:
                return UpdateStatus.VERSION_MISMATCH
            updated = dict(self._entries)
            for entry in entries:
                if entry.info is None:
                    updated.pop(entry.id_tag, None)
                else:
                    updated[entry.id_tag] = entry.info
        if len(updated) > self.max_length:
            return UpdateStatus.FAILED
        self._entries = updated
        # An empty Full update clears the list, and an empty list has version 0 whatever was sent.
        self.version = version if updated or update_type is UpdateType.DIFFERENTIAL else 0
        return UpdateStatus.ACCEPTED

    def lookup(self, id_tag: str) -> IdTagInfo | None:
        """The entry for ``id_tag``, if the list has one."""
        return self._entries.get(id_tag)

    @property
    def entries(self) -> Mapping[str, IdTagInfo]:
        """All entries, by id tag."""
        return dict(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class AuthorizationCache:
    """Id tags the central system answered recently: the 1.6 Authorization Cache, 2.0.1 use case C10."""

    def __init__(self) -> None:
        self._entries: dict[str, IdTagInfo] = {}

    def remember(self, id_tag: str, info: IdTagInfo) -> None:
        """Keep the latest answer for ``id_tag``."""
        self._entries[id_tag] = info

    def lookup(self, id_tag: str) -> IdTagInfo | None:
        """The cached answer for ``id_tag``, if any."""
        return self._entries.get(id_tag)

    def clear(self) -> None:
        """ClearCache."""
        self._entries.clear()
