"""The portal's web application: routes, the page every failure becomes, the headers every page carries.

Routes (the token is the last path segment a link carries; forms and links on the pages are relative, so
the portal also works below a path prefix behind a proxy):

- ``GET  /invitation/{token}``          the offer and two buttons (plain forms, no script)
- ``POST /invitation/{token}/accept``   record the answer once, show the confirmation
- ``POST /invitation/{token}/decline``
- ``GET  /account/{token}``             this month's sessions and the invoices
- ``GET  /account/{token}/invoices/{name}``  one invoice of that subscription, as the billing renders it
- ``GET  /healthz``

A GET never changes anything: mail scanners open links to look at them. Every refusal and every error
is a page with a status and words, never a traceback. Log lines name the Subscription; the token, which
is a key, is never logged (the access log shows the route, not the path).
"""

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import urllib3.exceptions
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from kubernetes.client.exceptions import ApiException

from chargeops.api.v1alpha1 import Subscription
from chargeops.billing import render as invoice_render
from chargeops.invitations import tokens
from chargeops.operator.errors import GatewayRefusedError, GatewayUnreachableError
from chargeops.operator.gateway_client import GatewayClient
from chargeops.portal import account, answers, facts, links, pages
from chargeops.portal.cluster import Cluster
from chargeops.portal.errors import LinkRefusedError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CLUSTER: web.AppKey[Cluster] = web.AppKey("cluster", Cluster)
GATEWAY: web.AppKey[GatewayClient] = web.AppKey("gateway", GatewayClient)
KEY: web.AppKey[bytes] = web.AppKey("key", bytes)
CLOCK: web.AppKey[Clock] = web.AppKey("clock", Callable[[], datetime])  # type: ignore[arg-type]
# The Subscription a request is about, once its link checked out: what error logs name.
_OBJECT = "chargeops.object"


def application(*, cluster: Cluster, gateway: GatewayClient, key: bytes, clock: Clock | None = None) -> web.Application:
    """The portal as an aiohttp application."""
    app = web.Application(middlewares=[_pages])
    app[CLUSTER] = cluster
    app[GATEWAY] = gateway
    app[KEY] = key
    app[CLOCK] = clock or _utc_now
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/invitation/{token}", _invitation)
    app.router.add_post("/invitation/{token}/accept", _accept)
    app.router.add_post("/invitation/{token}/decline", _decline)
    app.router.add_get("/invitation/{token}/{answer:accept|decline}", _back_to_invitation)
    app.router.add_get("/account/{token}", _account)
    app.router.add_get("/account/{token}/invoices/{name}", _invoice)
    return app


class AccessLogger(AbstractAccessLogger):
    """One line per request with the route it matched (``/invitation/{token}``), never the path itself."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        match_info = getattr(request, "match_info", None)
        route = match_info.route.resource if match_info is not None else None
        where = route.canonical if route is not None else "(no route)"
        self.logger.info("%s %s %s %.0f ms", request.method, where, response.status, time * 1000)


async def _healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def _invitation(request: web.Request) -> web.Response:
    claims = _claims(request, tokens.Purpose.INVITATION)
    cluster = request.app[CLUSTER]
    subscription = links.same_subscription(claims, await cluster.subscription(claims.namespace, claims.subscription))
    site = await facts.site_of(cluster, subscription)
    subscription = links.open_invitation(claims, subscription, tz=facts.zone_of(site))
    found = await facts.gather(cluster, subscription, site=site)
    return _page(
        "invitation.html.j2",
        offer=found.offer(),
        email=subscription.spec.subscriber.email,
        expires=f"{claims.expires.astimezone(found.tz):%Y-%m-%d %H:%M} ({found.tz})",
        token=request.match_info["token"],
    )


async def _accept(request: web.Request) -> web.Response:
    return await _answer(request, links.Answer.ACCEPT)


async def _decline(request: web.Request) -> web.Response:
    return await _answer(request, links.Answer.DECLINE)


async def _answer(request: web.Request, answer: links.Answer) -> web.Response:
    claims = _claims(request, tokens.Purpose.INVITATION)
    cluster = request.app[CLUSTER]
    subscription = links.same_subscription(claims, await cluster.subscription(claims.namespace, claims.subscription))
    site = await facts.site_of(cluster, subscription)
    tz = facts.zone_of(site)
    now = request.app[CLOCK]()
    recorded = await answers.record(cluster, claims, answer, now=now, tz=tz)
    _logger(request).info("Invitation %s.", answer.past)
    account = None
    if answer is links.Answer.ACCEPT:
        # Relative to /invitation/<token>/accept, so it works below a path prefix too.
        account = "../../account/" + links.account_token(claims, key=request.app[KEY], now=now)
    return _page(
        "answered.html.j2",
        answer=answer.past,
        site_name=site.spec.display_name or site.metadata.get("name"),
        subscriber_name=recorded.spec.subscriber.name,
        answered_at=f"{now.astimezone(tz):%Y-%m-%d at %H:%M}",
        account_link=account,
    )


async def _back_to_invitation(request: web.Request) -> web.Response:
    """A GET of an answer's address (a scanner, a reload) answers nothing: back to the page."""
    return web.Response(status=303, headers={"Location": f"../{request.match_info['token']}"})


async def _account(request: web.Request) -> web.Response:
    claims = _claims(request, tokens.Purpose.ACCOUNT)
    cluster = request.app[CLUSTER]
    subscription = links.same_subscription(claims, await cluster.subscription(claims.namespace, claims.subscription))
    site = await facts.site_of(cluster, subscription)
    found = await facts.gather(cluster, subscription, site=site)
    now = request.app[CLOCK]()
    try:
        sessions = await account.month_sessions(
            request.app[GATEWAY], subscription, found.chargers, now=now, tz=found.tz
        )
    except (GatewayUnreachableError, GatewayRefusedError) as error:
        _logger(request).warning("Sessions not shown: %s", error)
        sessions = None
    invoices = await cluster.invoices(claims.namespace, subscription=claims.subscription)
    view = account.view(
        subscription, site, chargers=found.chargers, sessions=sessions, invoices=invoices, now=now, tz=found.tz
    )
    return _page("account.html.j2", account=view, token=request.match_info["token"], wide=True)


async def _invoice(request: web.Request) -> web.Response:
    claims = _claims(request, tokens.Purpose.ACCOUNT)
    cluster = request.app[CLUSTER]
    subscription = links.same_subscription(claims, await cluster.subscription(claims.namespace, claims.subscription))
    invoice = await cluster.invoice(claims.namespace, request.match_info["name"])
    # Another subscription's invoice is "not found", exactly like one that does not exist: the page
    # tells nothing about what else is there.
    if invoice is None or invoice.spec.subscription_ref.name != claims.subscription:
        raise LinkRefusedError(
            "InvoiceNotFound", "There is no such invoice on your account.", status=404, title="Invoice not found"
        )
    site = await cluster.site(claims.namespace, invoice.spec.site_ref.name)
    try:
        document = invoice_render.invoice_html(invoice, site=site, subscription=subscription)
    except invoice_render.UnknownTimeZoneError:
        document = invoice_render.invoice_html(invoice, site=None, subscription=subscription)
    response = web.Response(text=document, content_type="text/html")
    response.headers["Content-Security-Policy"] = pages.policy_for_document(document)
    return response


def _claims(request: web.Request, purpose: tokens.Purpose) -> tokens.Claims:
    """The link's claims, checked; the request is about their Subscription from here on."""
    claims = links.claims_of(
        request.match_info["token"], key=request.app[KEY], purpose=purpose, now=request.app[CLOCK]()
    )
    request[_OBJECT] = (claims.namespace, claims.subscription)
    return claims


def _logger(request: web.Request) -> "_ObjectLogger":
    """A logger whose lines start with ``[namespace/subscription]``, as the operator's do."""
    namespace, name = request.get(_OBJECT, ("", ""))
    return _ObjectLogger(log, namespace=namespace, name=name)


class _ObjectLogger(logging.LoggerAdapter[logging.Logger]):
    """Prefixes ``[namespace/name]`` and puts the object under ``object``, the shape of kopf's log lines."""

    def __init__(self, logger: logging.Logger, *, namespace: str, name: str) -> None:
        super().__init__(logger, {"object": {"kind": Subscription.names.kind, "namespace": namespace, "name": name}})
        self.prefix = f"[{namespace}/{name}] " if name else ""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return f"{self.prefix}{msg}", {**kwargs, "extra": self.extra}


def _page(template: str, *, status: int = 200, **values: Any) -> web.Response:
    return web.Response(text=pages.render(template, **values), status=status, content_type="text/html")


def _refusal(refused: LinkRefusedError) -> web.Response:
    return _page(
        "refused.html.j2",
        status=refused.status,
        code=refused.status,
        title=refused.title,
        message=refused.message,
        reason=refused.reason,
    )


@web.middleware
async def _pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every outcome as a page with the portal's headers: refusals, unknown addresses, failures."""
    try:
        response = await handler(request)
    except LinkRefusedError as refused:
        _logger(request).info("Link refused: %s (%s).", refused.reason, refused.status)
        response = _refusal(refused)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        title = "Page not found" if error.status == 404 else error.reason
        response = _refusal(LinkRefusedError(error.reason.replace(" ", ""), _UNKNOWN, status=error.status, title=title))
    except (ApiException, urllib3.exceptions.HTTPError, GatewayUnreachableError) as error:
        _logger(request).warning("Cannot reach a backend: %s", _brief(error))
        response = _refusal(LinkRefusedError("Unavailable", _LATER, status=503, title="Please try again later"))
    except Exception:
        _logger(request).exception("Request failed.")
        response = _refusal(LinkRefusedError("InternalError", _LATER, status=500, title="Something went wrong"))
    for name, value in pages.HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", pages.CONTENT_SECURITY_POLICY)
    return response


_UNKNOWN = "There is nothing at this address. Open the link from your email as it is."
_LATER = "This page cannot be shown right now. Please try again in a few minutes."


def _brief(error: Exception) -> str:
    """One line about a client error: its status and reason, without the request it was about."""
    if isinstance(error, ApiException):
        return f"API server answered {error.status} {error.reason}"
    return type(error).__name__


def _utc_now() -> datetime:
    return datetime.now(UTC)
