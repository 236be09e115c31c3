"""A recording HTTP proxy between the Stripe client and stripe-mock, which can also fail on purpose.

stripe-mock keeps no state and ignores idempotency keys, so what the payments tests check is what the
client *sent*: the proxy records method, path, ``Idempotency-Key`` and the form (or query) of each
request, then forwards it. ``inject`` makes matching requests answer an error, drop the connection, or
return a canned object instead, to see the client retry, give up or resume as it would against Stripe.
"""

import dataclasses
import json
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

# Headers that go to stripe-mock and back unchanged; hop-by-hop ones (length, encoding) aiohttp sets.
_FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Stripe-Version", "User-Agent")
_FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Request-Id", "Idempotency-Key", "Stripe-Should-Retry")


@dataclasses.dataclass(frozen=True)
class Recorded:
    """One request as the client sent it, and what the proxy did with it."""

    method: str
    path: str
    idempotency_key: str | None
    form: Mapping[str, str]
    """The form body of a POST, or the query of a GET, with Stripe's flattened keys (``metadata[x]``)."""
    outcome: str
    """``forwarded``, ``dropped`` or the injected status, e.g. ``500``."""


@dataclasses.dataclass
class _Fault:
    method: str
    path_prefix: str
    skip: int
    remaining: int
    kind: Literal["status", "drop"]
    status: int
    body: Mapping[str, object]
    headers: Mapping[str, str]


class StripeProxy:
    """Forwards to ``upstream`` (stripe-mock) on a loopback port; ``url`` is its base for the client."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.url = ""
        self.requests: list[Recorded] = []
        self._faults: list[_Fault] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def inject(
        self,
        method: str,
        path_prefix: str,
        *,
        times: int,
        after: int = 0,
        kind: Literal["status", "drop"] = "status",
        status: int = 500,
        body: Mapping[str, object] | None = None,
    ) -> None:
        """Answer ``times`` requests matching ``method`` and ``path_prefix``, once ``after`` more have
        passed, with ``status`` and ``body`` (a Stripe error by default) or a dropped connection."""
        answer = body or {"error": {"type": "api_error", "message": f"Injected HTTP {status}."}}
        headers = {"Request-Id": f"req_injected_{status}"}
        self._faults.append(_Fault(method, path_prefix, after, times, kind, status, answer, headers))

    def clear_faults(self) -> None:
        """Forward every request from now on."""
        self._faults.clear()

    def sent(self, method: str, path_prefix: str = "/") -> list[Recorded]:
        """The recorded requests with that method whose path starts with ``path_prefix``, in order."""
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        form = dict(parse_qsl(body.decode() if request.method == "POST" else request.query_string))
        fault = self._take_fault(request.method, request.path)
        outcome = "forwarded" if fault is None else ("dropped" if fault.kind == "drop" else str(fault.status))
        self.requests.append(
            Recorded(request.method, request.path, request.headers.get("Idempotency-Key"), form, outcome)
        )
        if fault is not None and fault.kind == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if fault is not None:
            return web.Response(
                status=fault.status, body=json.dumps(fault.body), content_type="application/json", headers=fault.headers
            )
        return await self._forward(request, body)

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        assert self._session is not None
        headers = {name: request.headers[name] for name in _FORWARDED_REQUEST_HEADERS if name in request.headers}
        async with self._session.request(
            request.method, f"{self.upstream}{request.path_qs}", data=body or None, headers=headers
        ) as answer:
            payload = await answer.read()
            kept = {name: answer.headers[name] for name in _FORWARDED_RESPONSE_HEADERS if name in answer.headers}
            return web.Response(status=answer.status, body=payload, headers=kept)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method == method and path.startswith(fault.path_prefix):
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.remaining -= 1
                return fault
        return None
