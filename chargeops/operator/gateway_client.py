"""The operator's client of the gateway's control API: desired state in, observed state out.

Handlers call it through one ``GatewayClient`` made at operator start-up. Connection failures and 5xx
answers become ``GatewayUnreachableError`` (a temporary condition the handler retries); other error
answers become ``GatewayRefusedError`` with the gateway's own message. At most ``concurrency`` requests
are in flight at once; the others wait their turn, and the timeout counts only a request's own time, so
a burst of handlers (10,000 Chargers applied at once) queues here instead of timing out in a pile at a
busy gateway.
"""

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import TypeAdapter

from chargeops.api.gateway import (
    DesiredState,
    MeterReading,
    ObservedState,
    Session,
    SessionPage,
    SessionWithReadingOffsets,
    SessionWithReadingOffsetsPage,
    SessionWithReadings,
    SessionWithReadingsPage,
    StoredDesiredState,
)
from chargeops.operator import metrics
from chargeops.operator.errors import GatewayRefusedError, GatewayUnreachableError

# The control API answers from memory and one database row; anything slower is a gateway in trouble.
REQUEST_TIMEOUT_S = 10.0
# The observed state of every charger in one answer: 10,000 chargers are a few megabytes to read and write.
LIST_TIMEOUT_S = 60.0
# Requests in flight at once: enough to keep the gateway busy, few enough that it answers each one quickly.
CONCURRENCY = 16
# A charger or session id in a path; metrics label the route without it, so the label set stays small.
_ID_SEGMENT = re.compile(r"/(chargers|sessions)/[^/]+")
# Sessions are read in pages of the gateway's largest size (``MAX_PAGE``): one billing pass reads a month
# of them, a batch of subscriptions at a time.
SESSION_PAGE_SIZE = 1000

_READINGS = TypeAdapter(list[MeterReading])
_OBSERVED = TypeAdapter(list[ObservedState])


PageT = TypeVar("PageT", SessionPage, SessionWithReadingsPage, SessionWithReadingOffsetsPage)


class GatewayClient:
    """A session with the gateway's control API."""

    def __init__(
        self, base_url: str, *, token: str, timeout_s: float = REQUEST_TIMEOUT_S, concurrency: int = CONCURRENCY
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {token}"}, timeout=aiohttp.ClientTimeout(total=timeout_s)
        )
        self._turns = asyncio.Semaphore(concurrency)

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def put_desired(self, cp_id: str, desired: DesiredState) -> StoredDesiredState:
        """Store a charger's desired state; the gateway converges the charger to it."""
        body = desired.model_dump(mode="json", by_alias=True, exclude_none=True)
        return StoredDesiredState.model_validate(await self._call("PUT", f"/v1/chargers/{quote(cp_id)}/desired", body))

    async def get_desired(self, cp_id: str) -> StoredDesiredState | None:
        """The stored desired state, or None for a charger the gateway does not know."""
        found = await self._call("GET", f"/v1/chargers/{quote(cp_id)}/desired", missing_ok=True)
        return None if found is None else StoredDesiredState.model_validate(found)

    async def observed(self, cp_id: str) -> ObservedState:
        """What the gateway last saw of a charger."""
        return ObservedState.model_validate(await self._call("GET", f"/v1/chargers/{quote(cp_id)}/observed"))

    async def all_observed(self) -> list[ObservedState]:
        """What the gateway last saw of every charger it has seen, in one request (``GET /v1/chargers``)."""
        # Not queued behind the handlers' requests: while thousands of them wait, status would go stale.
        answer = await self._call("GET", "/v1/chargers", raw=True, timeout_s=LIST_TIMEOUT_S, queued=False)
        return _OBSERVED.validate_json(answer)

    async def forget(self, cp_id: str) -> None:
        """Remove a charger from the gateway (its sessions stay)."""
        await self._call("DELETE", f"/v1/chargers/{quote(cp_id)}", missing_ok=True)

    async def sessions(
        self,
        *,
        charge_point_id: str | None = None,
        id_tag: str | Sequence[str] | None = None,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
    ) -> AsyncIterator[Session]:
        """Every session matching the filters (start in ``[started_from, started_to)``, any of the id tags
        when ``id_tag`` is a list), page by page."""
        if _no_tags(id_tag):
            return
        query = _session_query(charge_point_id, id_tag, started_from, started_to)
        async for page in self._pages(query, SessionPage):
            for session in page.items:
                yield session

    async def sessions_with_readings(
        self,
        *,
        charge_point_id: str | None = None,
        id_tag: str | Sequence[str] | None = None,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
    ) -> AsyncIterator[SessionWithReadings]:
        """``sessions``, each with its energy register readings: one request per page of sessions instead
        of one more per session."""
        if _no_tags(id_tag):
            return
        query = _session_query(charge_point_id, id_tag, started_from, started_to)
        query.append(("withReadings", "true"))
        async for page in self._pages(query, SessionWithReadingsPage):
            for session in page.items:
                yield session

    async def sessions_with_reading_offsets(
        self,
        *,
        charge_point_id: str | None = None,
        id_tag: str | Sequence[str] | None = None,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
    ) -> AsyncIterator[SessionWithReadingOffsets]:
        """``sessions_with_readings`` with each session's readings as two integer columns (microseconds
        since its start, Wh): the billing pass's listing, which no timestamp or record per reading slows."""
        if _no_tags(id_tag):
            return
        query = _session_query(charge_point_id, id_tag, started_from, started_to)
        query += [("withReadings", "true"), ("readingsFormat", "offsets")]
        async for page in self._pages(query, SessionWithReadingOffsetsPage):
            for session in page.items:
                yield session

    async def _pages(self, query: list[tuple[str, str]], model: type[PageT]) -> AsyncIterator[PageT]:
        """The pages of ``GET /v1/sessions`` with ``query``, following the cursors."""
        cursor: list[tuple[str, str]] = []
        while True:
            page = model.model_validate_json(await self._call("GET", "/v1/sessions", params=query + cursor, raw=True))
            yield page
            if page.next_cursor is None:
                return
            cursor = [("cursor", page.next_cursor)]

    async def readings(self, session_id: str) -> list[MeterReading]:
        """The energy register readings of a session, oldest first."""
        return _READINGS.validate_json(await self._call("GET", f"/v1/sessions/{quote(session_id)}/readings", raw=True))

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        missing_ok: bool = False,
        raw: bool = False,
        timeout_s: float | None = None,
        queued: bool = True,
    ) -> Any:
        """``_request`` when its turn comes (at once unless ``queued``), timed for the operator's metrics by
        route (charger and session ids left out); the wait for a turn is neither timed nor counted against
        the timeout."""
        async with self._turns if queued else contextlib.nullcontext():
            started = time.perf_counter()
            result = "ok"
            try:
                return await self._request(
                    method, path, body, params=params, missing_ok=missing_ok, raw=raw, timeout_s=timeout_s
                )
            except GatewayUnreachableError:
                result = "unreachable"
                raise
            except GatewayRefusedError:
                result = "refused"
                raise
            finally:
                route = method + " " + _ID_SEGMENT.sub(r"/\1/{id}", path)
                metrics.GATEWAY_REQUEST_DURATION.labels(route, result).observe(time.perf_counter() - started)

    async def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        missing_ok: bool = False,
        raw: bool = False,
        timeout_s: float | None = None,
    ) -> Any:
        """The answer's JSON, or with ``raw`` its bytes (for pydantic to parse: much faster on large pages)."""
        url = self.base_url + path
        # Without a timeout of its own, the session's applies (aiohttp reads None as "no timeout").
        options: dict[str, Any] = {} if timeout_s is None else {"timeout": aiohttp.ClientTimeout(total=timeout_s)}
        try:
            async with self._session.request(method, url, json=body, params=params, **options) as response:
                if response.status == 404 and missing_ok:
                    return None
                if response.status >= 500:
                    raise GatewayUnreachableError(
                        f"Gateway {self.base_url} answered {response.status} to {method} {path}."
                    )
                if response.status >= 400:
                    detail = await response.json(content_type=None)
                    message = detail.get("message", "") if isinstance(detail, dict) else str(detail)
                    raise GatewayRefusedError(
                        f"Gateway refused {method} {path} ({response.status}): {message}", status=response.status
                    )
                if response.status == 204:
                    return None
                return await response.read() if raw else await response.json()
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            raise GatewayUnreachableError(f"Gateway {self.base_url} is unreachable: {error}") from error


def _session_query(
    charge_point_id: str | None,
    id_tag: str | Sequence[str] | None,
    started_from: datetime | None,
    started_to: datetime | None,
) -> list[tuple[str, str]]:
    """The query of ``GET /v1/sessions`` for these filters, in pages of ``SESSION_PAGE_SIZE``."""
    query = [("limit", str(SESSION_PAGE_SIZE))]
    if charge_point_id is not None:
        query.append(("chargePointId", charge_point_id))
    tags = [id_tag] if isinstance(id_tag, str) else list(id_tag or ())
    query += [("idTag", tag) for tag in tags]
    query += [
        (key, moment.isoformat())
        for key, moment in (("startedFrom", started_from), ("startedTo", started_to))
        if moment is not None
    ]
    return query


def _no_tags(id_tag: str | Sequence[str] | None) -> bool:
    """Whether ``id_tag`` is an empty list: no session has any of no tags (and no filter would list all)."""
    return id_tag is not None and not isinstance(id_tag, str) and not id_tag
