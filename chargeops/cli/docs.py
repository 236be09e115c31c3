"""``chargeops docs``: write the API reference pages ``docs/api/`` from the API types, or check them."""

from pathlib import Path

import click

from chargeops.crdgen import docfiles, errors


@click.command()
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=docfiles.DOCS_DIR,
    show_default=True,
    help="Directory of the generated pages.",
)
@click.option(
    "--examples-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=docfiles.EXAMPLES_DIR,
    show_default=True,
    help="YAML files whose chargeops objects the pages show as examples.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the directory is out of date.")
def docs(output_dir: Path, examples_dir: Path, check: bool) -> None:
    """Generate one Markdown page per kind (fields, rules, columns, conditions, examples) from the API types."""
    try:
        if check:
            docfiles.check(output_dir, examples_dir=examples_dir)
            click.echo(f"{output_dir}/ is up to date.")
            return
        for path in docfiles.write(output_dir, examples_dir=examples_dir):
            click.echo(f"wrote {path}")
    except errors.CrdGenError as exc:
        raise click.ClickException(str(exc)) from exc
