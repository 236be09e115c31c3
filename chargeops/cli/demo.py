"""``chargeops demo``: the main job on embedded defaults, from nothing to a rendered invoice."""

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

import click


@click.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the cluster, the gateway's SQLite store and the rendered invoices (default: a new temp folder).",
)
@click.option(
    "--non-interactive", is_flag=True, help="Do not stop to ask before approving (also when stdin is no terminal)."
)
def demo(workdir: Path | None, non_interactive: bool) -> None:
    """Run chargeops end to end on this machine: a local control plane, the gateway on SQLite, the operator
    and simulated chargers; apply examples/, approve the waiting charger, charge a month on a simulated
    clock, close the month and print the chargers, subscriptions and invoices. Ctrl-C stops everything.
    """
    from chargeops.demo import run  # noqa: PLC0415 - starts the operator's machinery only when asked

    folder = workdir or Path(tempfile.mkdtemp(prefix="chargeops-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    # The parts' own logs (gateway, operator, chargers) go to a file; the terminal shows the story.
    log = folder / "demo.log"
    logging.basicConfig(
        filename=log, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True
    )
    click.echo(f"chargeops demo: work folder {folder}, logs in {log}")

    # Without a terminal (CI, a pipe) there is nobody to ask: the demo answers yes, and says so.
    ask = not non_interactive and sys.stdin.isatty()

    def confirm(question: str) -> None:
        if ask:
            click.confirm(f"      {question}", default=True, abort=True)
        else:
            click.echo(f"      {question} yes ({'--non-interactive' if non_interactive else 'no terminal'})")

    try:
        asyncio.run(run.run(folder, say=click.echo, confirm=confirm))
    except KeyboardInterrupt:
        click.echo("\nInterrupted; everything the demo started has been stopped.", err=True)
        raise SystemExit(130) from None
