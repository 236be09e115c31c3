"""``chargeops approve``: confirm pay-per-month on Chargers, in the cluster or in a YAML file for git."""

from collections.abc import Sequence
from pathlib import Path

import click

from chargeops.api.v1alpha1 import approval
from chargeops.approving import cluster, documents, errors, states

# What kubectl accepts before the slash for a Charger: `charger/x`, `chargers/x`, `charger.chargeops.io/x`.
_CHARGER_TYPES = ("charger", "chargers", "charger.chargeops.io", "chargers.chargeops.io")


@click.command()
@click.argument("targets", nargs=-1, metavar="[charger/NAME]...")
@click.option(
    "--filename",
    "-f",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Write the approvals into this YAML file (every pay-per-month Charger in it, or those named).",
)
@click.option("--namespace", "-n", help="Namespace of the Chargers. Default: the kubeconfig context's.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Default: $KUBECONFIG or ~/.kube/config.")
@click.option("--context", help="kubeconfig context (and so the user) to approve as. Default: the current one.")
@click.option("--dry-run", is_flag=True, help="Print the approval values; change nothing.")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if an approval is missing or stale.")
def approve(  # noqa: PLR0917 - click passes one argument per option
    targets: Sequence[str],
    filename: Path | None,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
    dry_run: bool,
    check: bool,
) -> None:
    """Approve pay-per-month: set chargeops.io/approval to the fingerprint of mode and tariff.

    \b
      chargeops approve charger/garage-north-2 -n parkside   # live, as your kubeconfig user
      chargeops approve -f chargers.yaml                      # in the file, for a git commit
      chargeops approve -f chargers.yaml --check              # CI: exit 1 on a missing or stale approval

    The approval covers spec.chargingMode.payPerMonth and spec.chargingMode.tariffRef; changing
    either needs a new one. Only the approvers of the admission policy approval.chargeops.io may set
    it: for anyone else the API server refuses, and this command prints its message and exits 1.
    """
    if dry_run and check:
        raise click.UsageError("--dry-run and --check are alternatives; give one.")
    names = [_charger_name(target) for target in targets]
    try:
        if filename is not None:
            if namespace or kubeconfig or context:
                raise click.UsageError("-f edits the file only; -n, --kubeconfig and --context are for the cluster.")
            ok = _in_file(filename, names, dry_run=dry_run, check=check)
        else:
            if not names:
                raise click.UsageError("Name a Charger (charger/NAME) or a file (-f FILE).")
            ok = _in_cluster(names, namespace, kubeconfig=kubeconfig, context=context, dry_run=dry_run, check=check)
    except errors.ApprovalError as exc:
        raise click.ClickException(str(exc)) from exc
    if not ok:
        raise SystemExit(1)


def _in_cluster(
    names: Sequence[str],
    namespace: str | None,
    *,
    kubeconfig: str | None,
    context: str | None,
    dry_run: bool,
    check: bool,
) -> bool:
    connection = cluster.connect(kubeconfig, context=context)
    namespace = namespace or connection.default_namespace
    ok = True
    for name in names:
        try:
            live = cluster.read(connection, name, namespace=namespace)
            states.require_pay_per_month(live.state)
            if dry_run:
                click.echo(live.state.expected)
            elif check:
                ok = _report_check(live.state) and ok
            elif live.state.standing is states.Standing.APPROVED:
                _report(live.state, "is already approved")
            else:
                cluster.approve(connection, live)
                _report(live.state, "approved")
        except errors.ApprovalError as exc:
            click.echo(f"Error: {exc}", err=True)
            ok = False
    return ok


def _in_file(path: Path, names: Sequence[str], *, dry_run: bool, check: bool) -> bool:
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"Cannot read {path}: {exc}") from exc
    manifest = documents.parse(text, source=str(path))
    if check and not names and not manifest.chargers:
        # CI runs --check over every manifest of a change: one without pay-per-month has nothing stale.
        click.echo(f"{path}: no pay-per-month Charger; nothing to check")
        return True
    chosen = documents.select(manifest, names)
    if dry_run:
        for document in chosen:
            click.echo(f"{document.state.reference} {document.state.expected}")
        return True
    if check:
        results = [_report_check(document.state) for document in chosen]
        if not all(results):
            click.echo(f"Run `chargeops approve -f {path}` and commit the result.", err=True)
        return all(results)
    pending = [document for document in chosen if document.state.standing is not states.Standing.APPROVED]
    edited = documents.approve(manifest, pending)  # raises before anything is reported or written
    for document in chosen:
        _report(document.state, "approved" if document in pending else "is already approved")
    if pending:
        path.write_bytes(edited.encode("utf-8"))
        click.echo(f"wrote {path}")
    return True


def _report(state: states.ApprovalState, verb: str) -> None:
    click.echo(f"{state.reference} {verb}: {state.annotation}")
    replaced = {
        states.Standing.MISSING: "",
        states.Standing.STALE: f" (replaces the stale approval {state.current})",
        states.Standing.APPROVED: "",
    }[state.standing]
    click.echo(f"  {state.covers}{replaced}")


def _report_check(state: states.ApprovalState) -> bool:
    """Print one line on ``state``; True when it is approved."""
    if state.standing is states.Standing.APPROVED:
        click.echo(f"{state.reference}: approved ({state.covers})")
        return True
    was = "missing" if state.standing is states.Standing.MISSING else f"stale ({state.current})"
    click.echo(f"{state.reference}: approval {was}; {state.covers} needs {state.annotation}", err=True)
    return False


def _charger_name(target: str) -> str:
    """``NAME`` from ``charger/NAME``, ``chargers/NAME``, ``charger.chargeops.io/NAME`` or ``NAME``."""
    kind, slash, name = target.rpartition("/")
    if slash and kind.lower() not in _CHARGER_TYPES:
        raise click.UsageError(f"{target}: chargeops approve approves Chargers only ({approval.ANNOTATION}).")
    if not name:
        raise click.UsageError(f"{target!r} names no Charger.")
    return name
