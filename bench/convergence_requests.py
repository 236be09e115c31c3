"""What ``operator_convergence.py``'s run asked of the API server, apart from the benchmark's own requests.

The API server counts every request it serves (``apiserver_request_total``); the benchmark's client counts
its own (``kube_api.Kube.sent``). Between two readings, the difference is what the operator asked (plus a
few requests the API server makes of itself, such as lease renewals): a figure that does not depend on
how loaded the machine was, unlike the wall time.
"""

import dataclasses
from collections import Counter
from typing import Any

import kube_api

# The request kinds the report names; the rest are summed as "other".
NAMED = (
    ("PATCH", "chargers", "status"),
    ("PATCH", "chargers", ""),
    ("POST", "events", ""),
    ("GET", "chargers", ""),
    ("PATCH", "subscriptions", "status"),
    ("PATCH", "subscriptions", ""),
    ("GET", "secrets", ""),
)


@dataclasses.dataclass(frozen=True)
class Reading:
    """The API server's and the benchmark's request counts at one moment."""

    served: Counter[kube_api.Request]
    sent: Counter[kube_api.Request]


async def read(kube: kube_api.Kube) -> Reading:
    """Both counts now."""
    return Reading(served=await kube.requests(), sent=kube.sent.copy())


def others(before: Reading, after: Reading) -> dict[str, int]:
    """Requests served between the readings that the benchmark did not send, by ``VERB resource[/sub]``,
    most first."""
    served = after.served - before.served
    sent = after.sent - before.sent
    left = served - sent
    return {_name(request): count for request, count in left.most_common() if count}


def _name(request: kube_api.Request) -> str:
    verb, resource, subresource = request
    return f"{verb} {resource}" + (f"/{subresource}" if subresource else "")


def per_charger(requests: dict[str, Any], chargers: int) -> str:
    """``PATCH chargers/status 2.1, ... , other 0.3; all 5.6`` per Charger, for the table."""
    if not requests or not chargers:
        return "-"
    named = [_name(request) for request in NAMED]
    parts = [f"{name} {requests[name] / chargers:.2f}" for name in named if requests.get(name)]
    other = sum(count for name, count in requests.items() if name not in named)
    parts.append(f"other {other / chargers:.2f}")
    return ", ".join(parts) + f"; all {sum(requests.values()) / chargers:.2f}"
