"""The ``chargeops`` command group; each subcommand lives in a module of its own beside this one."""

import click

from chargeops import __version__
from chargeops.cli import approve, argocd, crds, demo, dev, docs, gateway, invoice, operator, portal, simulate
from chargeops.cli import billing as _billing  # noqa: F401 - adds `invoice preview` and `invoice run`


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chargeops")
def cli() -> None:
    """Pay-per-month EV charging, declared as Kubernetes resources."""


cli.add_command(approve.approve)
cli.add_command(argocd.argocd_health)
cli.add_command(crds.crds)
cli.add_command(demo.demo)
cli.add_command(dev.dev)
cli.add_command(docs.docs)
cli.add_command(gateway.gateway)
cli.add_command(invoice.invoice)
cli.add_command(operator.operator)
cli.add_command(portal.portal)
cli.add_command(simulate.simulate)
