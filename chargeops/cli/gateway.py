"""``chargeops gateway``: run the OCPP gateway until interrupted."""

import asyncio
import logging
import os
import signal
from pathlib import Path

import click

from chargeops.ocpp_gateway import app, session
from chargeops.ocpp_gateway.app import Gateway
from chargeops.ocpp_gateway.errors import GatewayConfigError
from chargeops.ocpp_gateway.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_LEASE_INTERVAL_S,
    LEASE_RENEWALS,
    GatewaySettings,
    default_replica_id,
)

TOKEN_ENV = "CHARGEOPS_GATEWAY_TOKEN"  # noqa: S105 - the name of a variable, not a secret
READ_TOKEN_ENV = "CHARGEOPS_GATEWAY_READ_TOKEN"  # noqa: S105 - the name of a variable, not a secret
PASSWORD_KEY_ENV = "CHARGEOPS_GATEWAY_PASSWORD_KEY"  # noqa: S105 - the name of a variable, not a secret


def _split(address: str, *, default_port: int) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return (host or "0.0.0.0", int(port)) if port else (address, default_port)  # noqa: S104


@click.command()
@click.option("--listen", default="0.0.0.0:9000", show_default=True, help="HOST:PORT for chargers (OCPP-J websockets).")
@click.option("--control-listen", default="127.0.0.1:9001", show_default=True, help="HOST:PORT for the control API.")
@click.option(
    "--database-url",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="SQLAlchemy URL of the session store: sqlite+aiosqlite:///FILE or postgresql+asyncpg://…",
)
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"File holding the control API bearer token (else ${TOKEN_ENV}).",
)
@click.option(
    "--read-token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"File holding a second token that may only read (GET), for the portal (else ${READ_TOKEN_ENV}; "
    "none: no read token).",
)
@click.option(
    "--password-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"File holding a key (32+ bytes) shared by every replica: verified charger passwords are remembered in "
    f"the store, so a restarted replica checks them without scrypt (else ${PASSWORD_KEY_ENV}; none: remembered "
    "in this process only).",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM certificate chain: chargers connect with wss:// (security profile 2).",
)
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM private key.")
@click.option(
    "--dev-accept-unknown",
    is_flag=True,
    help="DEVELOPMENT ONLY: admit unknown charge point ids without a password, in free mode.",
)
@click.option("--response-timeout", default=30.0, show_default=True, help="Seconds to wait for a charger's answer.")
@click.option(
    "--password-wait-limit",
    default=10.0,
    show_default=True,
    help="Seconds a charger waits for its handshake: a password check queued longer is answered 503 (Retry-After).",
)
@click.option(
    "--overload-lag",
    default=0.25,
    show_default=True,
    help="Seconds late the event loop may run before new chargers are answered 503 (Retry-After); 0 admits all.",
)
@click.option(
    "--replica-id",
    default=None,
    help="This process's name among the replicas sharing a PostgreSQL store (default: <hostname>-<pid>).",
)
@click.option(
    "--lease-interval",
    default=DEFAULT_LEASE_INTERVAL_S,
    show_default=True,
    help=f"Seconds between renewals of this replica's lease (PostgreSQL); after {LEASE_RENEWALS} missed renewals "
    "its chargers read offline.",
)
@click.option("--log-level", default="INFO", show_default=True)
@click.option("--wire-log", is_flag=True, help="Log every OCPP frame (id tags included).")
def gateway(  # noqa: PLR0917 - click passes one argument per option
    listen: str,
    control_listen: str,
    database_url: str,
    token_file: Path | None,
    read_token_file: Path | None,
    password_key_file: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    dev_accept_unknown: bool,
    response_timeout: float,
    password_wait_limit: float,
    overload_lag: float,
    replica_id: str | None,
    lease_interval: float,
    log_level: str,
    wire_log: bool,
) -> None:
    """Run the OCPP gateway chargers connect to."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The ocpp library logs every frame at INFO, id tags included: quiet unless asked for (as simulate).
    logging.getLogger(session.WIRE_LOGGER.name).setLevel(logging.INFO if wire_log else logging.WARNING)
    # websockets logs each connection opened or refused at INFO without the charger's id, which our own
    # line has: noise (and CPU) at tens of thousands of chargers. Its warnings and errors still show.
    if log_level.upper() != "DEBUG":
        logging.getLogger("websockets.server").setLevel(logging.WARNING)
    token = token_file.read_text().strip() if token_file else os.environ.get(TOKEN_ENV, "")
    if not token:
        raise click.UsageError(f"give the control API token with --token-file or ${TOKEN_ENV}")
    read_token = read_token_file.read_text().strip() if read_token_file else os.environ.get(READ_TOKEN_ENV)
    password_key = password_key_file.read_text().strip() if password_key_file else os.environ.get(PASSWORD_KEY_ENV)
    ocpp_host, ocpp_port = _split(listen, default_port=9000)
    control_host, control_port = _split(control_listen, default_port=9001)
    try:
        settings = GatewaySettings(
            ocpp_host=ocpp_host,
            ocpp_port=ocpp_port,
            control_host=control_host,
            control_port=control_port,
            database_url=database_url,
            api_token=token,
            api_read_token=read_token or None,
            tls_cert=tls_cert,
            tls_key=tls_key,
            dev_accept_unknown=dev_accept_unknown,
            response_timeout_s=response_timeout,
            password_wait_limit_s=password_wait_limit,
            overload_lag_s=overload_lag or None,
            replica_id=replica_id or default_replica_id(),
            lease_interval_s=lease_interval,
            password_key=password_key or None,
        )
    except GatewayConfigError as error:
        raise click.UsageError(str(error)) from error
    if dev_accept_unknown:
        logging.getLogger("chargeops.gateway").warning(
            "DEVELOPMENT SWITCH ON: unknown chargers are admitted without a password. Never use this in production."
        )
    asyncio.run(_run(settings))


async def _run(settings: GatewaySettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    gateway = await Gateway.open(settings)
    await gateway.start()
    app.settle_garbage_collector()
    click.echo(f"Gateway ready: chargers on port {gateway.ocpp_port}, control API on port {gateway.control_port}.")
    await stop.wait()
    await gateway.stop()
