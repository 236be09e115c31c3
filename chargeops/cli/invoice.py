"""``chargeops invoice``: look at Invoices — print one as a table, or render it as a printable HTML page.

Each command reads the Invoice, and the Site and Subscription it names, from the API server as the
kubeconfig's user and hands them to ``chargeops.billing.render``; nothing is changed. The group is the
home of every invoice command: ``invoice preview`` (the running month, priced by the billing pass) joins
it beside ``show`` and ``render``.
"""

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click
import pydantic
import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from chargeops.api import v1alpha1
from chargeops.billing import render

# kubectl's fallback when neither -n nor the kubeconfig context names a namespace.
DEFAULT_NAMESPACE = "default"
# Seconds to wait for the API server per read; a person is waiting at the terminal.
REQUEST_TIMEOUT_S = 30

_Kind = TypeVar("_Kind", bound=v1alpha1.Resource)
_Command = TypeVar("_Command", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True)
class _Documents:
    """An Invoice and the objects it names; those two are None when they no longer exist."""

    invoice: v1alpha1.Invoice
    site: v1alpha1.Site | None
    subscription: v1alpha1.Subscription | None


@dataclasses.dataclass(frozen=True)
class Cluster:
    api: k8s.CustomObjectsApi
    namespace: str


@click.group()
def invoice() -> None:
    """Look at invoices: print one as a table, or render it as a printable HTML document.

    \b
      chargeops invoice show ada-2026-10 -n parkside
      chargeops invoice render ada-2026-10 -n parkside --html ada-2026-10.html
    """


def cluster_options(command: _Command) -> _Command:
    """``-n``, ``--kubeconfig`` and ``--context``, as every command that reads the cluster takes them."""
    for option in reversed(
        (
            click.option("--namespace", "-n", help="Namespace of the Invoice. Default: the kubeconfig context's."),
            click.option(
                "--kubeconfig", type=click.Path(dir_okay=False), help="Default: $KUBECONFIG or ~/.kube/config."
            ),
            click.option("--context", help="kubeconfig context to read as. Default: the current one."),
        )
    ):
        command = option(command)
    return command


@invoice.command()
@click.argument("name")
@cluster_options
def show(name: str, namespace: str | None, kubeconfig: str | None, context: str | None) -> None:
    """Print invoice NAME as a table.

    The header (site, subscriber, period, number or Draft, phase), one row per line with local times in
    the site's time zone, subtotal, VAT per rate and total, then the sessions held for review.
    """
    documents = _read(name, connect(kubeconfig, context=context, namespace=namespace))
    click.echo(_rendered(render.invoice_text, documents), nl=False)


@invoice.command("render")
@click.argument("name")
@click.option(
    "--html",
    "html_path",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the HTML document to this file; - writes it to standard output.",
)
@cluster_options
def render_invoice(
    name: str, html_path: Path, namespace: str | None, kubeconfig: str | None, context: str | None
) -> None:
    """Render invoice NAME as one printable HTML file: inline CSS, no script, readable on a phone.

    It shows the site, subscriber, period and number, every line with its price components, VAT per rate,
    the total, the sessions held for review and the Stripe invoice id. Print it to PDF from a browser.
    """
    documents = _read(name, connect(kubeconfig, context=context, namespace=namespace))
    document = _rendered(render.invoice_html, documents)
    if str(html_path) == "-":
        click.echo(document, nl=False)
        return
    try:
        html_path.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {html_path}: {exc}") from exc
    click.echo(f"wrote {html_path}")


def _rendered(renderer: Callable[..., str], documents: _Documents) -> str:
    try:
        return renderer(documents.invoice, site=documents.site, subscription=documents.subscription)
    except render.UnknownTimeZoneError as exc:
        raise click.ClickException(str(exc)) from exc


def connect(kubeconfig: str | None, *, context: str | None, namespace: str | None) -> Cluster:
    """Log in like kubectl: ``kubeconfig`` (else ``$KUBECONFIG``, ``~/.kube/config``) and ``context`` (else current)."""
    try:
        api_client = k8s_config.new_client_from_config(config_file=kubeconfig, context=context)  # type: ignore[no-untyped-call]
        contexts, current = k8s_config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    except (k8s_config.ConfigException, OSError) as exc:
        where = kubeconfig or "the default kubeconfig ($KUBECONFIG or ~/.kube/config)"
        raise click.ClickException(f"Cannot use {where}: {exc}") from exc
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    default = ((chosen or {}).get("context") or {}).get("namespace") or DEFAULT_NAMESPACE
    return Cluster(api=k8s.CustomObjectsApi(api_client), namespace=namespace or str(default))


def _read(name: str, cluster: Cluster) -> _Documents:
    """The Invoice ``name`` and the Site and Subscription it names, from the API server."""
    invoice = get(cluster, v1alpha1.Invoice, name)
    if invoice is None:
        raise click.ClickException(f"invoice/{name} does not exist in namespace {cluster.namespace}.")
    site_name, subscription_name = invoice.spec.site_ref.name, invoice.spec.subscription_ref.name
    site = get(cluster, v1alpha1.Site, site_name)
    subscription = get(cluster, v1alpha1.Subscription, subscription_name)
    # An invoice outlives its subscription; it is still shown, and the page says what is missing.
    missing = [f"site/{site_name}"] * (site is None) + [f"subscription/{subscription_name}"] * (subscription is None)
    for reference in missing:
        click.echo(f"Warning: {reference} does not exist in namespace {cluster.namespace}.", err=True)
    return _Documents(invoice=invoice, site=site, subscription=subscription)


def get(cluster: Cluster, kind: type[_Kind], name: str) -> _Kind | None:
    """One object of ``kind``, parsed; None if there is no such object."""
    plural = kind.names.plural
    try:
        obj = cluster.api.get_namespaced_custom_object(
            v1alpha1.GROUP, v1alpha1.VERSION, cluster.namespace, plural, name, _request_timeout=REQUEST_TIMEOUT_S
        )
    except ApiException as exc:
        status = _status(exc)
        if exc.status == 404 and (status.get("details") or {}).get("name") == name:
            return None
        if exc.status == 404:
            raise click.ClickException(
                f"The API server does not serve {plural}.{v1alpha1.GROUP}; are the chargeops CRDs installed?"
            ) from exc
        message = status.get("message") or exc.reason
        raise click.ClickException(f"Cannot read {kind.names.singular}/{name}: {message}") from exc
    except urllib3.exceptions.HTTPError as exc:
        host = cluster.api.api_client.configuration.host
        raise click.ClickException(f"The API server at {host} did not answer: {exc}") from exc
    try:
        return kind.model_validate(cast(dict[str, Any], obj))
    except pydantic.ValidationError as exc:
        raise click.ClickException(
            f"{kind.names.singular}/{name} in namespace {cluster.namespace} is not a valid {kind.names.kind}: {exc}"
        ) from exc


def list_all(cluster: Cluster, kind: type[_Kind]) -> list[_Kind]:
    """Every object of ``kind`` in the namespace, parsed."""
    plural = kind.names.plural
    try:
        listed = cluster.api.list_namespaced_custom_object(
            v1alpha1.GROUP, v1alpha1.VERSION, cluster.namespace, plural, _request_timeout=REQUEST_TIMEOUT_S
        )
    except ApiException as exc:
        message = _status(exc).get("message") or exc.reason
        raise click.ClickException(f"Cannot list {plural}: {message}") from exc
    except urllib3.exceptions.HTTPError as exc:
        host = cluster.api.api_client.configuration.host
        raise click.ClickException(f"The API server at {host} did not answer: {exc}") from exc
    return [kind.model_validate(item) for item in cast(dict[str, Any], listed).get("items", [])]


def _status(exc: ApiException) -> dict[str, Any]:
    """The Status object the API server sent with an error, or an empty one when it sent none."""
    try:
        status = json.loads(exc.body or "")
    except (TypeError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}
