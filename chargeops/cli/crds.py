"""``chargeops crds``: write ``crds/`` from the API types, or check that it is current."""

from pathlib import Path

import click

from chargeops import crdgen


@click.command()
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("crds"),
    show_default=True,
    help="Directory of the generated CRD files.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the directory is out of date.")
def crds(output_dir: Path, check: bool) -> None:
    """Generate CustomResourceDefinitions from the chargeops API types."""
    if check:
        try:
            crdgen.check(output_dir)
        except crdgen.StaleCrdsError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{output_dir}/ is up to date.")
        return
    for path in crdgen.write(output_dir):
        click.echo(f"wrote {path}")
