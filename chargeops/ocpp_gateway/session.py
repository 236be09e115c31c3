"""One session class per OCPP version: the ``ocpp`` library's ChargePoint with our handlers plugged in.

Each ``on_<action>`` method is a one-line adapter onto ``actions.<version>.<action>.handle`` (see
``chargeops.ocpp_gateway.actions``). The shared base makes the library's routing safe to face the
world: every frame is answered (a malformed one with the right CALLERROR, see ``frames``), an unexpected
exception becomes InternalError instead of ending the connection, and replies on a 1.6 connection use
1.6's spelling of error codes.

One exception to answering everything: a transaction-related message the store cannot take (the database is
down) gets no answer and the connection is closed (1013, try again later). A CALLERROR would make the
charger retry it ``TransactionMessageAttempts`` times and then drop it (OCPP 1.6 §3.8), so a long outage
would lose sessions; an unanswered message stays at the head of the charger's queue and is delivered again
after it reconnects, however long that takes. Any other message the store cannot take is answered
InternalError (the charger sends no copy it would count) and logged as one warning line, not the library's
traceback: under overload it is expected, and at 50,000 chargers the tracebacks buried everything else.
"""

import functools
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from ocpp import routing
from ocpp.exceptions import InternalError, NotSupportedError, OCPPError
from ocpp.exceptions import NotImplementedError as NotImplementedError_
from ocpp.messages import Call, MessageType, unpack
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201.enums import Action as Action201
from websockets.exceptions import ConnectionClosed

from chargeops.api.v1alpha1 import OcppVersion
from chargeops.ocpp_gateway import frames, metrics
from chargeops.ocpp_gateway.actions.v16 import (
    authorize,
    boot_notification,
    data_transfer,
    diagnostics_status_notification,
    firmware_status_notification,
    heartbeat,
    meter_values,
    start_transaction,
    status_notification,
    stop_transaction,
)
from chargeops.ocpp_gateway.actions.v201 import authorize as authorize201
from chargeops.ocpp_gateway.actions.v201 import boot_notification as boot_notification201
from chargeops.ocpp_gateway.actions.v201 import heartbeat as heartbeat201
from chargeops.ocpp_gateway.actions.v201 import meter_values as meter_values201
from chargeops.ocpp_gateway.actions.v201 import notifications as notifications201
from chargeops.ocpp_gateway.actions.v201 import status_notification as status_notification201
from chargeops.ocpp_gateway.actions.v201 import transaction_event
from chargeops.ocpp_gateway.context import ChargerContext
from chargeops.ocpp_gateway.store import errors as store_errors

Handler = TypeVar("Handler", bound=Callable[..., Any])

# Messages a charger keeps queued until answered (OCPP 1.6 §3.7, 2.0.1 E04/E12): never refused for a store outage.
TRANSACTION_ACTIONS = frozenset({"StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent"})
# RFC 6455 §7.4.1 (IANA registry): "Try Again Later".
TRY_AGAIN_LATER_CLOSE_CODE = 1013


class StoreOutage(BaseException):
    """A charger's message could not be stored because the store is unavailable.

    A BaseException, so that it passes the ``ocpp`` library's ``except Exception`` around handlers (which
    would log a traceback and answer InternalError) and reaches ``RoutingMixin._answer``, which closes the
    connection for a transaction message and answers InternalError, with one log line, for any other.
    """

    def __init__(self, error: store_errors.StoreUnavailableError) -> None:
        super().__init__(str(error))
        self.error = error


def _outage_raised_past_the_library(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def handle(*args: Any, **kwargs: Any) -> Any:
        try:
            return await handler(*args, **kwargs)
        except store_errors.StoreUnavailableError as error:
            raise StoreOutage(error) from error

    return cast(Handler, handle)


def on(action: str) -> Callable[[Handler], Handler]:
    """The library's ``@on``, typed: marks a method as the handler of a charger's ``action``."""

    def mark(handler: Handler) -> Handler:
        handler = _outage_raised_past_the_library(handler)
        # The library asks inspect.signature(handler) on every call it routes (does it take
        # call_unique_id?); computed once here, inspect finds it in __signature__ instead of rebuilding it.
        handler.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
        return cast(Handler, routing.on(action)(handler))

    return mark


# ocpp logs every frame at INFO, id tags included; this logger is quiet unless asked for.
WIRE_LOGGER = logging.getLogger("chargeops.gateway.wire")


class RoutingMixin:
    """Frame handling shared by both versions. Mixed in before the library's ChargePoint."""

    ctx: ChargerContext
    logger: Any
    ACTIONS: frozenset[str] = frozenset()

    async def route_message(self, raw_msg: str | bytes) -> None:
        version = self.ctx.ocpp_version
        try:
            msg = unpack(raw_msg)
        except OCPPError as error:
            reply = frames.error_for_unroutable(raw_msg, error, version)
            if reply is not None:
                await self._send(reply)
            return
        if msg.message_type_id != MessageType.Call:
            # Only a reply to a call we are waiting for is queued; anything else would pile up unread.
            if self._call_lock.locked():  # type: ignore[attr-defined]
                self._response_queue.put_nowait(msg)  # type: ignore[attr-defined]
            else:
                self.ctx.logger.debug("Ignored a reply to no pending call (message id %r).", msg.unique_id)
            return
        malformed = frames.malformed_call(msg.unique_id, msg.action, msg.payload, version)
        if malformed is not None:
            await self._send(malformed)
            return
        await self._answer(msg)

    async def _answer(self, msg: Call) -> None:
        started = time.perf_counter()
        result = "ok"
        try:
            self._require_handler(msg.action)
            await self._handle_call(msg)  # type: ignore[attr-defined]
        except ConnectionClosed:
            raise  # the charger left before its answer went out: the connection ends, nothing to answer
        except StoreOutage as outage:
            result = "StoreUnavailable"
            if msg.action in TRANSACTION_ACTIONS:
                await self._hang_up_unanswered(msg, outage.error)
            else:
                await self._answer_store_unavailable(msg, outage.error)
        except OCPPError as error:
            result = error.code
            await self._send(msg.create_call_error(error).to_json())
        except Exception:
            # A bug of ours must not cost the charger its connection: it gets InternalError and goes on.
            result = "InternalError"
            self.ctx.logger.exception("Handling %s failed.", msg.action)
            await self._send(msg.create_call_error(Exception()).to_json())
        action = msg.action if msg.action in self.route_map else "Unknown"  # type: ignore[attr-defined]
        metrics.messages(action, result).inc()
        metrics.call_latency(action).observe(time.perf_counter() - started)

    async def _hang_up_unanswered(self, msg: Call, error: Exception) -> None:
        self.ctx.logger.warning(
            "%s (message id %s) not stored, the store is unavailable (%s): closing the connection unanswered, "
            "so the charger keeps it queued and delivers it again when it reconnects.",
            msg.action,
            msg.unique_id,
            error,
        )
        connection: Any = self._connection  # type: ignore[attr-defined]
        await connection.close(TRY_AGAIN_LATER_CLOSE_CODE, "Store unavailable; reconnect and deliver again")

    async def _answer_store_unavailable(self, msg: Call, error: Exception) -> None:
        self.ctx.logger.warning(
            "%s (message id %s) not handled, the store is unavailable (%s): answered InternalError.",
            msg.action,
            msg.unique_id,
            error,
        )
        unavailable = InternalError(description="The central system's store is unavailable; try again later.")
        await self._send(msg.create_call_error(unavailable).to_json())

    def _require_handler(self, action: str) -> None:
        """OCPP-J §4.2.3: NotImplemented for an action the receiver does not know, NotSupported for one it
        knows but does not support. (The library answers the other way round.)"""
        if action in self.route_map:  # type: ignore[attr-defined]
            return
        known = action in self.ACTIONS
        error = NotSupportedError if known else NotImplementedError_
        raise error(details={"cause": f"{action} is {'not supported here' if known else 'not an OCPP action'}"})

    async def _send(self, message: str) -> None:
        message = frames.translate(message, self.ctx.ocpp_version)
        if message.startswith("[4"):
            metrics.CALL_ERRORS_SENT.labels(frames.error_code(message)).inc()
        await super()._send(message)  # type: ignore[misc]


class Session16(RoutingMixin, ChargePoint16):  # type: ignore[misc]
    """An OCPP 1.6J connection."""

    ACTIONS = frozenset(action.value for action in Action16)

    def __init__(self, ctx: ChargerContext, connection: Any, *, response_timeout_s: float) -> None:
        super().__init__(ctx.charge_point_id, connection, response_timeout=response_timeout_s, logger=WIRE_LOGGER)
        self.ctx = ctx

    @on(Action16.boot_notification)
    async def on_boot_notification(self, **payload: Any) -> Any:
        return await boot_notification.handle(self.ctx, payload)

    @on(Action16.heartbeat)
    async def on_heartbeat(self, **payload: Any) -> Any:
        return await heartbeat.handle(self.ctx, payload)

    @on(Action16.status_notification)
    async def on_status_notification(self, **payload: Any) -> Any:
        return await status_notification.handle(self.ctx, payload)

    @on(Action16.authorize)
    async def on_authorize(self, **payload: Any) -> Any:
        return await authorize.handle(self.ctx, payload)

    @on(Action16.start_transaction)
    async def on_start_transaction(self, **payload: Any) -> Any:
        return await start_transaction.handle(self.ctx, payload)

    @on(Action16.stop_transaction)
    async def on_stop_transaction(self, **payload: Any) -> Any:
        return await stop_transaction.handle(self.ctx, payload)

    @on(Action16.meter_values)
    async def on_meter_values(self, **payload: Any) -> Any:
        return await meter_values.handle(self.ctx, payload)

    @on(Action16.data_transfer)
    async def on_data_transfer(self, **payload: Any) -> Any:
        return await data_transfer.handle(self.ctx, payload)

    @on(Action16.firmware_status_notification)
    async def on_firmware_status_notification(self, **payload: Any) -> Any:
        return await firmware_status_notification.handle(self.ctx, payload)

    @on(Action16.diagnostics_status_notification)
    async def on_diagnostics_status_notification(self, **payload: Any) -> Any:
        return await diagnostics_status_notification.handle(self.ctx, payload)


class Session201(RoutingMixin, ChargePoint201):  # type: ignore[misc]
    """An OCPP 2.0.1 connection."""

    ACTIONS = frozenset(action.value for action in Action201)

    def __init__(self, ctx: ChargerContext, connection: Any, *, response_timeout_s: float) -> None:
        super().__init__(ctx.charge_point_id, connection, response_timeout=response_timeout_s, logger=WIRE_LOGGER)
        self.ctx = ctx

    @on(Action201.boot_notification)
    async def on_boot_notification(self, **payload: Any) -> Any:
        return await boot_notification201.handle(self.ctx, payload)

    @on(Action201.heartbeat)
    async def on_heartbeat(self, **payload: Any) -> Any:
        return await heartbeat201.handle(self.ctx, payload)

    @on(Action201.status_notification)
    async def on_status_notification(self, **payload: Any) -> Any:
        return await status_notification201.handle(self.ctx, payload)

    @on(Action201.authorize)
    async def on_authorize(self, **payload: Any) -> Any:
        return await authorize201.handle(self.ctx, payload)

    @on(Action201.transaction_event)
    async def on_transaction_event(self, **payload: Any) -> Any:
        return await transaction_event.handle(self.ctx, payload)

    @on(Action201.meter_values)
    async def on_meter_values(self, **payload: Any) -> Any:
        return await meter_values201.handle(self.ctx, payload)

    @on(Action201.notify_event)
    async def on_notify_event(self, **payload: Any) -> Any:
        return await notifications201.notify_event(self.ctx, payload)

    @on(Action201.security_event_notification)
    async def on_security_event_notification(self, **payload: Any) -> Any:
        return await notifications201.security_event_notification(self.ctx, payload)

    @on(Action201.notify_report)
    async def on_notify_report(self, **payload: Any) -> Any:
        return await notifications201.notify_report(self.ctx, payload)

    @on(Action201.firmware_status_notification)
    async def on_firmware_status_notification(self, **payload: Any) -> Any:
        return await notifications201.firmware_status_notification(self.ctx, payload)


Session = Session16 | Session201
SESSION_CLASSES: dict[OcppVersion, type[Session16] | type[Session201]] = {
    OcppVersion.V16: Session16,
    OcppVersion.V201: Session201,
}
