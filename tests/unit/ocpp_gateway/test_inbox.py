"""``inbox``: a reply is routed while a call is being answered; calls are answered one at a time, in order."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from chargeops.ocpp_gateway import inbox
from chargeops.ocpp_gateway.inbox import Frame

CALL = '[2,"c1","MeterValues",{}]'
REPLY = '[3,"g1",{}]'


@pytest.mark.parametrize(
    ("raw", "reply"),
    [
        ('[3,"x",{}]', True),
        (' [ 4 , "x", "NotSupported", "", {}]', True),
        ('\n[\n3,"x",{}]', True),
        ('[2,"x","Heartbeat",{}]', False),
        # Answered FormationViolation: routed as a call, so the answer keeps its place among the calls'
        # (found by tests/e2e/test_gateway_fuzz.py).
        ('[3836,"0","BootNotification",{}]', False),
        ('[33,"x"]', False),
        ('[3.0,"x",{}]', False),
        ("[3]", False),
        ("[", False),
        ("", False),
        ("not json", False),
        (b'[3,"x",{}]', False),  # binary frames are refused by the call path
    ],
)
def test_is_reply_is_true_only_for_message_type_3_or_4(raw: Frame, reply: bool) -> None:
    assert inbox.is_reply(raw) is reply


async def frames_of(*items: Frame, then: asyncio.Event | None = None) -> AsyncIterator[Frame]:
    for item in items:
        yield item
    if then is not None:
        await then.wait()


async def test_a_reply_is_routed_while_a_call_waits() -> None:
    routed: list[Frame] = []
    store_free = asyncio.Event()
    reply_seen = asyncio.Event()

    async def route(raw: Frame) -> None:
        routed.append(raw)
        if raw == CALL:
            await store_free.wait()
        else:
            reply_seen.set()

    reading = asyncio.create_task(inbox.route_frames(frames_of(CALL, REPLY), route, lambda: None))
    await asyncio.wait_for(reply_seen.wait(), 5)

    assert routed == [CALL, REPLY]
    assert not reading.done()  # the call read before the end is still being answered
    store_free.set()
    await asyncio.wait_for(reading, 5)


async def test_calls_are_answered_one_at_a_time_in_the_order_read() -> None:
    calls = [f'[2,"c{n}","MeterValues",{{}}]' for n in range(20)]
    answered: list[Frame] = []
    running = 0

    async def route(raw: Frame) -> None:
        nonlocal running
        running += 1
        assert running == 1
        await asyncio.sleep(0)
        answered.append(raw)
        running -= 1

    seen = 0

    def on_frame() -> None:
        nonlocal seen
        seen += 1

    await asyncio.wait_for(inbox.route_frames(frames_of(*calls), route, on_frame), 5)

    assert answered == calls
    assert seen == len(calls)


async def test_cancelled_it_cancels_the_call_being_answered() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def route(raw: Frame) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    reading = asyncio.create_task(inbox.route_frames(frames_of(CALL, then=asyncio.Event()), route, lambda: None))
    await asyncio.wait_for(started.wait(), 5)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert cancelled.is_set()
