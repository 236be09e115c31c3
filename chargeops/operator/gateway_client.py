"""The operator's client of the gateway's control API: desired state in, observed state out.

Handlers call it through one ``GatewayClient`` made at operator start-up. Connection failures and 5xx
answers become ``GatewayUnreachableError`` (a temporary condition the handler retries); other error
answers become ``GatewayRefusedError`` with the gateway's own message.
"""

from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp

from chargeops.api.gateway import DesiredState, ObservedState, StoredDesiredState
from chargeops.operator.errors import GatewayRefusedError, GatewayUnreachableError

# The control API answers from memory and one database row; anything slower is a gateway in trouble.
REQUEST_TIMEOUT_S = 10.0


class GatewayClient:
    """A session with the gateway's control API."""

    def __init__(self, base_url: str, *, token: str, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {token}"}, timeout=aiohttp.ClientTimeout(total=timeout_s)
        )

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

    async def forget(self, cp_id: str) -> None:
        """Remove a charger from the gateway (its sessions stay)."""
        await self._call("DELETE", f"/v1/chargers/{quote(cp_id)}", missing_ok=True)

    async def _call(self, method: str, path: str, body: Any = None, *, missing_ok: bool = False) -> Any:
        url = self.base_url + path
        try:
            async with self._session.request(method, url, json=body) as response:
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
                return await response.json()
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            raise GatewayUnreachableError(f"Gateway {self.base_url} is unreachable: {error}") from error
