"""``chargeops operator``: run the kopf operator against the current kubeconfig until interrupted."""

import asyncio
import logging
import os
from pathlib import Path

import click
import kopf

from chargeops.cli import signing
from chargeops.invitations import tokens
from chargeops.operator import runtime

TOKEN_ENV = "CHARGEOPS_GATEWAY_TOKEN"  # noqa: S105 - the name of a variable, not a secret


@click.command()
@click.option("--gateway-url", default="http://127.0.0.1:9001", show_default=True, help="The gateway's control API.")
@click.option(
    "--gateway-token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"File holding the gateway's control API token (else ${TOKEN_ENV}).",
)
@click.option(
    "--kubeconfig",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Kubeconfig to use (else in-cluster, $KUBECONFIG or ~/.kube/config).",
)
@click.option(
    "--observe-interval",
    default=30.0,
    show_default=True,
    help="Seconds between refreshes of each Charger's status from the gateway.",
)
@click.option(
    "--namespace",
    "-n",
    "namespaces",
    multiple=True,
    help="Serve only this namespace (repeatable); all namespaces if none is given.",
)
@click.option(
    "--metrics-port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port serving Prometheus /metrics and /healthz; 0 serves neither.",
)
@click.option("--metrics-host", default="0.0.0.0", show_default=True, help="Address the metrics port listens on.")  # noqa: S104
@click.option(
    "--signing-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"File holding the key that signs invitation links, the portal's too (else ${signing.KEY_ENV}). "
    "Without one, sites that invite by email send nothing and say SigningKeyMissing.",
)
@click.option("--log-level", default="INFO", show_default=True)
def operator(  # noqa: PLR0917 - click passes one argument per option
    gateway_url: str,
    gateway_token_file: Path | None,
    kubeconfig: Path | None,
    observe_interval: float,
    namespaces: tuple[str, ...],
    metrics_port: int,
    metrics_host: str,
    signing_key_file: Path | None,
    log_level: str,
) -> None:
    """Reconcile Sites, Tariffs, Chargers and Subscriptions against live chargers through the gateway."""
    configure_logging(log_level)
    token = gateway_token_file.read_text().strip() if gateway_token_file else os.environ.get(TOKEN_ENV, "")
    if not token:
        raise click.UsageError(f"give the gateway's control API token with --gateway-token-file or ${TOKEN_ENV}")
    signing_key = signing.read_key(signing_key_file) if signing_key_file or os.environ.get(signing.KEY_ENV) else None
    if signing_key is not None and len(signing_key) < tokens.MIN_KEY_BYTES:
        raise click.UsageError(f"the signing key needs at least {tokens.MIN_KEY_BYTES} bytes, got {len(signing_key)}")
    if kubeconfig is not None:
        os.environ["KUBECONFIG"] = str(kubeconfig)
    # kopf fixes timer intervals when handlers are registered, i.e. when chargeops.operator.main is
    # imported; so it is imported here, after the interval is known, not at the top of the module.
    os.environ["CHARGEOPS_OBSERVE_INTERVAL_S"] = str(observe_interval)
    from chargeops.operator import main  # noqa: PLC0415

    settings = runtime.OperatorSettings(
        gateway_url=gateway_url,
        gateway_token=token,
        observe_interval_s=observe_interval,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
        signing_key=signing_key,
    )
    main.settle_garbage_collector()
    asyncio.run(main.run(settings, kubeconfig=str(kubeconfig) if kubeconfig else None, namespaces=namespaces))


def configure_logging(level: str) -> None:
    """Log at ``level`` to stderr with kopf's formatter, which puts ``[namespace/name]`` before every line
    written for an object (through the ``logger`` kopf hands each handler)."""
    kopf.configure(log_format=kopf.LogFormat.FULL, log_prefix=True)
    logging.getLogger().setLevel(level.upper())
