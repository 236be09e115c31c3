"""``chargeops invoice preview`` and ``chargeops invoice run``: the billing pass, from a terminal.

``preview`` prices a subscription's month (the running one by default) from the gateway's sessions and
prints it as ``invoice show`` would, writing nothing. ``run`` runs a site's billing pass now, exactly as
the operator's timer does (drafts, and finalization after the grace period), and prints what it did.
Both read the cluster as the kubeconfig's user and the gateway's control API with its token.
"""

import asyncio
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from chargeops.api import v1alpha1
from chargeops.billing import periods, render
from chargeops.cli import invoice as invoice_cli
from chargeops.cli.operator import TOKEN_ENV
from chargeops.operator import billing_pass
from chargeops.operator.clock import SystemClock
from chargeops.operator.errors import GatewayUnreachableError
from chargeops.operator.gateway_client import GatewayClient
from chargeops.operator.invoice_store import InvoiceStore


def _gateway_options(command: Any) -> Any:
    command = click.option(
        "--gateway-token-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=f"File holding the gateway's control API token (else ${TOKEN_ENV}).",
    )(command)
    return click.option(
        "--gateway-url", default="http://127.0.0.1:9001", show_default=True, help="The gateway's control API."
    )(command)


def _token(token_file: Path | None) -> str:
    token = token_file.read_text().strip() if token_file else os.environ.get(TOKEN_ENV, "")
    if not token:
        raise click.UsageError(f"give the gateway's control API token with --gateway-token-file or ${TOKEN_ENV}")
    return token


@invoice_cli.invoice.command()
@click.argument("subscription")
@click.option("--month", help="Month to price, YYYY-MM in the site's time zone. Default: the running month.")
@_gateway_options
@invoice_cli.cluster_options
def preview(  # noqa: PLR0917 - click passes one argument per option
    subscription: str,
    month: str | None,
    gateway_url: str,
    gateway_token_file: Path | None,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
) -> None:
    """Print what SUBSCRIPTION's invoice for a month would say if the month closed now; nothing is written.

    \b
      chargeops invoice preview ada -n parkside --month 2026-11
    """
    cluster = invoice_cli.connect(kubeconfig, context=context, namespace=namespace)
    found = invoice_cli.get(cluster, v1alpha1.Subscription, subscription)
    if found is None:
        raise click.ClickException(f"subscription/{subscription} does not exist in namespace {cluster.namespace}.")
    site = _site(cluster, found.spec.site_ref.name)
    now = SystemClock().now()
    chosen = month or periods.month_of(now, periods.zone(site.spec.time_zone))
    try:
        periods.parse_month(chosen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    draft = asyncio.run(_preview(cluster, site, found, chosen, gateway_url, _token(gateway_token_file), now))
    shown = v1alpha1.Invoice(
        metadata={"name": draft.name, "namespace": cluster.namespace},
        spec=draft.spec,
        status=v1alpha1.InvoiceStatus(review=list(draft.review) or None),
    )
    click.echo(render.invoice_text(shown, site=site, subscription=found))


@invoice_cli.invoice.command("run")
@click.option("--site", "site_name", required=True, help="Site whose subscriptions to bill.")
@_gateway_options
@invoice_cli.cluster_options
def run_pass(  # noqa: PLR0917 - click passes one argument per option
    site_name: str,
    gateway_url: str,
    gateway_token_file: Path | None,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
) -> None:
    """Run the billing pass of a site now, as the operator does: draft every closed month's invoice and
    finalize those past the grace period. Safe to repeat.

    \b
      chargeops invoice run --site parkside -n parkside
    """
    cluster = invoice_cli.connect(kubeconfig, context=context, namespace=namespace)
    site = _site(cluster, site_name)
    result = asyncio.run(_run(cluster, site, gateway_url, _token(gateway_token_file)))
    for name in result.drafted:
        number = result.finalized.get(name)
        review = result.review.get(name, 0)
        state = f"finalized as {number}" if number else "draft"
        click.echo(f"invoice/{name}: {state}" + (f", {review} session(s) for review" if review else ""))
    if not result.drafted:
        click.echo("Nothing to bill: every closed month is finalized.")


def _site(cluster: invoice_cli.Cluster, name: str) -> v1alpha1.Site:
    site = invoice_cli.get(cluster, v1alpha1.Site, name)
    if site is None:
        raise click.ClickException(f"site/{name} does not exist in namespace {cluster.namespace}.")
    return site


def _catalogue(cluster: invoice_cli.Cluster) -> tuple[billing_pass.Catalogue, list[v1alpha1.Subscription]]:
    chargers = invoice_cli.list_all(cluster, v1alpha1.Charger)
    tariffs = invoice_cli.list_all(cluster, v1alpha1.Tariff)
    subscriptions = invoice_cli.list_all(cluster, v1alpha1.Subscription)
    catalogue = billing_pass.Catalogue(chargers=chargers, tariffs={str(t.metadata["name"]): t for t in tariffs})
    return catalogue, subscriptions


async def _preview(  # noqa: PLR0917 - the command's values, passed on as they are
    cluster: invoice_cli.Cluster,
    site: v1alpha1.Site,
    subscription: v1alpha1.Subscription,
    month: str,
    gateway_url: str,
    token: str,
    now: datetime,
) -> Any:
    catalogue, _ = _catalogue(cluster)
    async with GatewayClient(gateway_url, token=token) as gateway:
        try:
            return await billing_pass.preview(
                site, subscription, catalogue, month=month, gateway=gateway, store=InvoiceStore(cluster.api), now=now
            )
        except GatewayUnreachableError as exc:
            raise click.ClickException(str(exc)) from exc


async def _run(
    cluster: invoice_cli.Cluster, site: v1alpha1.Site, gateway_url: str, token: str
) -> billing_pass.PassResult:
    catalogue, subscriptions = _catalogue(cluster)
    async with GatewayClient(gateway_url, token=token) as gateway:
        try:
            return await billing_pass.bill_site(
                site,
                subscriptions,
                catalogue,
                gateway=gateway,
                store=InvoiceStore(cluster.api),
                now=SystemClock().now(),
            )
        except GatewayUnreachableError as exc:
            raise click.ClickException(str(exc)) from exc
