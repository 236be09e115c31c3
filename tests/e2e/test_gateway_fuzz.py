"""The gateway under generated OCPP-J frames: each gets the answer the specification asks for, none hurts.

Frames come from ``fuzz_frames`` (1.6 and 2.0.1; every handled action with mutated payloads, unknown
actions, broken JSON and envelopes, stray replies, binary frames) and go over one real websocket, in
batches: a batch is sent at once, then the replies are read back in order (the gateway answers one
connection's calls in order) and compared one by one with the expected ones; each batch ends with a
Heartbeat, so the connection is shown alive after every batch. Afterwards no InternalError or
GenericError was sent and nothing was logged as an error but the library's note of the CALLERRORs it
was asked to send.

CHARGEOPS_FUZZ_FRAMES sets the frames per version and backend (default 3,000); the figure is printed
(``pytest -rA`` or ``-s``): frames, wall time, mismatches.
"""

import base64
import contextlib
import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ocpp.exceptions import OCPPError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from chargeops.ocpp_gateway import metrics
from tests.e2e import fuzz_frames
from tests.e2e.fuzz_frames import V16, V201, Frame
from tests.e2e.harness import PASSWORD, RunningGateway, gateway_in_thread, gateway_settings

FRAMES = int(os.environ.get("CHARGEOPS_FUZZ_FRAMES", "3000"))
BATCH = 25

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(max(300, FRAMES // 20)),
    # The gateway's thread uses ``random`` while hypothesis generates; that is not the strategies' doing.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]

SUBPROTOCOL = {V16: "ocpp1.6", V201: "ocpp2.0.1"}
NEVER_SENT = ("InternalError", "GenericError")


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above or with a traceback, but the ``ocpp`` library's log of a CallError a
    handler raised on purpose (it logs each with its traceback) and of a stray reply it ignored."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        raised = record.exc_info[1] if record.exc_info else None
        if record.levelno < logging.ERROR and raised is None:
            return
        if isinstance(raised, OCPPError) and raised.code != "InternalError":
            return
        if record.getMessage().startswith("Ignoring response with unknown unique id"):
            return  # a stray reply while a call of ours was pending: ignored, as OCPP-J asks
        self.records.append(record)


@pytest.fixture
def error_records() -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as exits:
        yield exits


@pytest.fixture
def fuzz_gateway(database_url: str) -> Iterator[RunningGateway]:
    with gateway_in_thread(gateway_settings(database_url)) as running:
        yield running


@contextlib.contextmanager
def open_charger(gateway: RunningGateway, version: str, cp_id: str) -> Iterator[ClientConnection]:
    """A charger of ``version`` the gateway knows, connected, its first Heartbeat answered."""
    reply = requests.put(
        f"{gateway.control_url}/v1/chargers/{cp_id}/desired",
        json={"password": PASSWORD, "ocppVersion": version},
        headers={"Authorization": f"Bearer {gateway.token}"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    credentials = base64.b64encode(f"{cp_id}:{PASSWORD}".encode()).decode()
    with connect(
        f"{gateway.ocpp_url}/{cp_id}",
        subprotocols=[SUBPROTOCOL[version]],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Basic {credentials}"},
        open_timeout=10,
        max_size=None,
    ) as connection:
        connection.send('[2,"hello","Heartbeat",{}]')
        assert next_reply(connection)[:2] == [3, "hello"]
        yield connection


def next_reply(connection: ClientConnection) -> list[Any]:
    """The next reply to one of our frames; calls the gateway makes (convergence) get NotImplemented."""
    while True:
        frame = json.loads(connection.recv(timeout=30))
        if isinstance(frame, list) and frame[:1] == [2]:
            connection.send(json.dumps([4, frame[1], "NotImplemented", "", {}]))
            continue
        return list(frame)


def describe(frame: Frame) -> str:
    data = frame.data if isinstance(frame.data, str) else repr(frame.data)
    return f"{frame.kind}: {data[:300]}"


def exchange(connection: ClientConnection, batch: list[Frame], alive_id: str) -> None:
    """Send ``batch`` and a Heartbeat; assert each expected reply, in order, and then the Heartbeat's."""
    for frame in batch:
        connection.send(frame.data)
    connection.send(json.dumps([2, alive_id, "Heartbeat", {}]))
    for frame in batch:
        if frame.expected is None:
            continue
        reply = next_reply(connection)
        wanted = [3, frame.expected.message_id] if frame.expected.code is None else [4, frame.expected.message_id]
        got = reply[:2] if frame.expected.code is None else reply[:3]
        if frame.expected.code is not None:
            wanted.append(frame.expected.code)
        if got != wanted:
            # Read up to the Heartbeat's reply, so the next example (hypothesis shrinking) starts in step.
            while next_reply(connection)[:2] != [3, alive_id]:
                pass
            raise AssertionError(f"{describe(frame)}\n  expected {wanted}, got {str(reply)[:300]}")
    reply = next_reply(connection)
    assert reply[:2] == [3, alive_id], f"after the batch, expected the Heartbeat's reply, got {str(reply)[:300]}"


def _answer_name(frame: Frame) -> str:
    if frame.expected is None:
        return "none"
    return frame.expected.code or "CALLRESULT"


def sent_errors(code: str) -> float:
    return metrics.REGISTRY.get_sample_value("chargeops_gateway_call_errors_sent_total", {"code": code}) or 0.0


@pytest.mark.parametrize("version", [V16, V201])
def test_generated_frames_get_the_specified_answers(
    fuzz_gateway: RunningGateway, error_records: ErrorRecords, version: str, stack: contextlib.ExitStack
) -> None:
    connection = stack.enter_context(open_charger(fuzz_gateway, version, f"CP-FUZZ-{version}"))
    before = {code: sent_errors(code) for code in NEVER_SENT}
    kinds: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    started = time.perf_counter()

    @settings(
        max_examples=math.ceil(FRAMES / BATCH),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=st.lists(fuzz_frames.frames(version), min_size=BATCH, max_size=BATCH))
    def batches(batch: list[Frame]) -> None:
        kinds.update(frame.kind.split(":")[0] for frame in batch)
        answers.update(_answer_name(frame) for frame in batch)
        exchange(connection, batch, f"alive-{kinds.total()}")

    outcome = "a mismatch (below)"
    try:
        batches()
        outcome = "0 mismatches"
    finally:
        elapsed = time.perf_counter() - started
        print(
            f"\nfuzz {version}: {kinds.total()} frames in {elapsed:.1f} s "
            f"({kinds.total() / elapsed:.0f}/s), {outcome};\n  kinds {dict(sorted(kinds.items()))};"
            f"\n  answers {dict(sorted(answers.items()))}"
        )
    assert kinds.total() >= FRAMES
    assert {code: sent_errors(code) - before[code] for code in NEVER_SENT} == dict.fromkeys(NEVER_SENT, 0.0)
    assert [record.getMessage() for record in error_records.records] == []


@pytest.mark.parametrize("version", [V16, V201])
def test_an_oversized_frame_closes_with_1009_and_the_charger_may_return(
    fuzz_gateway: RunningGateway, version: str
) -> None:
    with open_charger(fuzz_gateway, version, f"CP-BIG-{version}") as connection:
        too_big = "x" * fuzz_gateway.gateway.settings.max_frame_bytes
        connection.send(json.dumps([2, "big", "Heartbeat", {"x": too_big}]))
        with pytest.raises(ConnectionClosed) as closed:
            next_reply(connection)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
    with open_charger(fuzz_gateway, version, f"CP-BIG-{version}"):
        pass  # connected again; its Heartbeat was answered
