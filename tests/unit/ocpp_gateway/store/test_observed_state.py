"""Observed state per charger: merged field by field, dicts key by key, bad changes refused whole."""

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargeops.api.gateway import ConfigurationResult, ObservedState
from chargeops.api.v1alpha1.charger import OcppVersion
from chargeops.ocpp_gateway.store import Store, errors, observed
from tests.unit.ocpp_gateway.store.support import NOW, T0, first_words_sent

# Each example writes to a real database (PostgreSQL merges in SQL, SQLite in Python): a few dozen
# sequences per backend, each on a charger of its own.
DB_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_keys = st.sampled_from(["1", "2", "3"])
_change = st.fixed_dictionaries(
    {},
    optional={
        "connected": st.booleans(),
        "vendor": st.none() | st.sampled_from(["Acme", "Other"]),
        "local_list_version": st.none() | st.integers(min_value=-1, max_value=2**31),
        "drift": st.lists(st.sampled_from(["A", "B"]), max_size=2),
        "connector_status": st.dictionaries(_keys, st.none() | st.sampled_from(["Available", "Charging"])),
        "configuration": st.dictionaries(_keys, st.none() | st.text(max_size=3)),
        "configuration_results": st.dictionaries(_keys, st.none() | st.sampled_from(list(ConfigurationResult))),
    },
)
_replace = st.sets(st.sampled_from(sorted(observed.MERGED_FIELDS)), max_size=1)


async def test_an_unknown_charger_has_an_empty_observed_state(store: Store) -> None:
    assert await store.get_observed("CP-1") == ObservedState(charge_point_id="CP-1")


async def test_fields_merge_across_updates(store: Store) -> None:
    await store.update_observed("CP-1", {"connected": True, "connected_since": T0, "ocpp_version": "1.6"}, now=NOW)
    await store.update_observed("CP-1", {"vendor": "Acme", "model": "W1"}, now=NOW)

    state = await store.get_observed("CP-1")
    assert (state.connected, state.connected_since, state.ocpp_version) == (True, T0, OcppVersion.V16)
    assert (state.vendor, state.model) == ("Acme", "W1")


async def test_dict_fields_merge_key_by_key_and_none_removes_a_key(store: Store) -> None:
    await store.update_observed("CP-1", {"connector_status": {"1": "Charging", "2": "Available"}})
    await store.update_observed("CP-1", {"connector_status": {"2": "Faulted", "3": "Available"}})
    state = await store.update_observed("CP-1", {"connector_status": {"3": None}})

    assert state.connector_status == {"1": "Charging", "2": "Faulted"}
    assert await store.get_observed("CP-1") == state


async def test_replace_sets_a_dict_field_whole(store: Store) -> None:
    await store.update_observed("CP-1", {"configuration": {"A": "1", "B": "2"}})

    state = await store.update_observed("CP-1", {"configuration": {"C": "3"}}, replace={"configuration"})

    assert state.configuration == {"C": "3"}


async def test_plain_fields_are_replaced_and_none_clears_them(store: Store) -> None:
    await store.update_observed("CP-1", {"last_error": "timeout", "drift": ["A", "B"]})

    state = await store.update_observed("CP-1", {"last_error": None, "drift": ["C"]})

    assert (state.last_error, state.drift) == (None, ["C"])


async def test_an_unknown_field_is_refused_and_nothing_is_stored(store: Store) -> None:
    await store.update_observed("CP-1", {"vendor": "Acme"})

    with pytest.raises(errors.InvalidObservedStateError) as caught:
        await store.update_observed("CP-1", {"vendor": "Other", "colour": "red"})

    assert caught.value.reason == "InvalidObservedState"
    assert "colour" in str(caught.value)
    assert (await store.get_observed("CP-1")).vendor == "Acme"


async def test_a_bad_value_is_refused(store: Store) -> None:
    with pytest.raises(errors.InvalidObservedStateError):
        await store.update_observed("CP-1", {"configuration_results": {"K": "Maybe"}})

    assert await store.list_observed() == []


async def test_list_observed_returns_every_charger_seen(store: Store) -> None:
    await store.update_observed("CP-2", {"connected": False})
    await store.update_observed("CP-1", {"configuration_results": {"K": ConfigurationResult.REJECTED}})

    assert [state.charge_point_id for state in await store.list_observed()] == ["CP-1", "CP-2"]


def test_every_dict_field_of_observed_state_is_merged_key_by_key() -> None:
    assert {"configuration", "configuration_results", "connector_status"} <= observed.MERGED_FIELDS


@given(steps=st.lists(st.tuples(_change, _replace), min_size=1, max_size=6))
@DB_SETTINGS
async def test_stored_updates_follow_the_merge_rules(
    store: Store, new_cp_id: Callable[[], str], steps: list[tuple[dict[str, Any], set[str]]]
) -> None:
    cp_id = new_cp_id()
    expected = ObservedState(charge_point_id=cp_id)
    for changes, whole in steps:
        # A dict given whole (``replace``) may not hold None: that is refused on both paths alike.
        replace = {name for name in whole if name in changes and None not in changes[name].values()}
        expected = observed.merge(expected, changes, replace=replace)

        returned = await store.update_observed(cp_id, changes, replace=replace, now=NOW)

        assert returned == expected
    assert await store.get_observed(cp_id) == expected


@pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_on_postgresql_an_update_is_one_statement(store: Store) -> None:
    await store.update_observed("CP-1", {"connected": True})
    with first_words_sent(store) as sent:
        await store.update_observed("CP-1", {"connector_status": {"1": "Charging"}, "vendor": "Acme"})
        await store.update_observed("CP-2", {"connected": True})

    assert sent == ["INSERT", "INSERT"]  # upserts
    state = await store.get_observed("CP-1")
    assert (state.connected, state.vendor, state.connector_status) == (True, "Acme", {"1": "Charging"})


async def test_a_nul_character_a_charger_reported_is_stored_as_a_replacement_character(store: Store) -> None:
    await store.update_observed("CP-1", {"configuration": {"A": "1"}, "vendor": "Acme"})

    state = await store.update_observed("CP-1", {"configuration": {"B": "x\x00y", "K\x00": "2"}})

    expected = {"A": "1", "B": "x\ufffdy", "K\ufffd": "2"}
    assert (state.configuration, state.vendor) == (expected, "Acme")
    assert (await store.get_observed("CP-1")).configuration == expected
