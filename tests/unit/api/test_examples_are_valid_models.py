"""Every chargeops object in examples/ is valid for the Python models, and approvals there are current."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import approval

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
KINDS = {kind.names.kind: kind for kind in v1alpha1.KINDS}


def documents() -> list[dict[str, Any]]:
    found = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        found += [d for d in yaml.safe_load_all(path.read_text()) if d and d["apiVersion"] == v1alpha1.API_VERSION]
    return found


def test_examples_hold_every_kind_a_site_is_declared_with() -> None:
    assert {d["kind"] for d in documents()} >= {"Site", "Tariff", "Charger", "Subscription"}


@pytest.mark.parametrize("document", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_example_parses_with_its_model(document: dict[str, Any]) -> None:
    parsed = KINDS[document["kind"]].model_validate(document)
    assert parsed.metadata["name"] == document["metadata"]["name"]


def test_the_approved_example_charger_holds_the_current_fingerprint() -> None:
    approved = [
        d for d in documents() if d["kind"] == "Charger" and approval.ANNOTATION in d["metadata"].get("annotations", {})
    ]
    assert approved, "examples/ should show an approved pay-per-month charger"
    for document in approved:
        charger = v1alpha1.Charger.model_validate(document)
        assert document["metadata"]["annotations"][approval.ANNOTATION] == approval.fingerprint(charger.spec)
