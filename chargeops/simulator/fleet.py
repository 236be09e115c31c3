"""Many simulated chargers at once: ``chargeops simulate`` and the gateway's load benchmark run a ``Fleet``.

A fleet makes ``chargers`` stations named ``{id_prefix}{n}``, connects them at ``connect_rate`` per second (so a
restart does not arrive as one burst of handshakes), drives each by its ``Habits`` on one shared simulated
clock, and adds up their ``StationStats``.

On loopback one source address has about 28,000 ephemeral ports (Linux's default range), so past
``chargers_per_address`` stations the fleet connects from 127.0.0.2, 127.0.0.3, … — every 127.0.0.0/8 address
is local on Linux — and it raises its open-file limit to the hard limit, since each charger is a socket.
"""

import asyncio
import ipaddress
import logging
import random
import resource
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from chargeops.simulator import schedule
from chargeops.simulator.clock import Clock
from chargeops.simulator.schedule import Habits
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from chargeops.simulator.stats import StationStats

_logger = logging.getLogger(__name__)

# Below the ~28,000 ports of the default ephemeral range, leaving room for the machine's other sockets.
CHARGERS_PER_ADDRESS = 20_000


@dataclass(frozen=True)
class FleetConfig:
    """A fleet: how many chargers, what each one is (``template``), and how they are used."""

    template: StationConfig
    """Every station's configuration; ``charge_point_id`` and ``source_address`` are set per station."""

    chargers: int
    """How many stations."""

    id_prefix: str = "SIM-"
    """Station ids are this prefix and a zero-padded number from 1: ``SIM-0001``."""

    habits: Habits = field(default_factory=Habits)
    """How every station is used."""

    connect_rate: float = 500.0
    """Stations started per real second."""

    chargers_per_address: int = CHARGERS_PER_ADDRESS
    """Stations per loopback source address before the next one is used."""

    seed: int | None = None
    """Seed of every random choice; the same seed makes the same sessions."""


def charge_point_ids(count: int, *, prefix: str) -> list[str]:
    """``count`` ids ``{prefix}0001``…, padded to at least four digits so they sort."""
    width = max(4, len(str(count)))
    return [f"{prefix}{n:0{width}d}" for n in range(1, count + 1)]


def source_address(index: int, *, gateway_url: str, per_address: int = CHARGERS_PER_ADDRESS) -> str | None:
    """Where the ``index``-th station connects from: None (the kernel's choice) unless the gateway is on
    loopback and the fleet outgrows one address's ports."""
    host = urlsplit(gateway_url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback or index < per_address or ":" in host:
        return None
    return f"127.0.0.{1 + index // per_address}"


def raise_open_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Fleet:
    """Stations made from a ``FleetConfig``; ``run()`` them for a while, read ``stats()`` any time."""

    def __init__(self, config: FleetConfig, *, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._rng = random.Random(config.seed)  # noqa: S311  # simulation, not secrets
        url = config.template.gateway_url
        per_address = config.chargers_per_address
        self.stations = [
            Station(
                replace(
                    config.template,
                    charge_point_id=charge_point_id,
                    source_address=source_address(index, gateway_url=url, per_address=per_address),
                ),
                clock=clock,
                rng=random.Random(self._rng.random()),  # noqa: S311
            )
            for index, charge_point_id in enumerate(charge_point_ids(config.chargers, prefix=config.id_prefix))
        ]
        self.online_at_end = 0
        """How many stations were online when ``run()`` ended, just before it closed them."""

    async def run(
        self,
        *,
        duration_s: float | None,
        progress: Callable[[StationStats, int], None] | None = None,
        progress_interval_s: float = 5.0,
    ) -> StationStats:
        """Connect and drive every station for ``duration_s`` real seconds (None: until cancelled);
        ``progress(stats, online)`` is called every ``progress_interval_s``."""
        if self.config.chargers > 1000:
            raise_open_file_limit()
        runs: list[asyncio.Task[None]] = []
        drives: list[asyncio.Task[None]] = []
        reporter = asyncio.create_task(self._report(progress, progress_interval_s)) if progress else None
        try:
            async with asyncio.timeout(duration_s):
                pause = 1 / self.config.connect_rate if self.config.connect_rate > 0 else 0
                for station in self.stations:
                    runs.append(asyncio.create_task(station.run()))
                    drives.append(asyncio.create_task(self._drive(station)))
                    await asyncio.sleep(pause)
                # ``wait``, not ``gather``: when the time is up, the stations are stopped in order below.
                await asyncio.wait([*runs, *drives])
        except TimeoutError:
            pass
        finally:
            if reporter is not None:
                reporter.cancel()
            # Drivers first, so no session starts while the connections close; then the stations.
            for task in drives:
                task.cancel()
            await asyncio.gather(*drives, return_exceptions=True)
            self.online_at_end = self.online()
            await asyncio.gather(*(station.close() for station in self.stations), return_exceptions=True)
            for task in runs:
                task.cancel()
            for outcome in await asyncio.gather(*runs, *drives, return_exceptions=True):
                if isinstance(outcome, Exception):
                    _logger.error("A simulated charger failed: %r", outcome, exc_info=outcome)
        return self.stats()

    def stats(self) -> StationStats:
        """The stations' counters, summed."""
        total = StationStats()
        for station in self.stations:
            total.add(station.stats)
        return total

    def online(self) -> int:
        """How many stations are connected and booted now."""
        return sum(station.online for station in self.stations)

    def queued(self) -> int:
        """Transaction messages waiting for delivery, fleet-wide."""
        return sum(len(station.outbox) for station in self.stations)

    async def _drive(self, station: Station) -> None:
        await station.wait_online(timeout_s=None)
        await schedule.drive(station, habits=self.config.habits, rng=random.Random(self._rng.random()))  # noqa: S311

    async def _report(self, progress: Callable[[StationStats, int], None], interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            progress(self.stats(), self.online())
