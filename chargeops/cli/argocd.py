"""``chargeops argocd-health``: write the ``argocd-cm`` fragment from the Lua health scripts, or check it."""

from pathlib import Path

import click

from chargeops.crdgen import argocd


@click.command("argocd-health")
@click.option(
    "--health-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=argocd.HEALTH_DIR,
    show_default=True,
    help="Directory of the scripts, laid out as <group>/<Kind>/health.lua.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=argocd.SNIPPET,
    show_default=True,
    help="The generated argocd-cm ConfigMap fragment.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the fragment is out of date.")
@click.option("--helm-values", is_flag=True, help="Print the scripts as Argo CD Helm chart values (configs.cm).")
def argocd_health(health_dir: Path, output: Path, check: bool, helm_values: bool) -> None:
    """Generate Argo CD health checks for the chargeops kinds from their Lua scripts."""
    try:
        if helm_values:
            click.echo(argocd.render_helm_values(argocd.scripts(health_dir)), nl=False)
        elif check:
            problems = argocd.stale(health_dir, output)
            if problems:
                raise click.ClickException("; ".join(problems) + "; run `chargeops argocd-health` and commit it")
            click.echo(f"{output} is up to date.")
        else:
            click.echo(f"wrote {argocd.write(health_dir, output)}")
    except OSError as exc:
        raise click.ClickException(f"cannot read the health scripts: {exc}") from exc
