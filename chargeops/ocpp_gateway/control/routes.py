"""HTTP handlers of the control API (aiohttp). Bodies and answers are the models of
``chargeops.api.gateway``; errors are ``{"reason": …, "message": …}`` with a fitting status."""

import hmac
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ValidationError

from chargeops.api.gateway import (
    DesiredState,
    MeterReading,
    ObservedState,
    Session,
    SessionPage,
    StoredDesiredState,
)
from chargeops.api.v1alpha1.charger import CHARGE_POINT_ID_PATTERN
from chargeops.ocpp_gateway import metrics
from chargeops.ocpp_gateway.control import commands, openapi
from chargeops.ocpp_gateway.errors import (
    ChargerNotConnectedError,
    ChargerRefusedError,
    ChargerTimeoutError,
    RelayFailedError,
)
from chargeops.ocpp_gateway.store.errors import InvalidCursorError, InvalidPageLimitError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_PAGE = 1000
_CHARGE_POINT_ID = re.compile(CHARGE_POINT_ID_PATTERN)


class Backend(Protocol):
    """What the routes need from the gateway."""

    async def put_desired(self, cp_id: str, desired: DesiredState) -> StoredDesiredState: ...
    async def get_desired(self, cp_id: str) -> StoredDesiredState | None: ...
    async def delete_charger(self, cp_id: str) -> bool: ...
    async def observed(self, cp_id: str) -> ObservedState: ...
    async def all_observed(self) -> list[ObservedState]: ...
    async def sessions(self, **query: Any) -> SessionPage: ...
    async def sessions_with_readings(self, **query: Any) -> str: ...
    async def session(self, session_id: str) -> Session | None: ...
    async def readings(self, session_id: str) -> list[MeterReading]: ...
    async def command(self, cp_id: str, name: str, command: commands.Command) -> dict[str, Any]: ...
    async def ready(self) -> bool: ...


# What the read token may do: read, and nothing that changes a charger or the store.
_READ_METHODS = frozenset({"GET", "HEAD"})


def application(backend: Backend, *, token: str, read_token: str | None = None) -> web.Application:
    """The control API as an aiohttp application. ``token`` may do everything; ``read_token``, if given,
    only read (GET)."""
    app = web.Application(middlewares=[_bearer_auth(token, read_token), _refuse_nul], client_max_size=4 * 1024 * 1024)
    routes = _Routes(backend)
    app.router.add_get("/healthz", routes.healthz)
    app.router.add_get("/readyz", routes.readyz)
    app.router.add_get("/metrics", routes.metrics)
    app.router.add_get("/openapi.json", routes.openapi_document)
    app.router.add_get("/v1/chargers", routes.list_chargers)
    app.router.add_put("/v1/chargers/{cp_id}/desired", routes.put_desired)
    app.router.add_get("/v1/chargers/{cp_id}/desired", routes.get_desired)
    app.router.add_get("/v1/chargers/{cp_id}/observed", routes.get_observed)
    app.router.add_delete("/v1/chargers/{cp_id}", routes.delete_charger)
    app.router.add_post("/v1/chargers/{cp_id}/commands/{command}", routes.run_command)
    app.router.add_get("/v1/sessions", routes.list_sessions)
    app.router.add_get("/v1/sessions/{session_id}", routes.get_session)
    app.router.add_get("/v1/sessions/{session_id}/readings", routes.get_readings)
    return app


def problem(status: int, reason: str, message: str, **extra: str) -> web.Response:
    """An error answer; ``extra`` fields name what the caller needs to act on it."""
    return web.json_response({"reason": reason, "message": message, **extra}, status=status)


def _model_response(model: BaseModel | Sequence[BaseModel], status: int = 200) -> web.Response:
    if not isinstance(model, BaseModel):
        body = "[" + ",".join(item.model_dump_json(by_alias=True) for item in model) + "]"
    else:
        body = model.model_dump_json(by_alias=True)
    return web.Response(text=body, status=status, content_type="application/json")


def _bearer_auth(token: str, read_token: str | None) -> Any:
    full = f"Bearer {token}".encode()
    reading = f"Bearer {read_token}".encode() if read_token is not None else None

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        given = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(given, full):
            return await handler(request)
        if reading is not None and hmac.compare_digest(given, reading):
            if request.method in _READ_METHODS:
                return await handler(request)
            return problem(
                403,
                "ReadOnlyToken",
                f"This token may only read; {request.method} {request.path} needs the gateway's API token.",
            )
        response = problem(401, "Unauthorized", "Send Authorization: Bearer <token> (the gateway's API token).")
        response.headers["WWW-Authenticate"] = 'Bearer realm="chargeops-gateway"'
        return response

    return middleware


@web.middleware
async def _refuse_nul(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answers 400 to a path or query holding U+0000: no id or filter has one, and PostgreSQL text cannot
    hold it, so the store would fail on it."""
    if "\x00" in request.path or any("\x00" in key + value for key, value in request.query.items()):
        return problem(400, "InvalidRequest", "The path or query contains a NUL character (U+0000).")
    return await handler(request)


class _Routes:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        if await self.backend.ready():
            return web.Response(text="ok\n")
        return problem(503, "NotReady", "The session store is not reachable.")

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def openapi_document(self, request: web.Request) -> web.Response:
        return web.json_response(openapi.document())

    async def list_chargers(self, request: web.Request) -> web.Response:
        return _model_response(list(await self.backend.all_observed()))

    async def put_desired(self, request: web.Request) -> web.Response:
        try:
            desired = DesiredState.model_validate_json(await request.read())
        except ValidationError as error:
            return problem(422, "InvalidDesiredState", _validation_message(error))
        return _model_response(await self.backend.put_desired(_charge_point_id(request), desired))

    async def get_desired(self, request: web.Request) -> web.Response:
        cp_id = _charge_point_id(request)
        stored = await self.backend.get_desired(cp_id)
        if stored is None:
            return problem(404, "ChargerNotFound", f"No desired state for charge point {cp_id}.")
        return _model_response(stored)

    async def get_observed(self, request: web.Request) -> web.Response:
        return _model_response(await self.backend.observed(_charge_point_id(request)))

    async def delete_charger(self, request: web.Request) -> web.Response:
        cp_id = _charge_point_id(request)
        if not await self.backend.delete_charger(cp_id):
            return problem(404, "ChargerNotFound", f"Charge point {cp_id} is not known.")
        return web.Response(status=204)

    async def run_command(self, request: web.Request) -> web.Response:
        name = request.match_info["command"]
        if name not in commands.COMMANDS:
            return problem(404, "UnknownCommand", f"No command {name}; known: {', '.join(commands.COMMANDS)}.")
        cp_id = _charge_point_id(request)
        model, _ = commands.COMMANDS[name]
        try:
            command = model.model_validate_json(await request.read() or b"{}")
        except ValidationError as error:
            return problem(422, "InvalidCommand", _validation_message(error))
        try:
            answer = await self.backend.command(cp_id, name, command)
        except ChargerNotConnectedError as error:
            return problem(409, error.reason, str(error))
        except ChargerTimeoutError as error:
            return problem(504, error.reason, str(error))
        except (ChargerRefusedError, RelayFailedError) as error:
            return problem(502, error.reason, str(error))
        return web.json_response(answer)

    async def list_sessions(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            limit = int(query.get("limit", "100"))
            started_from = _time(query.get("startedFrom"))
            started_to = _time(query.get("startedTo"))
            with_readings = _flag(query.get("withReadings"), "withReadings")
            offsets = _readings_format(query.get("readingsFormat"))
        except ValueError as error:
            return problem(400, "InvalidQuery", str(error))
        if not 1 <= limit <= MAX_PAGE:
            return problem(400, "InvalidQuery", f"limit must be between 1 and {MAX_PAGE}")
        # idTag may repeat: a session with any of the tags matches (a subscription's cards in one listing).
        id_tags = query.getall("idTag", [])
        filters = {
            "charge_point_id": query.get("chargePointId"),
            "id_tag": id_tags[0] if len(id_tags) == 1 else (id_tags or None),
            "started_from": started_from,
            "started_to": started_to,
            "cursor": query.get("cursor"),
            "limit": limit,
        }
        try:
            if with_readings:
                # Serialized by the store (SessionWithReadingsPage): see Store.list_sessions_with_readings.
                text = await self.backend.sessions_with_readings(**filters, offsets=offsets)
                return web.Response(text=text, content_type="application/json")
            page = await self.backend.sessions(**filters)
        except (ValueError, InvalidCursorError, InvalidPageLimitError) as error:
            return problem(400, "InvalidQuery", str(error))
        return _model_response(page)

    async def get_session(self, request: web.Request) -> web.Response:
        found = await self.backend.session(request.match_info["session_id"])
        if found is None:
            return problem(404, "SessionNotFound", f"No session {request.match_info['session_id']}.")
        return _model_response(found)

    async def get_readings(self, request: web.Request) -> web.Response:
        return _model_response(await self.backend.readings(request.match_info["session_id"]))


def _charge_point_id(request: web.Request) -> str:
    """The ``{cp_id}`` of the path; answers 400 when it cannot be a charge point id."""
    cp_id = request.match_info["cp_id"]
    if _CHARGE_POINT_ID.fullmatch(cp_id) is None:
        message = f"{cp_id!r} is not a charge point id: 1-48 characters of A-Z a-z 0-9 *_=+|@.-"
        raise web.HTTPBadRequest(
            text=json.dumps({"reason": "InvalidChargePointId", "message": message}), content_type="application/json"
        )
    return cp_id


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} needs a zone, e.g. 2026-10-01T00:00:00Z")
    return parsed


def _flag(value: str | None, name: str) -> bool:
    """A boolean query parameter: ``true`` or ``false`` (unset is false)."""
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _readings_format(value: str | None) -> bool:
    """Whether ``readingsFormat`` asks for the readings as columns (``offsets``) rather than a ``list``."""
    if value is None or value == "list":
        return False
    if value == "offsets":
        return True
    raise ValueError(f"readingsFormat must be list or offsets, not {value!r}")


def _validation_message(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
