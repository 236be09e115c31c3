"""Simulated chargers for ``bench/operator_convergence.py``, in their own process: a ``Fleet`` that reports
what arrives at its stations.

The chargers are full simulated stations (``chargeops.simulator``, the same as ``chargeops simulate``), so a
change counts as arrived only when the charger itself holds it: the value in its configuration store, the id
tag in its local authorization list. ``operator_convergence`` starts one process per few thousand chargers
(multiprocessing, spawn) and talks to each over two pipes:

    parent -> worker  {"command": "start"}                        connect the fleet now
    parent -> worker  {"command": "watch", "change": N, ...}      report when change N reaches these chargers
    worker -> parent  {"event": "watching", "change": N}          the watch is in place: make the change
    worker -> parent  {"event": "arrived", "change": N, "at": {charge point id: time}}
    worker -> parent  {"event": "progress", "online": …, "configured": …, …}   every second
    parent -> worker  {"command": "stop"}
    worker -> parent  {"event": "stopped", "stats": {…}}

Times are wall-clock seconds (``time.time()``), so the parent can set them against its own.
"""

import asyncio
import contextlib
import dataclasses
import multiprocessing
import threading
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

from chargeops.simulator import fleet
from chargeops.simulator.clock import SystemClock
from chargeops.simulator.schedule import Habits
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig

# How often watched chargers are looked at: fine enough for latencies of tens of milliseconds, and only
# the chargers of the one change under way are looked at.
WATCH_POLL_S = 0.005
PROGRESS_INTERVAL_S = 1.0


@dataclasses.dataclass(frozen=True)
class Plan:
    """One worker's chargers; built by ``operator_convergence`` and pickled to the worker."""

    gateway_url: str  # ws://host:port/ocpp; each station appends its id
    id_prefix: str
    count: int
    password: str
    expected_tags: Mapping[str, frozenset[str]]  # the id tags each charger's local list should end up with
    connect_rate: float
    reconnect_max_s: float
    seed: int

    def charge_point_ids(self) -> list[str]:
        """The ids the worker's fleet uses, in order: ``{prefix}0001``…"""
        return fleet.charge_point_ids(self.count, prefix=self.id_prefix)


@dataclasses.dataclass
class Watch:
    """One change the parent is waiting for."""

    change: int
    kind: str  # "configuration" or "id-tag"
    pending: set[str]
    key: str | None = None
    value: str | None = None
    tag: str | None = None
    arrived: dict[str, float] = dataclasses.field(default_factory=dict)

    def holds(self, station: Station) -> bool:
        """Whether the change has reached ``station``."""
        if self.kind == "configuration":
            assert self.key is not None
            return bool(station.state.settings.value(self.key) == self.value)  # type: ignore[attr-defined]
        return station.state.local_list.lookup(self.tag or "") is not None


def run_worker(plan: Plan, commands: Connection, events: Connection) -> None:
    """Entry point of a worker process."""
    fleet.raise_open_file_limit()
    asyncio.run(_Worker(plan, commands, events).run())


class _Worker:
    def __init__(self, plan: Plan, commands: Connection, events: Connection) -> None:
        self.plan = plan
        self.commands = commands
        self.events = events
        template = StationConfig(
            charge_point_id="template",
            gateway_url=plan.gateway_url,
            password=plan.password,
            reconnect_max_s=plan.reconnect_max_s,
        )
        config = fleet.FleetConfig(
            template=template,
            chargers=plan.count,
            id_prefix=plan.id_prefix,
            habits=Habits(sessions_per_day=0),  # no charging: only configuration and local lists are measured
            connect_rate=plan.connect_rate,
            seed=plan.seed,
        )
        self.fleet = fleet.Fleet(config, clock=SystemClock())
        self.stations = {station.config.charge_point_id: station for station in self.fleet.stations}
        self.watches: dict[int, Watch] = {}
        self.configured_at: dict[str, float] = {}
        self.started_at: float | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        # A blocking reader in a thread: the pipe has no asyncio interface.
        threading.Thread(target=self._read, args=(loop, inbox), daemon=True).start()
        running: asyncio.Task[Any] | None = None
        helpers = [asyncio.create_task(self._poll_watches()), asyncio.create_task(self._report())]
        while True:
            command = await inbox.get()
            name = command["command"]
            if name == "start" and running is None:
                self.started_at = time.time()
                running = asyncio.create_task(self.fleet.run(duration_s=None))
            elif name == "watch":
                self._watch(command)
            elif name == "stop":
                break
        for task in helpers:
            task.cancel()
        online = self.fleet.online()
        if running is not None:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        stats = dataclasses.asdict(self.fleet.stats())
        self.events.send({"event": "stopped", "stats": stats, "online_at_stop": online})

    def _read(self, loop: asyncio.AbstractEventLoop, inbox: "asyncio.Queue[dict[str, Any]]") -> None:
        while True:
            try:
                command = self.commands.recv()
            except EOFError:
                command = {"command": "stop"}
            loop.call_soon_threadsafe(inbox.put_nowait, command)
            if command["command"] == "stop":
                return

    def _watch(self, command: dict[str, Any]) -> None:
        watch = Watch(
            change=command["change"],
            kind=command["kind"],
            pending=set(command["chargers"]),
            key=command.get("key"),
            value=command.get("value"),
            tag=command.get("tag"),
        )
        self.watches[watch.change] = watch
        self.events.send({"event": "watching", "change": watch.change})

    async def _poll_watches(self) -> None:
        while True:
            await asyncio.sleep(WATCH_POLL_S)
            for change, watch in list(self.watches.items()):
                for cp_id in list(watch.pending):
                    if watch.holds(self.stations[cp_id]):
                        watch.arrived[cp_id] = time.time()
                        watch.pending.discard(cp_id)
                if not watch.pending:
                    del self.watches[change]
                    self.events.send({"event": "arrived", "change": change, "at": watch.arrived})

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL_S)
            now = time.time()
            for cp_id, station in self.stations.items():
                if cp_id not in self.configured_at and self._configured(station):
                    self.configured_at[cp_id] = now
            stats = self.fleet.stats()
            self.events.send(
                {
                    "event": "progress",
                    "at": now,
                    "online": self.fleet.online(),
                    "configured": len(self.configured_at),
                    "last_configured_at": max(self.configured_at.values(), default=None),
                    "connects": stats.connects,
                    "connect_failures": stats.connect_failures,
                    "auth_failures": stats.auth_failures,
                    "boots": stats.boots,
                }
            )

    def _configured(self, station: Station) -> bool:
        """Pay-per-month as the operator asked: authorization before charging, no cache, the subscribers'
        tags (and only those) in the local list."""
        settings = station.state.settings
        if not settings.local_pre_authorize or settings.cache_enabled:
            return False
        expected = self.plan.expected_tags.get(station.config.charge_point_id, frozenset())
        return set(station.state.local_list.entries) == expected


# The parent's side ------------------------------------------------------------------------------


class Fleets:
    """The ``charger_fleet`` worker processes and what they report."""

    def __init__(self, plans: list[Plan]) -> None:
        context = multiprocessing.get_context("spawn")
        self.processes: list[Any] = []
        self.commands: list[Any] = []
        self.events: list[Any] = []
        self.progress: list[dict[str, Any]] = [{} for _ in plans]
        self.waiting: dict[tuple[str, int, int], asyncio.Future[dict[str, Any]]] = {}
        self.stopped: list[dict[str, Any]] = []
        for plan in plans:
            command_read, command_write = context.Pipe(duplex=False)
            event_read, event_write = context.Pipe(duplex=False)
            process = context.Process(target=run_worker, args=(plan, command_read, event_write), daemon=True)
            process.start()
            self.processes.append(process)
            self.commands.append(command_write)
            self.events.append(event_read)
        loop = asyncio.get_running_loop()
        for index, pipe in enumerate(self.events):
            loop.add_reader(pipe.fileno(), self._receive, index)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def _receive(self, index: int) -> None:
        pipe = self.events[index]
        while pipe.poll():
            try:
                message = pipe.recv()
            except EOFError:
                asyncio.get_running_loop().remove_reader(pipe.fileno())
                return
            event = message["event"]
            if event == "progress":
                self.progress[index] = message
            elif event == "stopped":
                self.stopped.append(message)
            else:
                future = self.waiting.pop((event, index, message["change"]), None)
                if future is not None and not future.done():
                    future.set_result(message)

    def start(self) -> None:
        for pipe in self.commands:
            pipe.send({"command": "start"})

    def total(self, field: str) -> int:
        return sum(int(item.get(field, 0)) for item in self.progress)

    def last_configured_at(self) -> float | None:
        times = [item.get("last_configured_at") for item in self.progress]
        return None if any(t is None for t in times) else max(t for t in times if t is not None)

    async def watch(self, change: int, by_worker: Mapping[int, list[str]], **what: Any) -> list[asyncio.Future[Any]]:
        """Ask the workers to watch for ``change``; return once they watch, with futures for the arrivals."""
        loop = asyncio.get_running_loop()
        arrivals, ready = [], []
        for worker, chargers in by_worker.items():
            ready.append(self.waiting.setdefault(("watching", worker, change), loop.create_future()))
            arrivals.append(self.waiting.setdefault(("arrived", worker, change), loop.create_future()))
            self.commands[worker].send({"command": "watch", "change": change, "chargers": chargers, **what})
        await asyncio.wait_for(asyncio.gather(*ready), 30)
        return arrivals

    async def stop(self) -> None:
        for pipe in self.commands:
            with contextlib.suppress(OSError):
                pipe.send({"command": "stop"})
        deadline = time.monotonic() + 60
        while len(self.stopped) < len(self.processes) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        for pipe in self.events:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(pipe.fileno())
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()
