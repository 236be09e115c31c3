"""Local-list planning: Differential when the charger's list is known, Full otherwise, split by size."""

from hypothesis import given
from hypothesis import strategies as st

from chargeops.ocpp_gateway.convergence import local_list
from chargeops.ocpp_gateway.convergence.local_list import UpdateType

TAGS = st.sets(st.text(alphabet="ABCDEF0123456789", min_size=4, max_size=8), max_size=40)


def apply(holding: set[str], updates: list[local_list.ListUpdate]) -> set[str]:
    """What a charger holds after ``updates`` (OCPP 1.6 §5.15 semantics)."""
    for update in updates:
        if update.update_type is UpdateType.FULL:
            holding = set(update.accept)
        else:
            holding = (holding | set(update.accept)) - set(update.remove)
    return holding


def test_unknown_charger_gets_a_full_list() -> None:
    updates = local_list.plan(["B", "A"], charger_version=3, known_tags=None, max_entries=10)
    assert updates == [local_list.ListUpdate(UpdateType.FULL, 4, accept=("A", "B"))]


def test_known_list_gets_only_the_difference() -> None:
    updates = local_list.plan(["A", "C"], charger_version=7, known_tags=["A", "B"], max_entries=10)
    assert updates == [local_list.ListUpdate(UpdateType.DIFFERENTIAL, 8, accept=("C",), remove=("B",))]


def test_nothing_is_sent_when_the_charger_already_holds_the_tags() -> None:
    assert local_list.plan(["A"], charger_version=2, known_tags=["A"], max_entries=None) == []


def test_an_empty_list_needs_no_clearing() -> None:
    assert local_list.plan([], charger_version=0, known_tags=None, max_entries=None) == []


def test_a_long_list_is_split_into_messages_with_rising_versions() -> None:
    tags = [f"T{n:03}" for n in range(7)]
    updates = local_list.plan(tags, charger_version=0, known_tags=None, max_entries=3)
    assert [(u.update_type, u.version, len(u.accept)) for u in updates] == [
        (UpdateType.FULL, 1, 3),
        (UpdateType.DIFFERENTIAL, 2, 3),
        (UpdateType.DIFFERENTIAL, 3, 1),
    ]


@given(desired=TAGS, known=st.one_of(st.none(), TAGS), version=st.integers(0, 1000), limit=st.integers(1, 9))
def test_any_plan_leaves_the_charger_holding_exactly_the_desired_tags(
    desired: set[str], known: set[str] | None, version: int, limit: int
) -> None:
    updates = local_list.plan(desired, charger_version=version, known_tags=known, max_entries=limit)
    # Version 0 means an empty list; any other version with unknown content may hold anything.
    holding = set(known) if known is not None else ({"stale-tag"} if version > 0 else set())
    assert apply(holding, updates) == desired
    assert all(len(u.accept) + len(u.remove) <= limit for u in updates)
    versions = [u.version for u in updates]
    assert versions == sorted(set(versions))
    assert all(v > version for v in versions)
