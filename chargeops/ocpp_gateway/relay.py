"""Commands for a charger another replica holds, relayed through PostgreSQL NOTIFY.

A replica asked to run a command (``control.commands``) for a charger that another live replica holds
sends it on ``COMMANDS_CHANNEL``, addressed to the holder; the holder runs it on its own connection to
the charger and notifies the answer, addressed back, under the request's id. The replicas need no route
to each other's control API (it listens on loopback by default) and no broker: only the database they
share. A caller can so send every command to any replica, e.g. through one Kubernetes Service.

NOTIFY reaches the replicas listening at the time. A holder that dies (or loses its database connection)
after the request was sent never answers: the request ends after ``timeout_s`` with
``ChargerTimeoutError``, like any call the charger did not answer, and the command may or may not have
reached the charger. A holder that no longer holds the charger answers ``ChargerNotConnected``; it never
relays again, so a request crosses at most one hop.
"""

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from chargeops.ocpp_gateway.control import commands
from chargeops.ocpp_gateway.errors import (
    ChargerNotConnectedError,
    ChargerRefusedError,
    ChargerTimeoutError,
    GatewayError,
    RelayFailedError,
)
from chargeops.ocpp_gateway.store.replicas import COMMANDS_CHANNEL

log = logging.getLogger(__name__)

# The errors a holder's answer can name, re-raised here as the caller would have got them from the holder.
_ERRORS: dict[str, type[GatewayError]] = {
    error.reason: error for error in (ChargerNotConnectedError, ChargerRefusedError, ChargerTimeoutError)
}

Notify = Callable[[str, str], Awaitable[None]]
RunHere = Callable[[str, str, commands.Command], Awaitable[dict[str, Any]]]


class CommandRelay:
    """Sends commands to the replica holding a charger, and runs the ones sent to this replica."""

    def __init__(self, *, replica_id: str, notify: Notify, run_here: RunHere, timeout_s: float) -> None:
        self.replica_id = replica_id
        self.timeout_s = timeout_s
        self._notify = notify
        self._run_here = run_here
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def send(self, holder: str, cp_id: str, name: str, command: commands.Command) -> dict[str, Any]:
        """Run ``command`` on ``holder``, the replica holding ``cp_id``; the charger's answer.

        Raises what the holder raised (``ChargerRefusedError``, ``ChargerTimeoutError``,
        ``ChargerNotConnectedError``), and ``ChargerTimeoutError`` if the holder does not answer in time.
        """
        request_id = uuid.uuid4().hex
        answered: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = answered
        request = {
            "kind": "request",
            "id": request_id,
            "to": holder,
            "from": self.replica_id,
            "chargePointId": cp_id,
            "command": name,
            "body": command.model_dump(mode="json", by_alias=True, exclude_none=True),
        }
        try:
            await self._notify(COMMANDS_CHANNEL, json.dumps(request))
            outcome = await asyncio.wait_for(answered, self.timeout_s)
        except TimeoutError:
            raise ChargerTimeoutError(
                f"Charge point {cp_id}: gateway replica {holder}, which holds it, did not answer the relayed "
                f"{name} within {self.timeout_s:g} s.",
                charge_point_id=cp_id,
            ) from None
        finally:
            self._waiting.pop(request_id, None)
        if "error" in outcome:
            raise _ERRORS.get(outcome["error"], RelayFailedError)(outcome["message"], charge_point_id=cp_id)
        return dict(outcome["answer"])

    def heard(self, payload: str) -> None:
        """A notification on ``COMMANDS_CHANNEL``: an answer this replica waits for, or a request to run
        here; anything addressed to another replica is ignored."""
        try:
            message = json.loads(payload)
            if message.get("to") != self.replica_id:
                return
            if message["kind"] == "answer":
                waiting = self._waiting.get(message["id"])
                if waiting is not None and not waiting.done():
                    waiting.set_result(message)
            elif message["kind"] == "request":
                task = asyncio.create_task(self._answer(message), name=f"relayed:{message['chargePointId']}")
                self._running.add(task)
                task.add_done_callback(self._running.discard)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("A relayed command notification that is not ours was ignored (%r): %.200s", error, payload)

    async def _answer(self, request: dict[str, Any]) -> None:
        cp_id, name = request["chargePointId"], request["command"]
        try:
            model, _ = commands.COMMANDS[name]
            command = model.model_validate(request["body"])
            answer: dict[str, Any] = {"answer": await self._run_here(cp_id, name, command)}
        except GatewayError as error:
            answer = {"error": error.reason, "message": str(error)}
        except Exception as error:  # the requester gets an answer whatever went wrong here
            log.exception("[%s] Relayed %s from replica %s failed.", cp_id, name, request["from"])
            answer = {"error": RelayFailedError.reason, "message": f"Charge point {cp_id}: {name} failed: {error!r}"}
        reply = {"kind": "answer", "id": request["id"], "to": request["from"], **answer}
        try:
            await self._notify(COMMANDS_CHANNEL, json.dumps(reply))
        except Exception:  # the requester times out, as if this replica had gone
            log.exception("[%s] The answer to relayed %s could not be sent to %s.", cp_id, name, request["from"])
