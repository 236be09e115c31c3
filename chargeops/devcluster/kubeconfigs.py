"""The kubeconfig of a development cluster: one context per static identity, ``admin`` current.

``controlplane`` writes it after start; ``chargeops dev cluster --kubeconfig FILE`` copies it for the
developer, so the CA and tokens are embedded (the file works wherever it is copied, for as long as the
cluster runs). ``kubectl --context editor …`` then acts as that identity.
"""

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from chargeops.devcluster import identities

CLUSTER_NAME = "chargeops-dev"


def render(*, server: str, ca_pem: bytes, users: Iterable[identities.Identity]) -> dict[str, Any]:
    """The kubeconfig document; the first identity's context is the current one."""
    users = list(users)
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": user.name, "user": {"token": user.token}} for user in users],
        "contexts": [{"name": user.name, "context": _context(user.name)} for user in users],
        "current-context": users[0].name,
        "preferences": {},
    }


def _context(name: str) -> dict[str, str]:
    return {"cluster": CLUSTER_NAME, "user": name, "namespace": "default"}


def write(path: Path, document: dict[str, Any]) -> None:
    """Write the kubeconfig readable by its owner only, since it holds bearer tokens."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
