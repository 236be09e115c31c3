"""A small async client of the API server for ``operator_convergence.py``, and the Ready state it watches.

aiohttp straight to kube-apiserver as the admin identity: server-side apply (what ``kubectl apply
--server-side`` sends), merge patches, and a list-then-watch stream of Chargers that ``ReadyTracker``
turns into "which Chargers are Ready at their current generation, since when". ``Kube.requests`` reads the
API server's own request counter (``apiserver_request_total`` on /metrics) and ``Kube.sent`` counts this
client's requests alike, so the two differ by what the operator (and the API server itself) asked.
"""

import asyncio
import json
import ssl
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from chargeops.devcluster import controlplane

API = "chargeops.io/v1alpha1"
PLURALS = {"Site": "sites", "Tariff": "tariffs", "Charger": "chargers", "Subscription": "subscriptions"}
FIELD_MANAGER = "chargeops-bench"
# A request as the API server counts it: (verb, resource, subresource), e.g. ("PATCH", "chargers", "status").
Request = tuple[str, str, str]
REQUEST_TOTAL = "apiserver_request_total{"


class Kube:
    """A small async client of the API server as admin: apply, patch, get, watch."""

    def __init__(self, plane: controlplane.ControlPlane, namespace: str, *, concurrency: int) -> None:
        self.server = plane.server
        self.namespace = namespace
        context = ssl.create_default_context(cafile=str(plane.ca_file))
        self.session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {plane.token_for('admin')}"},
            connector=aiohttp.TCPConnector(ssl=context, limit=concurrency + 8),
            timeout=aiohttp.ClientTimeout(total=None, sock_read=None, sock_connect=30),
        )
        self.sent: Counter[Request] = Counter()
        """This client's requests to resources, counted as the API server counts them."""

    async def close(self) -> None:
        await self.session.close()

    def url(self, kind: str, name: str | None = None) -> str:
        if kind == "Secret":
            base = f"{self.server}/api/v1/namespaces/{self.namespace}/secrets"
        else:
            base = f"{self.server}/apis/{API}/namespaces/{self.namespace}/{PLURALS[kind]}"
        return base if name is None else f"{base}/{name}"

    async def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply, as ``kubectl apply --server-side --force-conflicts`` does."""
        return await self._request(
            "PATCH",
            self.url(obj["kind"], obj["metadata"]["name"]),
            data=json.dumps(obj),
            params={"fieldManager": FIELD_MANAGER, "force": "true"},
            content_type="application/apply-patch+yaml",
            verb="APPLY",  # as the API server counts a server-side apply
        )

    async def merge_patch(self, kind: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        return await self._request(
            "PATCH", self.url(kind, name), data=json.dumps(patch), content_type="application/merge-patch+json"
        )

    async def get(self, kind: str, name: str) -> dict[str, Any] | None:
        self.sent["GET", _resource(kind), ""] += 1
        async with self.session.get(self.url(kind, name)) as response:
            if response.status == 404:
                return None
            response.raise_for_status()
            return dict(await response.json())

    async def _request(
        self,
        method: str,
        url: str,
        *,
        data: str,
        content_type: str,
        params: Mapping[str, str] | None = None,
        verb: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Content-Type": content_type}
        resource = url.rsplit("/", 2)[-2]
        for attempt in range(5):
            self.sent[verb or method, resource, ""] += 1
            async with self.session.request(method, url, data=data, params=params, headers=headers) as response:
                if response.status in (429, 500, 503, 504) and attempt < 4:
                    await asyncio.sleep(0.5 * 2**attempt)  # the API server shedding load: try again
                    continue
                if response.status >= 400:
                    raise RuntimeError(f"{method} {url}: HTTP {response.status} {await response.text()}")
                return dict(await response.json())
        raise AssertionError("unreachable")

    async def events(self, kind: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """List, then watch ``kind`` for ever: ("ADDED" | "MODIFIED" | "DELETED", object). Lists again
        when the watch is too old; retries while the API server is starting or busy."""
        version: str | None = None
        while True:
            try:
                if version is None:
                    self.sent["LIST", _resource(kind), ""] += 1
                    async with self.session.get(self.url(kind)) as response:
                        response.raise_for_status()
                        listed = await response.json()
                    for item in listed["items"]:
                        yield "ADDED", item
                    version = listed["metadata"]["resourceVersion"]
                params = {"watch": "1", "resourceVersion": version, "allowWatchBookmarks": "true"}
                params["timeoutSeconds"] = "600"
                self.sent["WATCH", _resource(kind), ""] += 1
                async with self.session.get(self.url(kind), params=params) as response:
                    response.raise_for_status()
                    async for line in response.content:
                        event = json.loads(line)
                        obj = event["object"]
                        if event["type"] == "ERROR":
                            if obj.get("code") == 410:  # too old: list again
                                version = None
                            break
                        version = obj["metadata"]["resourceVersion"]
                        if event["type"] != "BOOKMARK":
                            yield event["type"], obj
            except aiohttp.ClientError:
                await asyncio.sleep(1)  # e.g. 429 "storage is (re)initializing" right after the CRDs

    async def event_reasons(self) -> Counter[str]:
        """How many Events the namespace holds, by involved kind and reason (``Charger/Succeeded``)."""
        self.sent["LIST", "events", ""] += 1
        async with self.session.get(f"{self.server}/api/v1/namespaces/{self.namespace}/events") as response:
            response.raise_for_status()
            listed = await response.json()
        return Counter(f"{e['involvedObject'].get('kind')}/{e.get('reason')}" for e in listed["items"])

    async def requests(self) -> Counter[Request]:
        """The API server's count of requests to resources since it started, from its /metrics."""
        async with self.session.get(f"{self.server}/metrics") as response:
            response.raise_for_status()
            text = await response.text()
        return parse_request_totals(text)


def _resource(kind: str) -> str:
    return "secrets" if kind == "Secret" else PLURALS[kind]


def parse_request_totals(text: str) -> Counter[Request]:
    """``apiserver_request_total`` summed over codes, scopes and groups by (verb, resource, subresource);
    requests to non-resource paths (/metrics, /healthz) are left out."""
    totals: Counter[Request] = Counter()
    for line in text.splitlines():
        if not line.startswith(REQUEST_TOTAL):
            continue
        series, value = line.rsplit(" ", 1)
        labels = dict(
            item.split("=", 1) for item in series[len(REQUEST_TOTAL) : -1].replace('"', "").split(",") if "=" in item
        )
        if labels.get("resource"):
            totals[labels.get("verb", ""), labels["resource"], labels.get("subresource", "")] += int(float(value))
    return totals


def is_ready(obj: Mapping[str, Any]) -> bool:
    """Ready=True for the current generation (kstatus)."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def _has_condition(obj: Mapping[str, Any], condition_type: str) -> bool:
    return any(c.get("type") == condition_type for c in (obj.get("status") or {}).get("conditions") or [])


def ready_reason(obj: Mapping[str, Any]) -> str | None:
    """The reason of the Ready condition, if there is one."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c.get("reason") for c in conditions if c.get("type") == "Ready"), None)


def _fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a Charger a write can change, flat: spec, annotations, status fields, conditions."""
    metadata = obj.get("metadata") or {}
    status = dict(obj.get("status") or {})
    flat: dict[str, Any] = {"spec": obj.get("spec")}
    flat.update({f"metadata.annotations[{key}]": value for key, value in (metadata.get("annotations") or {}).items()})
    for condition in status.pop("conditions", None) or []:
        for key, value in condition.items():
            flat[f"status.conditions[{condition.get('type')}].{key}"] = value
    flat.update({f"status.{key}": value for key, value in status.items()})
    return flat


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Which of ``_fields`` differ between two versions of an object (what a write changed)."""
    old, new = _fields(before), _fields(after)
    return [key for key in old.keys() | new.keys() if old.get(key) != new.get(key)]


class ReadyTracker:
    """Which Chargers are Ready now, when each first was, and waiters for a generation to become Ready;
    also how often Chargers were written (watch events) and why a Ready one stopped being Ready."""

    def __init__(self) -> None:
        self.ready: set[str] = set()
        self.first_ready_at: dict[str, float] = {}
        self.latest: dict[str, Mapping[str, Any]] = {}
        self.waiters: dict[str, tuple[int, asyncio.Future[float]]] = {}
        self.events: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()
        self.changed_fields: Counter[str] = Counter()
        # The operator writes Connected only after it handed the gateway the desired state.
        self.first_pushed_at: dict[str, float] = {}

    def update(self, kind: str, obj: Mapping[str, Any]) -> None:
        name = obj["metadata"]["name"]
        self.events[kind] += 1
        if kind == "DELETED":
            self.ready.discard(name)
            return
        previous = self.latest.get(name)
        if previous is not None:
            self.changed_fields.update(changed_fields(previous, obj))
        self.latest[name] = obj
        if name not in self.first_pushed_at and _has_condition(obj, "Connected"):
            self.first_pushed_at[name] = time.time()
        if not is_ready(obj):
            if name in self.ready:
                self.lost[str(ready_reason(obj))] += 1
            self.ready.discard(name)
            return
        now = time.time()
        self.ready.add(name)
        self.first_ready_at.setdefault(name, now)
        waiter = self.waiters.get(name)
        if waiter is not None and obj["metadata"]["generation"] >= waiter[0] and not waiter[1].done():
            waiter[1].set_result(now)
            del self.waiters[name]

    def wait_generation(self, name: str, generation: int) -> "asyncio.Future[float]":
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[name] = (generation, future)
        return future


async def follow(kube: Kube, tracker: ReadyTracker) -> None:
    async for kind, obj in kube.events("Charger"):
        tracker.update(kind, obj)
