"""Prometheus metrics of the gateway, served on the control API's ``/metrics``.

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` histograms) under ``chargeops_gateway_``.
Labels are bounded: OCPP action names and result codes, never charger ids.
"""

import asyncio
import functools
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

CONNECTIONS = Gauge(
    "chargeops_gateway_connections", "Chargers connected to this gateway process.", ["ocpp_version"], registry=REGISTRY
)
CONNECTIONS_REFUSED = Counter(
    "chargeops_gateway_connections_refused_total",
    "Websocket upgrades refused, by reason.",
    ["reason"],
    registry=REGISTRY,
)
MESSAGES = Counter(
    "chargeops_gateway_messages_total",
    "Calls from chargers handled, by action and result.",
    ["action", "result"],
    registry=REGISTRY,
)
CALL_LATENCY = Histogram(
    "chargeops_gateway_call_duration_seconds",
    "Time from receiving a charger's call to sending the answer.",
    ["action"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
CALL_ERRORS_SENT = Counter(
    "chargeops_gateway_call_errors_sent_total",
    "CALLERRORs sent to chargers, by error code.",
    ["code"],
    registry=REGISTRY,
)
BOOTS = Counter(
    "chargeops_gateway_boots_total",
    "BootNotifications answered, by registration status (Pending: the store could not take the boot).",
    ["status"],
    registry=REGISTRY,
)
CONVERGENCES = Counter(
    "chargeops_gateway_convergences_total", "Convergence runs, by result.", ["result"], registry=REGISTRY
)
EVENT_LOOP_LAG = Histogram(
    "chargeops_gateway_event_loop_lag_seconds",
    "How late a timer on the gateway's event loop fires, sampled every half second: the wait every "
    "charger's message has before its own work starts.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)

# How often the event loop's lag is sampled.
LOOP_LAG_INTERVAL_S = 0.5


async def sample_event_loop_lag(
    also: Callable[[float], None] | None = None, *, interval_s: float = LOOP_LAG_INTERVAL_S
) -> None:
    """Observe EVENT_LOOP_LAG until cancelled: how much later than asked each sleep of ``interval_s`` ends.
    Each sample is passed to ``also`` too (the gateway's admission control)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(interval_s)
        lag = max(0.0, loop.time() - started - interval_s)
        EVENT_LOOP_LAG.observe(lag)
        if also is not None:
            also(lag)


# Every call a charger makes counts once in MESSAGES and CALL_LATENCY. ``labels()`` takes a lock and
# builds a key each time; the children are few (bounded labels) and are kept here instead.


@functools.cache
def messages(action: str, result: str) -> Counter:
    """The MESSAGES child for ``action`` and ``result``."""
    return MESSAGES.labels(action, result)


@functools.cache
def call_latency(action: str) -> Histogram:
    """The CALL_LATENCY child for ``action``."""
    return CALL_LATENCY.labels(action)
