"""The operator's metrics: handler runs by kind and result, errors by reason, Chargers by Ready."""

from typing import Any

import kopf
import pytest
from prometheus_client import generate_latest

from chargeops.operator import metrics
from chargeops.operator.errors import GatewayUnreachableError


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@metrics.measured("Widget")
async def handler(outcome: str, **_: Any) -> str:
    """A handler that ends as told."""
    if outcome == "retry":
        try:
            raise GatewayUnreachableError("Gateway http://gw is unreachable.")
        except GatewayUnreachableError as error:
            raise kopf.TemporaryError(str(error), delay=1) from error
    if outcome == "crash":
        raise KeyError("spec")
    return outcome


async def test_a_run_that_ends_well_counts_as_success_and_is_timed() -> None:
    before = sample("chargeops_operator_reconciles_total", kind="Widget", result="success")
    timed = sample("chargeops_operator_reconcile_duration_seconds_count", kind="Widget")
    assert await handler("fine", extra=1) == "fine"
    assert sample("chargeops_operator_reconciles_total", kind="Widget", result="success") == before + 1
    assert sample("chargeops_operator_reconcile_duration_seconds_count", kind="Widget") == timed + 1


async def test_a_temporary_error_is_a_requeue_counted_under_its_causes_reason() -> None:
    before = sample("chargeops_operator_errors_total", kind="Widget", reason="GatewayUnreachable")
    requeues = sample("chargeops_operator_reconciles_total", kind="Widget", result="requeue")
    with pytest.raises(kopf.TemporaryError):
        await handler("retry")
    assert sample("chargeops_operator_errors_total", kind="Widget", reason="GatewayUnreachable") == before + 1
    assert sample("chargeops_operator_reconciles_total", kind="Widget", result="requeue") == requeues + 1


async def test_any_other_exception_is_an_error_counted_under_its_class() -> None:
    before = sample("chargeops_operator_errors_total", kind="Widget", reason="KeyError")
    with pytest.raises(KeyError):
        await handler("crash")
    assert sample("chargeops_operator_errors_total", kind="Widget", reason="KeyError") == before + 1
    assert sample("chargeops_operator_reconciles_total", kind="Widget", result="error") >= 1


def test_the_wrapper_keeps_kopfs_handler_id() -> None:
    assert handler.__wrapped__.__name__ == "handler"  # type: ignore[attr-defined]
    assert handler.__qualname__ == "handler"


def status(ready: tuple[str, str] | None) -> dict[str, Any]:
    """A Charger's status as the charger status index holds it."""
    if ready is None:
        return {}
    condition = {
        "type": "Ready",
        "status": ready[0],
        "reason": ready[1],
        "message": "",
        "lastTransitionTime": "2026-11-01T08:00:00Z",
    }
    return {"conditions": [condition]}


def test_chargers_are_counted_by_ready_status_and_reason() -> None:
    index = {
        "uid-a": [status(("True", "Succeeded"))],
        "uid-b": [status(("False", "ChargerOffline"))],
        "uid-c": [status(("True", "Succeeded"))],
        "uid-d": [status(None)],
    }
    assert metrics.count_by_ready(index) == {
        ("True", "Succeeded"): 2,
        ("False", "ChargerOffline"): 1,
        ("Unknown", "NotReported"): 1,
    }


def test_the_gauge_reads_the_index_it_watches_when_scraped() -> None:
    collector = metrics.ChargersByReady()
    collector.watch({"uid-a": [status(("False", "DuplicateChargePointId"))]})
    [family] = list(collector.collect())
    assert [(s.name, s.labels, s.value) for s in family.samples] == [
        ("chargeops_operator_chargers", {"ready": "False", "reason": "DuplicateChargePointId"}, 1.0)
    ]


def test_every_metric_is_named_under_the_operators_prefix() -> None:
    text = generate_latest(metrics.REGISTRY).decode()
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert names >= {
        "chargeops_operator_reconciles_total",
        "chargeops_operator_errors_total",
        "chargeops_operator_reconcile_duration_seconds",
        "chargeops_operator_gateway_request_duration_seconds",
        "chargeops_operator_chargers",
    }
    assert all(name.startswith("chargeops_operator_") for name in names)
