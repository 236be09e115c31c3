"""Prometheus metrics of the operator, served with ``/healthz`` by ``metrics_endpoint``.

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` histograms) under
``chargeops_operator_``. Labels are bounded: kinds, results, reasons (from ``conditions.py`` or an
exception's class), gateway routes with the charger id left out; never object names. The handlers are
wrapped with ``measured``; the gateway client times its own requests (the poll of every charger's
observed state among them, so a gateway that fails to answer is counted even while Ready is kept); the
Charger count by Ready reason is read from kopf's charger status index when scraped, so it is what the
cluster says, not a tally that can drift.
"""

import functools
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from typing import Any, ParamSpec, TypeVar

import kopf
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chargeops.api.v1alpha1 import conditions as c
from chargeops.errors import ChargeOpsError

P = ParamSpec("P")
R = TypeVar("R")

REGISTRY = CollectorRegistry(auto_describe=True)

RECONCILES = Counter(
    "chargeops_operator_reconciles_total",
    "Handler runs, by kind and result: success, requeue (retried later) or error.",
    ["kind", "result"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "chargeops_operator_errors_total",
    "Handler runs that raised, by kind and reason (e.g. GatewayUnreachable, or the exception's class).",
    ["kind", "reason"],
    registry=REGISTRY,
)
RECONCILE_DURATION = Histogram(
    "chargeops_operator_reconcile_duration_seconds",
    "Time one handler run took, by kind.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
GATEWAY_REQUEST_DURATION = Histogram(
    "chargeops_operator_gateway_request_duration_seconds",
    "Requests to the gateway's control API, by route and result: ok, not_found, refused or unreachable.",
    ["route", "result"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
    registry=REGISTRY,
)

SUCCESS = "success"
REQUEUE = "requeue"  # kopf.TemporaryError: kopf runs the handler again after its delay
ERROR = "error"


def measured(kind: str) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Count and time every run of an async handler of ``kind``.

    ``functools.wraps`` keeps kopf's handler id (kopf follows ``__wrapped__``), which is stored state.
    """

    def decorate(handler: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(handler)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                result = await handler(*args, **kwargs)
            except kopf.TemporaryError as error:
                _failed(kind, REQUEUE, error)
                raise
            except Exception as error:
                _failed(kind, ERROR, error)
                raise
            finally:
                RECONCILE_DURATION.labels(kind).observe(time.perf_counter() - started)
            RECONCILES.labels(kind, SUCCESS).inc()
            return result

        return run

    return decorate


def reason_of(error: BaseException) -> str:
    """The reason a failure is counted under: a chargeops error's own, else its class name. kopf's
    retry errors count under the error they were raised from."""
    if isinstance(error, kopf.TemporaryError | kopf.PermanentError) and error.__cause__ is not None:
        error = error.__cause__
    if isinstance(error, ChargeOpsError):
        return str(getattr(error, "reason", type(error).__name__))
    return type(error).__name__


def _failed(kind: str, result: str, error: BaseException) -> None:
    RECONCILES.labels(kind, result).inc()
    ERRORS.labels(kind, reason_of(error)).inc()


class ChargersByReady(Collector):
    """``chargeops_operator_chargers``: Chargers by their Ready condition's status and reason, counted from
    kopf's charger status index (uid to the Charger's status) when scraped."""

    def __init__(self) -> None:
        self.index: Mapping[Any, Iterable[Mapping[str, Any]]] = {}

    def watch(self, index: Mapping[Any, Iterable[Mapping[str, Any]]]) -> None:
        """Count from ``index`` (the operator's start-up hands it over)."""
        self.index = index

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "chargeops_operator_chargers",
            "Chargers by the status and reason of their Ready condition (Unknown/NotReported before the first).",
            labels=["ready", "reason"],
        )
        for (ready, reason), count in sorted(count_by_ready(self.index).items()):
            family.add_metric([ready, reason], count)
        yield family


def count_by_ready(index: Mapping[Any, Iterable[Mapping[str, Any]]]) -> dict[tuple[str, str], int]:
    """How many Chargers have each (Ready status, reason), from their statuses."""
    counts: dict[tuple[str, str], int] = {}
    for statuses in index.values():
        for status in statuses:
            found = next((x for x in status.get("conditions") or () if x.get("type") == c.READY), None)
            key = (str(found.get("status")), str(found.get("reason"))) if found else ("Unknown", "NotReported")
            counts[key] = counts.get(key, 0) + 1
    return counts


CHARGERS = ChargersByReady()
REGISTRY.register(CHARGERS)
