"""``chargeops dev``: a local control plane for development, and the binaries it runs.

``chargeops dev cluster --kubeconfig FILE`` runs etcd and kube-apiserver until Ctrl-C or SIGTERM, for
trying the operator and ``kubectl`` by hand. ``chargeops dev build`` builds the binaries (and stripe-mock
and helm, for the payments and Helm chart tests) into the cache and nothing else; ``.ci/run`` calls it
before the tests so that no test timeout includes a compile.
The work is all in ``chargeops.devcluster``; this module parses, calls and prints.
"""

import shutil
import signal
import time
from pathlib import Path
from types import FrameType

import click

from chargeops.devcluster import binaries, checkout, controlplane, errors

# How often the foreground loop checks that etcd and kube-apiserver are still alive.
_WATCH_INTERVAL_S = 1.0


@click.group()
def dev() -> None:
    """Development helpers: a local Kubernetes control plane and the binaries it runs."""


@dev.command()
def build() -> None:
    """Build etcd, kube-apiserver, stripe-mock and helm from tools/ into the cache (once), then print their paths."""
    try:
        built = binaries.ensure_all()
    except errors.DevClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    for name, path in built.items():
        click.echo(f"{name}: {path}")


@dev.command()
@click.option(
    "--kubeconfig",
    "kubeconfig_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the kubeconfig: one context per identity (admin, super-admin, editor, viewer).",
)
@click.option(
    "--crds",
    "crds_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Apply the *.yaml CRDs in this folder after start. Default: the checkout's crds/, if any.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep logs, keys and etcd data here (kept after exit). Default: a temporary folder, removed.",
)
def cluster(kubeconfig_path: Path, crds_dir: Path | None, workdir: Path | None) -> None:
    """Run etcd and kube-apiserver on loopback until interrupted (Ctrl-C or SIGTERM)."""
    # SIGTERM takes the same way out as Ctrl-C, so the servers are stopped and temp files removed.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with controlplane.ControlPlane.start(workdir=workdir) as plane:
            plane.apply_crds(crds_dir or checkout.crds_dir())
            kubeconfig_path.parent.mkdir(parents=True, exist_ok=True)
            kubeconfig_path.touch(mode=0o600, exist_ok=True)
            shutil.copyfile(plane.kubeconfig, kubeconfig_path)
            click.echo(
                f"Control plane ready: {plane.server} (kube-apiserver {plane.versions['kube-apiserver']}, "
                f"etcd {plane.versions['etcd']}); kubeconfig {kubeconfig_path}; Ctrl-C to stop."
            )
            _watch(plane)
    except KeyboardInterrupt:
        click.echo("Control plane stopped.", err=True)
    except errors.DevClusterError as exc:
        raise click.ClickException(str(exc)) from exc


def _watch(plane: controlplane.ControlPlane) -> None:
    """Return only by interruption; fail if a server dies, rather than leave a dead URL behind."""
    while True:
        time.sleep(_WATCH_INTERVAL_S)
        for process in plane.exited():
            raise click.ClickException(
                f"{process.name} exited unexpectedly; the last lines of its log:\n{process.log_tail()}"
            )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
