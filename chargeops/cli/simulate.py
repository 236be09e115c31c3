"""``chargeops simulate``: run simulated chargers against a gateway, print progress and a summary.

For demos, by hand, and for load: ``--chargers 1000 --clock-speed 3600`` runs a thousand chargers through
an hour of simulated charging per second. The work is all in ``chargeops.simulator.fleet``; this module
parses, builds a ``FleetConfig``, runs it until ``--duration`` ends or Ctrl-C / SIGTERM, and prints.
Exits 1 if no charger ever connected, so a script notices a wrong URL or password.
"""

import asyncio
import logging
import signal
import ssl
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click

from chargeops.api.v1alpha1.charger import OcppVersion
from chargeops.simulator import errors, fleet, station
from chargeops.simulator.clock import ScaledClock
from chargeops.simulator.schedule import Habits
from chargeops.simulator.station_config import StationConfig
from chargeops.simulator.stats import StationStats

PASSWORD_ENV = "CHARGEOPS_SIMULATOR_PASSWORD"  # noqa: S105  # the name of a variable, not a secret


@click.command()
@click.option("--gateway", "gateway_url", required=True, help="Base URL; each charger appends /{id}.")
@click.option("--chargers", default=1, show_default=True, type=click.IntRange(min=1), help="How many chargers.")
@click.option("--id-prefix", default="SIM-", show_default=True, help="Charger ids are PREFIX0001, PREFIX0002, …")
@click.option("--password", envvar=PASSWORD_ENV, help=f"Basic-auth password of every charger (or ${PASSWORD_ENV}).")
@click.option(
    "--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="File holding the password."
)
@click.option(
    "--ocpp-version",
    type=click.Choice([v.value for v in OcppVersion]),
    default=OcppVersion.V16.value,
    show_default=True,
    help="Subprotocol ocpp1.6 or ocpp2.0.1.",
)
@click.option("--connectors", default=1, show_default=True, type=click.IntRange(min=1), help="Connectors per charger.")
@click.option("--sessions-per-day", default=2.0, show_default=True, help="Mean sessions per connector per day.")
@click.option("--offline-per-day", default=0.0, show_default=True, help="Mean connection losses per charger per day.")
@click.option(
    "--id-tag", "id_tags", multiple=True, help="An id tag drivers present (repeatable). Default SIM-TAG-1..3."
)
@click.option("--clock-speed", default=1.0, show_default=True, help="Simulated seconds per real second.")
@click.option("--start", "start_at", help="Simulated start time, ISO 8601 (default: now), e.g. 2025-03-01T00:00:00Z.")
@click.option("--duration", default=60.0, show_default=True, help="Real seconds to run; 0 runs until interrupted.")
@click.option("--connect-rate", default=500.0, show_default=True, help="Chargers connected per real second.")
@click.option("--seed", type=int, help="Seed for every random choice: the same seed makes the same sessions.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CA for wss://.")
@click.option("--progress-interval", default=5.0, show_default=True, help="Real seconds between progress lines.")
@click.option("--log-level", default="WARNING", show_default=True)
@click.option("--wire-log", is_flag=True, help="Log every OCPP frame (id tags included).")
def simulate(  # noqa: PLR0917  # click passes one argument per option
    gateway_url: str,
    chargers: int,
    id_prefix: str,
    password: str | None,
    password_file: Path | None,
    ocpp_version: str,
    connectors: int,
    sessions_per_day: float,
    offline_per_day: float,
    id_tags: tuple[str, ...],
    clock_speed: float,
    start_at: str | None,
    duration: float,
    connect_rate: float,
    seed: int | None,
    ca_file: Path | None,
    progress_interval: float,
    log_level: str,
    wire_log: bool,
) -> None:
    """Run simulated OCPP chargers against a gateway: boots, heartbeats, sessions, offline periods."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger(station.WIRE_LOGGER.name).setLevel(logging.INFO if wire_log else logging.WARNING)
    if password_file is not None:
        password = password_file.read_text().strip()
    try:
        template = StationConfig(
            charge_point_id="template",
            gateway_url=gateway_url,
            password=password,
            ocpp_version=OcppVersion(ocpp_version),
            connectors=connectors,
            ssl_context=ssl.create_default_context(cafile=str(ca_file)) if ca_file else None,
        )
        clock = ScaledClock(clock_speed, start=_utc(start_at) if start_at else None)
    except (errors.SimulatorError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc
    habits = Habits(sessions_per_day=sessions_per_day, offline_per_day=offline_per_day)
    habits = replace(habits, id_tags=id_tags) if id_tags else habits
    config = fleet.FleetConfig(
        template=template, chargers=chargers, id_prefix=id_prefix, habits=habits, connect_rate=connect_rate, seed=seed
    )
    click.echo(
        f"Simulating {chargers} OCPP {ocpp_version} charger(s) against {gateway_url} at {clock_speed:g}x "
        f"from {clock.now():%Y-%m-%d %H:%M} UTC; {'Ctrl-C to stop' if not duration else f'{duration:g} s'}."
    )
    stats, online = asyncio.run(_run(fleet.Fleet(config, clock=clock), duration, progress_interval))
    _summary(stats, chargers=chargers, online=online, simulated_until=clock.now())
    if stats.connects == 0:
        raise click.ClickException("No charger ever connected; check --gateway and the password.")


async def _run(simulation: fleet.Fleet, duration: float, progress_interval: float) -> tuple[StationStats, int]:
    began = time.monotonic()

    def progress(stats: StationStats, online: int) -> None:
        click.echo(
            f"{time.monotonic() - began:6.0f}s  online {online}/{len(simulation.stations)}  "
            f"sessions {stats.sessions_started} started {stats.sessions_stopped} stopped  "
            f"frames {stats.frames_sent} sent  queued {simulation.queued()}  errors {stats.errors}"
        )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    running = asyncio.create_task(
        simulation.run(duration_s=duration or None, progress=progress, progress_interval_s=progress_interval)
    )
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not running.done():
        running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    return simulation.stats(), simulation.online_at_end


def _utc(text: str) -> datetime:
    """An ISO 8601 time; one without an offset is taken as UTC, as OCPP timestamps are."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _summary(stats: StationStats, *, chargers: int, online: int, simulated_until: datetime) -> None:
    click.echo(f"Summary (simulated time reached {simulated_until.astimezone(UTC):%Y-%m-%d %H:%M} UTC):")
    click.echo(
        f"  chargers online at the end  {online}/{chargers}  (connections {stats.connects}, boots {stats.boots})"
    )
    click.echo(f"  sessions                    {stats.sessions_started} started, {stats.sessions_stopped} stopped")
    click.echo(f"  energy in stopped sessions  {stats.energy_wh / 1000:.3f} kWh")
    click.echo(f"  messages                    {stats.frames_sent} frames sent, {stats.frames_received} received")
    click.echo(
        f"  made offline                {stats.offline_messages}, refused id tags {stats.authorizations_rejected}"
    )
    click.echo(
        f"  errors                      {stats.errors} (connect {stats.connect_failures}, 401 {stats.auth_failures}, "
        f"CALLERROR {stats.call_errors}, timeouts {stats.call_timeouts}, dropped {stats.messages_dropped})"
    )
