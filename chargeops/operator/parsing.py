"""Chargers parsed from kopf bodies as plans read them: the spec and the metadata plans use, parsed once
per change.

Called by the charger index (on every event of a Charger, status-only ones included) and by the Charger
handlers (on every change and timer tick). A status write does not change what a plan reads, so the
model parsed for the previous event is handed out again as long as the generation and the kept metadata
are the same. Leaving out the status, managed fields and other tools' annotations keeps the model small:
the operator holds one per Charger.
"""

import weakref
from collections.abc import Mapping
from typing import Any

from chargeops.api.v1alpha1 import API_VERSION, Charger

# Metadata a plan reads: identity, generation (the spec changed), labels (subscription selectors),
# deletion (a claim on a charge point ends) and chargeops's own annotations (the approval).
_KEPT = ("name", "namespace", "uid", "generation", "labels", "deletionTimestamp")
_OWN_ANNOTATIONS = "chargeops.io/"

# The models the charger index holds, by uid; an entry goes when its model does (the Charger is deleted
# and kopf drops it from the index).
_parsed: "weakref.WeakValueDictionary[str, Charger]" = weakref.WeakValueDictionary()


def charger(body: Mapping[str, Any]) -> Charger:
    """The Charger of ``body`` without its status, the same model as for the previous event when nothing
    a plan reads changed."""
    metadata = _kept(body.get("metadata") or {})
    uid = metadata.get("uid")
    known = _parsed.get(uid) if uid else None
    if known is not None and known.metadata == metadata:
        return known
    parsed = Charger.model_validate(
        {"apiVersion": API_VERSION, "kind": "Charger", "metadata": metadata, "spec": body.get("spec")}
    )
    if uid:
        _parsed[uid] = parsed
    return parsed


def _kept(metadata: Mapping[str, Any]) -> dict[str, Any]:
    kept = {key: metadata[key] for key in _KEPT if metadata.get(key) is not None}
    own = {k: v for k, v in (metadata.get("annotations") or {}).items() if k.startswith(_OWN_ANNOTATIONS)}
    if own:
        kept["annotations"] = own
    return kept
