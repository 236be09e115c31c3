"""Chargers naming the same charge point: which others share one Charger's ``spec.chargePointId``.

The gateway knows a charger by its charge point id alone, across namespaces, so two Chargers naming one
id would both write its desired state and its password, and whichever wrote last would silently take
over a live charger. So neither writes while both exist: both show ``Ready=False`` with reason
``DuplicateChargePointId`` naming the other, and the gateway keeps the document it holds (written by
whichever Charger came first), so the live charger goes on exactly as it was.

The older Charger does not win by age. The newer one may be the intended one (a charger moved to
another namespace or renamed by re-creating it), and the operator cannot tell a copy-paste mistake from
a move; a person deletes the wrong one, and the other takes over on its next pass. Deleting one of them
never releases the charge point while the other still names it; a Charger being deleted no longer
counts as a claim.

Called by ``reconcile.push`` and the Charger delete handler with the claims of the
``charge_point_index``; pure.
"""

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from chargeops.api.v1alpha1 import Charger


@dataclasses.dataclass(frozen=True)
class Claim:
    """One Charger naming a charge point id."""

    namespace: str | None
    name: str
    uid: str
    deleting: bool

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def claim_of(metadata: Mapping[str, Any]) -> Claim:
    """The claim of the Charger with ``metadata`` on its charge point id."""
    return Claim(
        namespace=metadata.get("namespace"),
        name=str(metadata.get("name")),
        uid=str(metadata.get("uid")),
        deleting=metadata.get("deletionTimestamp") is not None,
    )


def rivals(charger: Charger, claims: Iterable[Claim]) -> list[Claim]:
    """The other Chargers, not being deleted, that name ``charger``'s charge point id, by namespace/name."""
    uid = str(charger.metadata.get("uid"))
    return sorted({claim for claim in claims if claim.uid != uid and not claim.deleting}, key=str)
