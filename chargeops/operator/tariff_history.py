"""Which prices were in force when: the revisions a Tariff keeps in its status.

A session is priced with the tariff in force at its start, but invoiced after its month closes, when the
Tariff may have changed. So the operator snapshots every spec it sees into ``status.revisions`` (with
the moment it saw it) and the billing pass looks the session's start up there. A spec the operator never
saw (two edits while it was down) was never in force as far as billing knows; the later one counts from
when the operator saw it.
"""

from collections.abc import Sequence
from datetime import datetime

from chargeops.api.v1alpha1 import Tariff, TariffRevision, TariffSpec
from chargeops.api.v1alpha1.tariff import MAX_TARIFF_REVISIONS


def record(tariff: Tariff, *, now: datetime) -> list[TariffRevision] | None:
    """The revisions with the current spec appended, or None when the latest already holds it."""
    kept = list(tariff.status.revisions or []) if tariff.status is not None else []
    if kept and kept[-1].spec == tariff.spec:
        return None
    generation = int(tariff.metadata.get("generation") or 1)
    kept.append(TariffRevision(generation=generation, effective_from=now, spec=tariff.spec))
    return kept[-MAX_TARIFF_REVISIONS:]


def in_force(revisions: Sequence[TariffRevision], at: datetime) -> TariffRevision:
    """The revision that prices a session starting ``at``: the latest effective by then, or the oldest kept
    (there were no other prices before it)."""
    if not revisions:
        raise ValueError("a tariff with no revisions prices nothing")
    chosen = revisions[0]
    for revision in revisions:
        if revision.effective_from <= at:
            chosen = revision
    return chosen


def spec_in_force(tariff: Tariff, at: datetime) -> TariffSpec:
    """The spec that prices a session of ``tariff`` starting ``at``; the current spec before any snapshot."""
    revisions = tariff.status.revisions if tariff.status is not None else None
    return in_force(revisions, at).spec if revisions else tariff.spec
