"""Lean simulated chargers for ``bench/gateway_load.py``: raw websockets and pre-built OCPP 1.6 frames.

``chargeops simulate`` builds full stations on the ``ocpp`` library (about 130 KB and a schema
validation per message each); tens of thousands of them would make the client, not the gateway, the
thing measured. A ``LeanCharger`` is a websocket, a dict of pending calls keyed by message id and a
few counters. It sends frames written as strings, matches replies by message id, and answers the
gateway's convergence calls (GetConfiguration, ChangeConfiguration, GetLocalListVersion,
SendLocalList) with minimal valid replies, so the gateway never waits for a timeout.

``run_worker`` is the body of one load-generator process: ``gateway_load`` starts several, each with
its share of the chargers, and talks to them over a pipe:

    worker -> parent  {"event": "ready", ...connect figures}
    parent -> worker  {"command": "measure", "duration_s": S}
    worker -> parent  {"event": "done", ...window figures}

In the reconnect-storm mode the parent restarts the gateway instead of measuring a window:

    worker -> parent  {"event": "ready", ...connect figures}    (once the gateway's calls ended)
    parent -> worker  {"command": "storm", "deadline_s": S}
    worker -> parent  {"event": "armed"}                        (every charger now reconnects when cut)
    worker -> parent  {"event": "reconnected", ...}             (every charger back, or given up)
    parent -> worker  {"command": "finish"}
    worker -> parent  {"event": "done", ...gateway calls since the restart}
"""

import array
import asyncio
import base64
import collections
import contextlib
import dataclasses
import json
import os
import random
import resource
import sys
import threading
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.protocol import State
from websockets.typing import Subprotocol

CALL, CALLRESULT, CALLERROR = 2, 3, 4
# The actions a lean charger sends, numbered for the per-action latency arrays.
ACTIONS = ("Other", "BootNotification", "Heartbeat", "StatusNotification", "StartTransaction", "MeterValues")
ACTION_INDEX = {name: index for index, name in enumerate(ACTIONS)}
ENERGY = "Energy.Active.Import.Register"

# A charger fresh from the factory: the gateway's convergence changes the authorization keys and the
# heartbeat, as it does for a real charger on first contact.
FACTORY_CONFIGURATION = {
    "AuthorizeRemoteTxRequests": "true",
    "LocalAuthListEnabled": "true",
    "LocalAuthorizeOffline": "true",
    "LocalPreAuthorize": "false",
    "AllowOfflineTxForUnknownId": "false",
    "AuthorizationCacheEnabled": "true",
    "HeartbeatInterval": "300",
    "SendLocalListMaxLength": "250",
    "MeterValueSampleInterval": "60",
}
# How long a charger answered 503 keeps coming back after the Retry-After it was given, before giving up.
# Real chargers never give up; an overloaded gateway asks for 10-30 s (``admission``), and at 50,000
# chargers connecting takes about half an hour, so a count (50 was the limit) ran out in the queue.
BUSY_GIVE_UP_S = 3600.0
# Boot answers after which a charger boots again, after their interval (OCPP 1.6 §4.2): the gateway says
# Pending while its store cannot take the boot. The echo server's empty answer is neither.
BOOT_AGAIN = frozenset({"Pending", "Rejected"})
# Seconds before booting again when such an answer gives no interval (0).
BOOT_RETRY_S = 60.0
# How long a charger whose set-up was dropped, closed or answered an error, or one closed by the gateway
# while running (realistic), keeps trying to come back.
REJOIN_S = 600.0
# How often a worker reports a reconnect storm's progress.
STORM_REPORT_S = 60.0
# How often pending calls are checked for a missing reply; the timeout itself is ``call_timeout_s``.
SWEEP_INTERVAL_S = 1.0
# A saturation run starts once the gateway has sent no call (convergence) for this long.
QUIET_S = 1.0
QUIET_MAX_S = 120.0
# Calls with which the gateway changes a charger (as opposed to reading it, as a drift check does).
CHANGING_CALLS = frozenset({"ChangeConfiguration", "SendLocalList"})


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one worker process does; built by ``gateway_load`` and pickled to the worker."""

    url: str  # ws://host:port/ocpp, the charger id is appended
    mode: str  # "realistic", "saturation" or "reconnect-storm"
    chargers: list[tuple[str, str | None]]  # (charge point id, source address or None)
    password: str | None
    id_tag: str
    heartbeat_s: float
    meter_interval_s: float
    charging_fraction: float
    window: int
    mix: list[str]
    connect_concurrency: int
    call_timeout_s: float
    seed: int
    # Reconnect storm: a cut charger waits up to ``reconnect_jitter_s`` before its first attempt; after a
    # failed one (nobody listening, the handshake cut) ``reconnect_retry_s``, doubled after each failure
    # in a row up to ``reconnect_retry_max_s``, plus a random part as long again — OCPP 2.0.1's
    # RetryBackOffWaitMinimum, its doubling and RetryBackOffRandomRange (B04). At 50,000 chargers, a
    # fixed second between attempts while the gateways restarted cost the load generator a whole core;
    # with a random part of at most a second, the chargers cut together retried together, 1,700 in one
    # second to one replica 5 minutes later.
    reconnect_jitter_s: float = 1.0
    reconnect_retry_s: float = 1.0
    reconnect_retry_max_s: float = 1.0


def _retry_after_s(refused: InvalidStatus) -> float | None:
    """The seconds a 503 answer asks to wait before trying again; None for any other answer."""
    response = refused.response
    if response.status_code != 503:
        return None
    try:
        return float(response.headers.get("Retry-After", "1"))
    except ValueError:
        return 1.0


class CallErrorReplyError(Exception):
    """The other side answered a call with a CALLERROR."""


class ChargerGoneError(Exception):
    """The connection closed while a call waited for its reply."""


@dataclasses.dataclass
class Stats:
    """Counters of one worker. Calls are counted by the time their reply (or timeout) arrives, and only
    while ``measuring``; connect figures are counted from the start."""

    measuring: bool = False
    replies: int = 0
    call_errors: int = 0
    timeouts: int = 0
    latencies: array.array = dataclasses.field(default_factory=lambda: array.array("d"))  # type: ignore[type-arg]
    # Beside each latency: when its reply came (wall clock, to line workers up) and its action's index.
    replied_at: array.array = dataclasses.field(default_factory=lambda: array.array("d"))  # type: ignore[type-arg]
    actions: array.array = dataclasses.field(default_factory=lambda: array.array("B"))  # type: ignore[type-arg]
    by_action: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    gateway_calls: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    closed_during_window: int = 0
    total_replies: int = 0
    total_call_errors: int = 0
    total_timeouts: int = 0
    error_samples: list[str] = dataclasses.field(default_factory=list)
    last_gateway_call: float = 0.0
    # Reconnect storm: set when the worker is armed; chargers the gateway changed (not just read) since.
    storm_armed: bool = False
    changed_in_storm: set[str] = dataclasses.field(default_factory=set)

    def sample_error(self, text: str) -> None:
        """Keep the first few error texts, for the report."""
        if len(self.error_samples) < 5:
            self.error_samples.append(text)


class LeanCharger:
    """One OCPP 1.6 connection with just enough behaviour to be a charger the gateway accepts."""

    __slots__ = (
        "_next_id",
        "_pending",
        "config",
        "cp_id",
        "list_version",
        "meter_wh",
        "reading_at",
        "stats",
        "transaction_id",
        "ws",
    )

    def __init__(self, cp_id: str, stats: Stats) -> None:
        self.cp_id = cp_id
        self.stats = stats
        self.ws: ClientConnection | None = None
        self._pending: dict[str, tuple[asyncio.Future[Any], float, str]] = {}
        self._next_id = 0
        self.config: dict[str, str] | None = None  # only what the gateway changed; FACTORY_CONFIGURATION below
        self.list_version = 0
        self.transaction_id = 1
        self.meter_wh = 0
        self.reading_at = datetime.now(UTC)

    @property
    def open(self) -> bool:
        """Whether the websocket is open now."""
        return self.ws is not None and self.ws.state is State.OPEN

    async def connect(self, url: str, *, address: str | None, password: str | None, timeout_s: float) -> None:
        """Open the websocket as a charger does: subprotocol ocpp1.6, HTTP Basic with the charger id."""
        headers = {}
        if password is not None:
            token = base64.b64encode(f"{self.cp_id}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self.ws = await connect(
            f"{url}/{self.cp_id}",
            subprotocols=[Subprotocol("ocpp1.6")],
            additional_headers=headers,
            local_addr=(address, 0) if address else None,
            open_timeout=timeout_s,
            ping_interval=None,  # the gateway pings; websockets answers with a pong by itself
            close_timeout=5,
            compression=None,
            max_queue=4,
        )

    async def call(self, action: str, payload: str) -> Any:
        """Send a CALL with ``payload`` (JSON text) and return the reply's payload."""
        ws = self.ws
        if ws is None:
            raise ChargerGoneError(self.cp_id)
        self._next_id += 1
        unique_id = str(self._next_id)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = (future, time.perf_counter(), action)
        try:
            await ws.send(f'[2,"{unique_id}","{action}",{payload}]')
        except ConnectionClosed as error:
            self._pending.pop(unique_id, None)
            raise ChargerGoneError(self.cp_id) from error
        return await future

    async def read_loop(self) -> None:
        """Match replies to pending calls and answer the gateway's calls, until the connection ends."""
        assert self.ws is not None
        stats = self.stats
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                kind = message[0]
                if kind == CALL:
                    await self._answer(message[1], message[2], message[3])
                    continue
                entry = self._pending.pop(message[1], None)
                if entry is None:
                    continue  # a reply after its call timed out
                future, sent_at, action = entry
                stats.total_replies += 1
                if stats.measuring:
                    stats.latencies.append(time.perf_counter() - sent_at)
                    stats.replied_at.append(time.time())
                    stats.actions.append(ACTION_INDEX.get(action, 0))
                    stats.replies += 1
                    stats.by_action[action] += 1
                if kind == CALLRESULT:
                    future.set_result(message[2])
                else:
                    stats.total_call_errors += 1
                    if stats.measuring:
                        stats.call_errors += 1
                    stats.sample_error(f"{action}: CALLERROR {message[2]} {message[3]}")
                    future.set_exception(CallErrorReplyError(f"{message[2]}: {message[3]}"))
        except ConnectionClosed:
            pass
        finally:
            if stats.measuring:
                stats.closed_during_window += 1
            for future, _, _ in self._pending.values():
                if not future.done():
                    future.set_exception(ChargerGoneError(self.cp_id))
            self._pending.clear()

    def expire(self, older_than: float) -> None:
        """Fail the calls sent before ``older_than`` (perf_counter): their reply is overdue."""
        overdue = [uid for uid, (_, sent_at, _) in self._pending.items() if sent_at < older_than]
        for uid in overdue:
            future, _, action = self._pending.pop(uid)
            self.stats.total_timeouts += 1
            if self.stats.measuring:
                self.stats.timeouts += 1
            self.stats.sample_error(f"{action}: no reply (timeout)")
            if not future.done():
                future.set_exception(TimeoutError(f"{self.cp_id} {action}"))

    # Frames --------------------------------------------------------------------------------------

    def boot_notification(self) -> str:
        """A BootNotification payload."""
        return (
            '{"chargePointVendor":"chargeops-bench","chargePointModel":"lean",'
            f'"chargePointSerialNumber":"{self.cp_id[-20:]}","firmwareVersion":"1.0.0"}}'
        )

    @staticmethod
    def status_notification(status: str) -> str:
        """A StatusNotification payload for connector 1."""
        return f'{{"connectorId":1,"errorCode":"NoError","status":"{status}"}}'

    def start_transaction(self, id_tag: str) -> str:
        """A StartTransaction payload for connector 1, stamped now."""
        return (
            f'{{"connectorId":1,"idTag":"{id_tag}","meterStart":{self.meter_wh},'
            f'"timestamp":"{_render(datetime.now(UTC))}"}}'
        )

    def meter_values(self) -> str:
        """A MeterValues payload with the energy register; each reading a little later than the last, so
        the gateway stores every one (it skips a timestamp a session already has)."""
        self.meter_wh += 37
        self.reading_at += timedelta(milliseconds=1)
        return (
            f'{{"connectorId":1,"transactionId":{self.transaction_id},"meterValue":[{{'
            f'"timestamp":"{_render(self.reading_at)}","sampledValue":[{{"value":"{self.meter_wh}",'
            f'"measurand":"{ENERGY}","unit":"Wh","context":"Sample.Periodic"}}]}}]}}'
        )

    def frame(self, action: str) -> str:
        """The payload of ``action`` in a saturation mix."""
        if action == "MeterValues":
            return self.meter_values()
        if action == "StatusNotification":
            # A real charger reports a change, so every one is a change here too.
            self.meter_wh += 1
            return self.status_notification("Charging" if self.meter_wh % 2 else "SuspendedEV")
        return "{}"

    # The gateway's calls -------------------------------------------------------------------------

    async def _answer(self, unique_id: str, action: str, payload: dict[str, Any]) -> None:
        self.stats.gateway_calls[action] += 1
        self.stats.last_gateway_call = time.monotonic()
        if self.stats.storm_armed and action in CHANGING_CALLS:
            self.stats.changed_in_storm.add(self.cp_id)
        reply: dict[str, Any] | None
        if action == "GetConfiguration":
            reply = self._get_configuration(payload.get("key"))
        elif action == "ChangeConfiguration":
            if self.config is None:
                self.config = {}
            self.config[payload["key"]] = payload["value"]
            reply = {"status": "Accepted"}
        elif action == "GetLocalListVersion":
            reply = {"listVersion": self.list_version}
        elif action == "SendLocalList":
            self.list_version = int(payload["listVersion"])
            reply = {"status": "Accepted"}
        else:
            reply = None
        if reply is None:
            text = json.dumps([CALLERROR, unique_id, "NotSupported", f"{action} is not simulated", {}])
        else:
            text = json.dumps([CALLRESULT, unique_id, reply], separators=(",", ":"))
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(text)

    def _get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        config = {**FACTORY_CONFIGURATION, **(self.config or {})}
        wanted = keys if keys else list(config)
        known = [{"key": key, "readonly": False, "value": config[key]} for key in wanted if key in config]
        unknown = [key for key in wanted if key not in config]
        reply: dict[str, Any] = {"configurationKey": known}
        if unknown:
            reply["unknownKey"] = unknown
        return reply


def _render(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# One worker process --------------------------------------------------------------------------------


def raise_open_file_limit() -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (children inherit it); return both."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def run_worker(plan: Plan, pipe: Connection) -> None:
    """Entry point of a worker process."""
    raise_open_file_limit()
    _exit_with_parent()
    asyncio.run(_Worker(plan, pipe).run())


def _exit_with_parent() -> None:
    """End this process when ``gateway_load`` ends without telling it (killed, interrupted). A worker reads
    its pipe only once its chargers are up: after an aborted 50,000-charger run, six orphans went on
    connecting at a third of a core each."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class _Worker:
    def __init__(self, plan: Plan, pipe: Connection) -> None:
        self.plan = plan
        self.pipe = pipe
        self.stats = Stats()
        self.rng = random.Random(plan.seed)  # noqa: S311 - spreads load in time; nothing secret
        self.chargers: list[LeanCharger] = []  # every charger, for the timeout sweep and closing
        self.up: list[LeanCharger] = []  # the ones that connected and finished setting up
        self.tasks: set[asyncio.Task[Any]] = set()
        self.connect_failures: collections.Counter[str] = collections.Counter()
        self.busy_retries = 0  # connects answered 503 and tried again after Retry-After
        self.setup_retries = 0  # set-ups begun again after the gateway dropped, closed or failed one
        self.boot_pending = 0  # boots answered Pending (or Rejected) and sent again after their interval
        self.status_errors = 0  # set-up StatusNotifications answered a CALLERROR, passed over
        self.stop = asyncio.Event()
        self.addresses: dict[str, str | None] = {}
        self.statuses: dict[str, str] = {}  # the connector status each charger reported last
        self.rejoins = _Storm()  # realistic: chargers that came back after the gateway closed them
        self.rejoins_given_up = 0  # realistic: closed by the gateway and not back within REJOIN_S

    async def run(self) -> None:
        plan = self.plan
        sweeper = asyncio.create_task(self._sweep())
        started = time.perf_counter()
        gate = asyncio.Semaphore(plan.connect_concurrency)
        charging = set(self.rng.sample(range(len(plan.chargers)), round(len(plan.chargers) * plan.charging_fraction)))
        results = await asyncio.gather(
            *(
                self._bring_up(cp_id, address, gate, charging=index in charging)
                for index, (cp_id, address) in enumerate(plan.chargers)
            )
        )
        connect_s = time.perf_counter() - started
        if plan.mode in ("saturation", "reconnect-storm"):
            await self._wait_until_quiet()
        self.pipe.send(
            {
                "event": "ready",
                "connected": sum(1 for ok in results if ok),
                "attempted": len(plan.chargers),
                "connect_s": connect_s,
                "connect_failures": dict(self.connect_failures),
                "busy_retries": self.busy_retries,
                "setup_retries": self.setup_retries,
                "boot_pending": self.boot_pending,
                "setup_status_errors": self.status_errors,
                "setup_call_errors": self.stats.total_call_errors,
                "setup_timeouts": self.stats.total_timeouts,
            }
        )
        command = await asyncio.to_thread(self.pipe.recv)
        if command["command"] == "storm":
            await self._storm(float(command["deadline_s"]))
        else:
            await self._measure(float(command["duration_s"]))
        sweeper.cancel()
        await self._close_all()

    async def _bring_up(self, cp_id: str, address: str | None, gate: asyncio.Semaphore, *, charging: bool) -> bool:
        charger = LeanCharger(cp_id, self.stats)
        self.chargers.append(charger)
        self.addresses[cp_id] = address
        deadline = time.monotonic() + REJOIN_S
        while True:
            try:
                return await self._set_up(charger, address, gate, charging=charging)
            except (InvalidHandshake, ChargerGoneError, CallErrorReplyError) as error:
                # Dropped, closed or answered an error while setting up (an overloaded store): a charger
                # closes and comes back a little later, booting again, for as long as a closed one would.
                if time.monotonic() >= deadline:
                    self._connect_failed(type(error).__name__)
                    self.stats.sample_error(f"{cp_id} setup: {error!r}")
                    return False
                self.setup_retries += 1
                if charger.ws is not None:
                    await charger.ws.close()
                await asyncio.sleep(self.plan.reconnect_retry_s + self.rng.uniform(0, self.plan.reconnect_jitter_s))

    async def _set_up(
        self, charger: LeanCharger, address: str | None, gate: asyncio.Semaphore, *, charging: bool
    ) -> bool:
        """Connect, boot, report status and (``charging``) start a transaction; False if refused for good."""
        plan, cp_id = self.plan, charger.cp_id
        resumed = self.statuses.get(cp_id) == "Charging"  # a set-up begun again keeps its transaction
        try:
            boot = await self._connect_and_boot(charger, address, gate)
            await self._boot_until_accepted(charger, boot)
            if resumed:
                await self._report_status(charger, "Charging")
            else:
                await self._report_status(charger, "Available")
                self.statuses[cp_id] = "Available"
            if charging and not resumed:
                await self._report_status(charger, "Preparing")
                reply = await charger.call("StartTransaction", charger.start_transaction(plan.id_tag))
                charger.transaction_id = int(reply.get("transactionId", 1))
                await self._report_status(charger, "Charging")
                self.statuses[cp_id] = "Charging"
        except InvalidStatus as error:
            self._connect_failed(f"HTTP {error.response.status_code}")
            return False
        except (OSError, TimeoutError, ConnectionClosed) as error:
            self._connect_failed(type(error).__name__ + (f" {error.errno}" if isinstance(error, OSError) else ""))
            self.stats.sample_error(f"{cp_id} setup: {error!r}")
            return False
        self.up.append(charger)
        if plan.mode == "realistic":
            self._spawn(self._realistic(charger, charging=charging))
        return True

    async def _connect_and_boot(self, charger: LeanCharger, address: str | None, gate: asyncio.Semaphore) -> Any:
        """Connect, coming back after Retry-After while answered 503, and boot once; the boot's answer."""
        plan = self.plan
        give_up = time.monotonic() + BUSY_GIVE_UP_S
        while True:
            async with gate:
                try:
                    await charger.connect(
                        plan.url, address=address, password=plan.password, timeout_s=max(60.0, plan.call_timeout_s)
                    )
                except InvalidStatus as error:
                    retry_after_s = _retry_after_s(error)
                    if retry_after_s is None or time.monotonic() + retry_after_s > give_up:
                        raise
                else:
                    self._spawn(charger.read_loop())
                    return await charger.call("BootNotification", charger.boot_notification())
            # The gateway is busy and said when to come back (503, Retry-After): a charger does.
            self.busy_retries += 1
            await asyncio.sleep(retry_after_s)

    async def _boot_until_accepted(self, charger: LeanCharger, boot: Any) -> None:
        """Boot again after the answer's interval while answered Pending or Rejected, as a charger does; it
        sends nothing else meanwhile. Outside the connect gate: the wait is the gateway's, not the client's."""
        while boot.get("status") in BOOT_AGAIN:
            self.boot_pending += 1
            await asyncio.sleep(float(boot.get("interval") or BOOT_RETRY_S))
            boot = await charger.call("BootNotification", charger.boot_notification())

    async def _report_status(self, charger: LeanCharger, status: str) -> None:
        """A set-up StatusNotification. One answered a CALLERROR (the store unavailable) is passed over, as a
        charger does: beginning the set-up again would only load the gateway with another boot."""
        try:
            await charger.call("StatusNotification", charger.status_notification(status))
        except CallErrorReplyError:
            self.status_errors += 1

    def _connect_failed(self, kind: str) -> None:
        self.connect_failures[kind] += 1

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _realistic(self, charger: LeanCharger, *, charging: bool) -> None:
        """Heartbeat every ``heartbeat_s``; MeterValues every ``meter_interval_s`` while charging. The first
        of each comes at a random point of its interval, so the fleet's load is even."""
        plan = self.plan
        now = time.monotonic()
        next_heartbeat = now + self.rng.uniform(0, plan.heartbeat_s)
        next_meter = now + self.rng.uniform(0, plan.meter_interval_s) if charging else float("inf")
        while not self.stop.is_set():
            due = min(next_heartbeat, next_meter)
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            try:
                if next_heartbeat <= next_meter:
                    next_heartbeat += plan.heartbeat_s
                    await charger.call("Heartbeat", "{}")
                else:
                    next_meter += plan.meter_interval_s
                    await charger.call("MeterValues", charger.meter_values())
            except (CallErrorReplyError, TimeoutError):
                continue
            except ChargerGoneError:
                # Closed by the gateway (1013 for a transaction message it could not store): a charger
                # reconnects, and sends again what was not answered.
                if self.stop.is_set():
                    return
                if not await self._return(charger, time.monotonic() + REJOIN_S, self.rejoins):
                    self.rejoins_given_up += 1
                    return

    async def _lane(self, charger: LeanCharger, offset: int) -> None:
        """One of ``window`` back-to-back call loops on a saturation connection."""
        mix = self.plan.mix
        index = offset
        while not self.stop.is_set():
            action = mix[index % len(mix)]
            index += 1
            try:
                await charger.call(action, charger.frame(action))
            except (CallErrorReplyError, TimeoutError):
                continue
            except ChargerGoneError:
                return

    async def _wait_until_quiet(self) -> None:
        """Wait for the gateway's convergence calls to end, so a saturation window measures only load."""
        deadline = time.monotonic() + QUIET_MAX_S
        while time.monotonic() < deadline:
            if time.monotonic() - self.stats.last_gateway_call >= QUIET_S:
                return
            await asyncio.sleep(0.1)

    async def _measure(self, duration_s: float) -> None:
        stats = self.stats
        cpu_before = time.process_time()
        started = time.perf_counter()
        stats.measuring = True
        if self.plan.mode == "saturation":
            for charger in self.up:
                for lane in range(self.plan.window):
                    self._spawn(self._lane(charger, offset=lane * 7 + self.rng.randrange(1000)))
        await asyncio.sleep(duration_s)
        stats.measuring = False
        window_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_before
        held = sum(1 for charger in self.up if charger.open)
        self.stop.set()
        self.pipe.send(
            {
                "event": "done",
                "window_s": window_s,
                "held": held,
                "replies": stats.replies,
                "call_errors": stats.call_errors,
                "timeouts": stats.timeouts,
                "closed_during_window": stats.closed_during_window,
                "by_action": dict(stats.by_action),
                "gateway_calls": dict(stats.gateway_calls),
                "latencies": stats.latencies.tobytes(),
                "replied_at": stats.replied_at.tobytes(),
                "actions": stats.actions.tobytes(),
                "client_cpu_s": cpu_s,
                "error_samples": stats.error_samples,
                "rejoined": len(self.rejoins.reconnected_at),
                # Why a charger that connected is not held at the end: given up, or still on its way back.
                "rejoins_given_up": self.rejoins_given_up,
                "rejoining": sum(1 for charger in self.up if not charger.open) - self.rejoins_given_up,
                "rejoin_failures": dict(self.rejoins.failures),
            }
        )

    async def _storm(self, deadline_s: float) -> None:
        """Arm every charger to reconnect when its connection is cut, report when all are back (or
        given up at ``deadline_s``), and then, when told to finish, what the gateway sent since."""
        stats = self.stats
        calls_before = collections.Counter(stats.gateway_calls)
        stats.storm_armed = True
        deadline = time.monotonic() + deadline_s
        storm = _Storm()
        returns = [asyncio.create_task(self._come_back(charger, deadline, storm)) for charger in self.up]
        self.pipe.send({"event": "armed"})
        cpu_before = time.process_time()
        reporting = asyncio.create_task(self._report_storm(storm))
        await asyncio.gather(*returns)
        reporting.cancel()
        reconnected_at = array.array("d", (at for at in storm.reconnected_at.values()))
        self.pipe.send(
            {
                "event": "reconnected",
                "cut": len(storm.cut_at),
                "first_cut_at": min(storm.cut_at.values(), default=None),
                "reconnected": len(reconnected_at),
                "reconnected_at": reconnected_at.tobytes(),
                "attempts": storm.attempts,
                "busy_retries": storm.busy_retries,
                "failures": dict(storm.failures),
                "status_errors": storm.status_errors,
                "client_cpu_s": time.process_time() - cpu_before,
                "error_samples": stats.error_samples,
            }
        )
        await asyncio.to_thread(self.pipe.recv)  # finish: the parent has read the gateway's observed state
        self.pipe.send(
            {
                "event": "done",
                "held": sum(1 for charger in self.up if charger.open),
                "gateway_calls": dict(collections.Counter(stats.gateway_calls) - calls_before),
                "changed": len(stats.changed_in_storm),
                "dropped_after_return": storm.dropped_after_return,
            }
        )

    async def _report_storm(self, storm: "_Storm") -> None:
        """Every ``STORM_REPORT_S`` once the cutting began, what this worker's chargers have done so far, on
        stderr: a long storm is otherwise silent until its end."""
        while True:
            await asyncio.sleep(STORM_REPORT_S)
            if storm.cut_at:
                print(
                    f"[{time.strftime('%H:%M:%S')}] worker {os.getpid()}: {len(storm.reconnected_at)}/"
                    f"{len(storm.cut_at)} back, {storm.attempts} attempts, {storm.busy_retries} answered 503, "
                    f"failures {dict(storm.failures)}, {storm.dropped_after_return} dropped once back, "
                    f"CPU {time.process_time():.0f} s",
                    file=sys.stderr,
                    flush=True,
                )

    async def _come_back(self, charger: LeanCharger, deadline: float, storm: "_Storm") -> None:
        """Wait for the gateway to cut ``charger``, then ``_return`` before ``deadline``; once back, stay."""
        assert charger.ws is not None
        await charger.ws.wait_closed()
        storm.cut_at[charger.cp_id] = time.time()
        if await self._return(charger, deadline, storm):
            self._spawn(self._stay(charger, deadline, storm))

    async def _stay(self, charger: LeanCharger, deadline: float, storm: "_Storm") -> None:
        """Come back whenever the connection drops again, as a real charger does. (At 50,000 chargers on
        these two cores, 1,725 connections of two workers ended abnormally (1006) within seconds of each
        other minutes after their return, and those chargers stayed away: the storm never settled.)"""
        while charger.ws is not None:
            await charger.ws.wait_closed()
            storm.dropped_after_return += 1
            if not await self._return(charger, deadline, storm):
                return

    async def _return(self, charger: LeanCharger, deadline: float, storm: "_Storm") -> bool:
        """Reconnect ``charger`` as a charger does: after a random jitter, again every
        ``reconnect_retry_s`` (plus jitter) while refused, after Retry-After when answered 503; once open,
        report the connector's status again (a repeat the gateway need not store). Whether it is back;
        gives up at ``deadline`` (monotonic) or on an answer other than 503."""
        plan = self.plan
        await asyncio.sleep(self.rng.uniform(0, plan.reconnect_jitter_s))
        retry_s = plan.reconnect_retry_s
        while time.monotonic() < deadline:
            storm.attempts += 1
            try:
                await charger.connect(
                    plan.url,
                    address=self.addresses[charger.cp_id],
                    password=plan.password,
                    timeout_s=max(60.0, plan.call_timeout_s),
                )
            except InvalidStatus as error:
                retry_after_s = _retry_after_s(error)
                if retry_after_s is None:
                    storm.failures[f"HTTP {error.response.status_code}"] += 1
                    return False
                storm.busy_retries += 1
                await asyncio.sleep(retry_after_s)
                continue
            except (OSError, TimeoutError, InvalidHandshake) as error:
                # The gateway is not listening yet (refused), or cut the handshake: try again, later each time.
                storm.failures[type(error).__name__] += 1
                await asyncio.sleep(retry_s + self.rng.uniform(0, max(retry_s, plan.reconnect_jitter_s)))
                retry_s = min(2 * retry_s, plan.reconnect_retry_max_s)
                continue
            self._spawn(charger.read_loop())
            status = self.statuses.get(charger.cp_id, "Available")
            try:
                await charger.call("StatusNotification", charger.status_notification(status))
            except ChargerGoneError:
                storm.failures["ClosedAfterOpen"] += 1
                await asyncio.sleep(plan.reconnect_retry_s + self.rng.uniform(0, plan.reconnect_jitter_s))
                continue
            except (CallErrorReplyError, TimeoutError) as error:
                storm.status_errors += 1
                self.stats.sample_error(f"{charger.cp_id} status after reconnect: {error!r}")
            storm.reconnected_at[charger.cp_id] = time.time()
            return True
        return False

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            older_than = time.perf_counter() - self.plan.call_timeout_s
            for charger in self.chargers:
                charger.expire(older_than)

    async def _close_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

        async def close(charger: LeanCharger) -> None:
            if charger.ws is not None:
                with contextlib.suppress(Exception):
                    await charger.ws.close()

        gate = asyncio.Semaphore(500)

        async def gated(charger: LeanCharger) -> None:
            async with gate:
                await close(charger)

        await asyncio.gather(*(gated(charger) for charger in self.chargers))


@dataclasses.dataclass
class _Storm:
    """What one worker's chargers did in a reconnect storm; times are wall clock, to line workers up."""

    cut_at: dict[str, float] = dataclasses.field(default_factory=dict)
    reconnected_at: dict[str, float] = dataclasses.field(default_factory=dict)
    attempts: int = 0
    busy_retries: int = 0
    failures: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    status_errors: int = 0
    dropped_after_return: int = 0
