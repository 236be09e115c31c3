"""Where the source checkout keeps what the control plane needs: ``tools/`` and ``crds/``.

``binaries`` builds from ``tools/<name>/`` and ``controlplane`` applies ``crds/``. Both sit at the top of
the repository, two levels above this package; ``CHARGEOPS_TOOLS_DIR`` points elsewhere (an installed
package has no checkout around it).
"""

import os
from pathlib import Path

TOOLS_DIR_VARIABLE = "CHARGEOPS_TOOLS_DIR"

# chargeops/devcluster/checkout.py -> parents[2] is the repository root.
_REPO_ROOT = Path(__file__).resolve().parents[2]


def tools_dir() -> Path:
    """The folder that holds one Go module per tool (``tools/etcd``, ``tools/kube-apiserver``)."""
    override = os.environ.get(TOOLS_DIR_VARIABLE)
    return Path(override) if override else _REPO_ROOT / "tools"


def crds_dir() -> Path:
    """The generated CRD manifests (written by ``chargeops crds``); may be missing or empty."""
    return _REPO_ROOT / "crds"
