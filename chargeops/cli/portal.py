"""``chargeops portal``: serve the invitation and account pages subscribers open from their emails."""

import asyncio
import logging
import os
from pathlib import Path

import click

from chargeops.cli import signing
from chargeops.portal import server

TOKEN_ENV = "CHARGEOPS_GATEWAY_TOKEN"  # noqa: S105 - the name of a variable, not a secret


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise click.BadParameter(f"{address!r} is not HOST:PORT", param_hint="--listen")
    return host or "0.0.0.0", int(port)  # noqa: S104


@click.command()
@click.option("--listen", default="0.0.0.0:8000", show_default=True, help="HOST:PORT to serve the pages on (HTTP).")
@click.option(
    "--kubeconfig",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Kubeconfig to use (else in-cluster, $KUBECONFIG or ~/.kube/config).",
)
@click.option(
    "--signing-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"File holding the key that signs links, the operator's too (else ${signing.KEY_ENV}).",
)
@click.option("--gateway-url", default="http://127.0.0.1:9001", show_default=True, help="The gateway's control API.")
@click.option(
    "--gateway-token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"File holding the gateway's control API token (else ${TOKEN_ENV}).",
)
@click.option("--log-level", default="INFO", show_default=True)
def portal(  # noqa: PLR0917 - click passes one argument per option
    listen: str,
    kubeconfig: Path | None,
    signing_key_file: Path | None,
    gateway_url: str,
    gateway_token_file: Path | None,
    log_level: str,
) -> None:
    """Serve the invitation page (accept or decline, once) and the subscriber's read-only account page."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    token = gateway_token_file.read_text().strip() if gateway_token_file else os.environ.get(TOKEN_ENV, "")
    if not token:
        raise click.UsageError(f"give the gateway's control API token with --gateway-token-file or ${TOKEN_ENV}")
    host, port = _split(listen)
    try:
        settings = server.PortalSettings(
            host=host,
            port=port,
            signing_key=signing.read_key(signing_key_file),
            gateway_url=gateway_url,
            gateway_token=token,
            kubeconfig=str(kubeconfig) if kubeconfig else None,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    asyncio.run(server.serve_until_signalled(settings))
