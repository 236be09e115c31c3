"""One connection's incoming frames: replies go to the waiting call at once, calls are answered in order.

The ``ocpp`` library reads a frame, handles it and only then reads the next, so the reply to one of our
calls waits behind whatever handler runs before it. A handler waits on the store; under a slow store
(50,000 chargers on one PostgreSQL) a charger's answer to GetConfiguration sat unread behind its own
MeterValues until our call timed out, and convergence failed with "got no answer" on a charger that had
answered within milliseconds. Here a reader passes replies (MessageTypeId 3 and 4) on as they arrive
and queues calls for one answering task, which keeps their order (a charger's transaction messages are
answered in the order sent, OCPP 1.6 §3.7) and answers one at a time, as OCPP-J expects a peer to send
them (§4.1.1). The queue is short: a charger that floods calls is read no further until it drains, as
before.
"""

import asyncio
import contextlib
import re
from collections.abc import AsyncIterable, Awaitable, Callable

from websockets.exceptions import ConnectionClosed

_REPLY_HEAD = re.compile(r"\s*\[\s*[34]\s*,")

# Calls read ahead of the one being answered; a well-behaved charger has one outstanding at a time.
CALLS_READ_AHEAD = 8

Frame = str | bytes
Route = Callable[[Frame], Awaitable[None]]


def is_reply(raw: Frame) -> bool:
    """Whether ``raw`` looks like a CALLRESULT or CALLERROR (``[3, …`` or ``[4, …``). Only a guess for
    routing: a frame that is not one is routed as a call, whose parsing answers what is wrong with it.
    A frame routed as a reply is never answered (OCPP-J answers no CALLRESULT or CALLERROR), so it cannot
    overtake the answer to a call read before it; ``[3836, …`` is no reply and must not."""
    return isinstance(raw, str) and _REPLY_HEAD.match(raw) is not None


async def route_frames(frames: AsyncIterable[Frame], route: Route, on_frame: Callable[[], None]) -> None:
    """Route every frame of ``frames`` until it ends or the connection closes; ``on_frame`` is called as
    each arrives. Returns once the calls read before the end have been answered (or the connection
    closed under them); cancelled, it cancels the call being answered too and returns once that ended."""
    calls: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=CALLS_READ_AHEAD)
    answering = asyncio.create_task(_answer_calls(calls, route))
    try:
        with contextlib.suppress(ConnectionClosed):
            async for raw in frames:
                on_frame()
                if is_reply(raw):
                    await route(raw)
                elif not await _queued(calls, raw, answering):
                    break  # the connection closed while a call was answered
        await _queued(calls, None, answering)
        with contextlib.suppress(ConnectionClosed):
            await answering
    finally:
        answering.cancel()
        # Waited for, as when calls were answered in this task: the caller records the connection's end
        # only once no handler runs. (gather: a cancellation of this task while waiting still propagates.)
        await asyncio.gather(answering, return_exceptions=True)


async def _queued(calls: "asyncio.Queue[Frame | None]", item: Frame | None, answering: "asyncio.Task[None]") -> bool:
    """Queue ``item``, waiting while the queue is full; False when the answering task ended instead."""
    if answering.done():
        return False
    if not calls.full():  # the usual case, on every call a charger sends: no task to wait on
        calls.put_nowait(item)
        await asyncio.sleep(0)  # the answering task starts on it before the next frame is read, as before
        return True
    putting = asyncio.ensure_future(calls.put(item))
    await asyncio.wait((putting, answering), return_when=asyncio.FIRST_COMPLETED)
    if putting.done():
        return True
    putting.cancel()
    return False


async def _answer_calls(calls: "asyncio.Queue[Frame | None]", route: Route) -> None:
    while (raw := await calls.get()) is not None:
        await route(raw)
