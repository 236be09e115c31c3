"""Packages others import list their whole contract in __all__ (as httpx's test_exported_members does)."""

import importlib
import inspect

import pytest

PUBLIC_PACKAGES = [
    "chargeops.api.v1alpha1",
    "chargeops.billing",
    "chargeops.crdgen",
    "chargeops.ocpp_gateway.store",
    "chargeops.payments",
]


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_all_lists_every_public_name_and_nothing_else(name: str) -> None:
    package = importlib.import_module(name)
    # Submodules appear as attributes once imported; only those re-exported on purpose count.
    public = {
        member
        for member, value in vars(package).items()
        if not member.startswith("_") and (not inspect.ismodule(value) or member in package.__all__)
    }
    assert sorted(package.__all__) == sorted(public)


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_all_is_sorted_and_free_of_duplicates(name: str) -> None:
    exported = importlib.import_module(name).__all__
    assert len(set(exported)) == len(exported)
