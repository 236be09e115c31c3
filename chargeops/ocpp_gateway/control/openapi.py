"""The control API's OpenAPI 3.1 document, built from the same pydantic models the routes use.

Served at ``/openapi.json``; tests check the live API against it (schemathesis), so the document
cannot drift from the handlers without a test failing.
"""

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chargeops import __version__
from chargeops.api.gateway import (
    DesiredState,
    MeterReading,
    ObservedState,
    Session,
    SessionPage,
    SessionWithReadingOffsetsPage,
    SessionWithReadingsPage,
    StoredDesiredState,
)
from chargeops.ocpp_gateway.control import commands

_REF = "#/components/schemas/{model}"


def _json(schema: str, description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model=schema)}}},
    }


def _array(schema: str) -> dict[str, Any]:
    items = {"type": "array", "items": {"$ref": _REF.format(model=schema)}}
    return {"description": "OK", "content": {"application/json": {"schema": items}}}


_PROBLEM = {"description": "Error", "content": {"application/json": {"schema": {"$ref": _REF.format(model="Problem")}}}}
_CP_ID = {
    "name": "cp_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9*_=+|@.-]{1,48}$"},
}
_SESSION_ID = {"name": "session_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
_AUTH: list[dict[str, list[str]]] = [{"bearer": []}]
_READ_ONLY = {
    "description": "`ReadOnlyToken`: the token given may only read (GET); this needs the gateway's API token.",
    "content": {"application/json": {"schema": {"$ref": _REF.format(model="Problem")}}},
}


def _paths() -> dict[str, Any]:
    query = [
        {"name": "chargePointId", "in": "query", "schema": {"type": "string"}},
        {
            "name": "idTag",
            "in": "query",
            "description": "Repeat for several id tags: a session with any of them matches.",
            "style": "form",
            "explode": True,
            "schema": {"type": "array", "items": {"type": "string"}},
        },
        {"name": "startedFrom", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        {"name": "startedTo", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
        {
            "name": "withReadings",
            "in": "query",
            "description": "Embed each session's energy register readings (a SessionWithReadingsPage).",
            "schema": {"type": "boolean", "default": False},
        },
        {
            "name": "readingsFormat",
            "in": "query",
            "description": "With withReadings: `offsets` gives the readings as two integer columns, microseconds "
            "from the start and Wh (a SessionWithReadingOffsetsPage).",
            "schema": {"type": "string", "enum": ["list", "offsets"], "default": "list"},
        },
    ]
    pages = ("SessionPage", "SessionWithReadingsPage", "SessionWithReadingOffsetsPage")
    session_pages = {"anyOf": [{"$ref": _REF.format(model=m)} for m in pages]}
    command_paths = {
        f"/v1/chargers/{{cp_id}}/commands/{name}": {
            "post": {
                "summary": f"Send {model.__name__} to a connected OCPP 1.6 charger.",
                "security": _AUTH,
                "parameters": [_CP_ID],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}},
                },
                "responses": {
                    "200": {
                        "description": "The charger's answer",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "400": _PROBLEM,
                    "401": _PROBLEM,
                    "403": _READ_ONLY,
                    "409": {
                        "description": (
                            "`ChargerNotConnected`: the charger is connected to no replica. A command for a "
                            "charger another replica sharing the PostgreSQL store holds is relayed to it."
                        ),
                        "content": {"application/json": {"schema": {"$ref": _REF.format(model="Problem")}}},
                    },
                    "422": _PROBLEM,
                    "502": {
                        "description": "`ChargerRefused`, or `RelayFailed` (the replica holding the charger failed)",
                        "content": {"application/json": {"schema": {"$ref": _REF.format(model="Problem")}}},
                    },
                    "504": _PROBLEM,
                },
            }
        }
        for name, (model, _) in commands.COMMANDS.items()
    }
    return {
        "/healthz": {"get": {"summary": "Liveness.", "responses": {"200": {"description": "Alive"}}}},
        "/readyz": {
            "get": {
                "summary": "Readiness: the store answers.",
                "responses": {"200": {"description": "Ready"}, "503": _PROBLEM},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics.",
                "responses": {
                    "200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}
                },
            }
        },
        "/v1/chargers": {
            "get": {
                "summary": "Observed state of every known charger.",
                "security": _AUTH,
                "responses": {"200": _array("ObservedState"), "401": _PROBLEM},
            }
        },
        "/v1/chargers/{cp_id}/desired": {
            "put": {
                "summary": "Set a charger's desired state; the gateway converges the charger to it.",
                "security": _AUTH,
                "parameters": [_CP_ID],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": _REF.format(model="DesiredState")}}},
                },
                "responses": {
                    "200": _json("StoredDesiredState"),
                    "400": _PROBLEM,
                    "401": _PROBLEM,
                    "403": _READ_ONLY,
                    "422": _PROBLEM,
                },
            },
            "get": {
                "summary": "A charger's desired state.",
                "security": _AUTH,
                "parameters": [_CP_ID],
                "responses": {"200": _json("StoredDesiredState"), "400": _PROBLEM, "401": _PROBLEM, "404": _PROBLEM},
            },
        },
        "/v1/chargers/{cp_id}/observed": {
            "get": {
                "summary": "What the gateway last saw of a charger.",
                "security": _AUTH,
                "parameters": [_CP_ID],
                "responses": {"200": _json("ObservedState"), "400": _PROBLEM, "401": _PROBLEM},
            }
        },
        "/v1/chargers/{cp_id}": {
            "delete": {
                "summary": "Forget a charger (its sessions stay).",
                "security": _AUTH,
                "parameters": [_CP_ID],
                "responses": {
                    "204": {"description": "Forgotten"},
                    "400": _PROBLEM,
                    "401": _PROBLEM,
                    "403": _READ_ONLY,
                    "404": _PROBLEM,
                },
            }
        },
        **command_paths,
        "/v1/sessions": {
            "get": {
                "summary": "Charging sessions in a stable order, paged; with their readings if asked.",
                "security": _AUTH,
                "parameters": query,
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": session_pages}}},
                    "400": _PROBLEM,
                    "401": _PROBLEM,
                },
            }
        },
        "/v1/sessions/{session_id}": {
            "get": {
                "summary": "One session.",
                "security": _AUTH,
                "parameters": [_SESSION_ID],
                "responses": {"200": _json("Session"), "400": _PROBLEM, "401": _PROBLEM, "404": _PROBLEM},
            }
        },
        "/v1/sessions/{session_id}/readings": {
            "get": {
                "summary": "Energy register readings of a session.",
                "security": _AUTH,
                "parameters": [_SESSION_ID],
                "responses": {"200": _array("MeterReading"), "400": _PROBLEM, "401": _PROBLEM},
            }
        },
    }


@functools.cache
def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    models: list[type[BaseModel]] = [
        DesiredState,
        StoredDesiredState,
        ObservedState,
        Session,
        SessionPage,
        SessionWithReadingsPage,
        SessionWithReadingOffsetsPage,
        MeterReading,
    ]
    models += [model for model, _ in commands.COMMANDS.values()]
    _, schemas = models_json_schema([(model, "validation") for model in models], by_alias=True, ref_template=_REF)
    components = schemas.get("$defs", {})
    components["Problem"] = {
        "type": "object",
        "required": ["reason", "message"],
        "properties": {
            "reason": {"type": "string"},
            "message": {"type": "string"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "chargeops OCPP gateway control API", "version": __version__},
        "paths": _paths(),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The API token (everything), or the read token (GET only; the portal's).",
                }
            },
        },
    }
