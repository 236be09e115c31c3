"""The control API: HTTP on its own port, for the operator (and people) to drive the gateway.

``routes`` holds the handlers, ``openapi`` the published document, ``commands`` the calls to chargers
that an operator may ask for. Every ``/v1`` route wants ``Authorization: Bearer <token>``; health,
readiness, metrics and the OpenAPI document do not.
"""
