"""Observed state per charger: merged field by field, dicts key by key, bad changes refused whole."""

import pytest

from chargeops.api.gateway import ConfigurationResult, ObservedState
from chargeops.api.v1alpha1.charger import OcppVersion
from chargeops.ocpp_gateway.store import Store, errors, observed
from tests.unit.ocpp_gateway.store.support import NOW, T0


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
