"""Who can talk to the development control plane: static-token users and the RBAC that makes them differ.

``controlplane`` writes ``token_file`` for ``--token-auth-file`` before kube-apiserver starts and applies
``rbac_manifest`` once it is ready; ``kubeconfigs`` gives each identity a context. Tests act as a user
with ``cp.kubectl(…, as_identity="viewer")``. Tokens are random per cluster, so a kubeconfig from one
session never works against another.

| identity    | groups                   | may                                                       |
|-------------|--------------------------|-----------------------------------------------------------|
| admin       | system:masters           | everything (bypasses RBAC)                                |
| super-admin | chargeops:super-admins   | ``edit`` everywhere, all of ``chargeops.io``; later also  |
|             |                          | what admission policy grants super-admins (approvals)     |
| editor      | chargeops:editors        | ``edit`` everywhere, all of ``chargeops.io``              |
| viewer      | chargeops:viewers        | ``view`` everywhere                                       |

Service accounts (``kubectl create token``) stand in for GitOps agents; they need no static token.
"""

import dataclasses
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

ADMIN = "admin"
SUPER_ADMIN = "super-admin"
EDITOR = "editor"
VIEWER = "viewer"

MASTERS_GROUP = "system:masters"
SUPER_ADMINS_GROUP = "chargeops:super-admins"
EDITORS_GROUP = "chargeops:editors"
VIEWERS_GROUP = "chargeops:viewers"

# The identities every cluster gets, in kubeconfig order (the first is the current context).
IDENTITY_GROUPS: Mapping[str, tuple[str, ...]] = {
    ADMIN: (MASTERS_GROUP,),
    SUPER_ADMIN: (SUPER_ADMINS_GROUP,),
    EDITOR: (EDITORS_GROUP,),
    VIEWER: (VIEWERS_GROUP,),
}

# Grants the chargeops.io API to editors until the CRDs carry aggregation labels into ``edit``/``view``.
CRD_ACCESS_CLUSTER_ROLE = "chargeops-test-crd-access"

# 32 random bytes: as strong as a service-account JWT signature, and URL-safe, so never a comma.
_TOKEN_BYTES = 32


@dataclasses.dataclass(frozen=True)
class Identity:
    """A user the API server knows by bearer token."""

    name: str
    """Both the user name the API server sees and the kubeconfig context, e.g. ``editor``."""

    groups: tuple[str, ...]
    token: str = dataclasses.field(repr=False)


def generate(groups_by_name: Mapping[str, tuple[str, ...]] = IDENTITY_GROUPS) -> dict[str, Identity]:
    """Fresh random tokens for each identity, by name."""
    return {
        name: Identity(name=name, groups=groups, token=secrets.token_urlsafe(_TOKEN_BYTES))
        for name, groups in groups_by_name.items()
    }


def token_file(identities: Iterable[Identity]) -> str:
    """The ``--token-auth-file`` CSV: ``token,user,uid,"group1,group2"`` per line."""
    lines = []
    for identity in identities:
        # The groups column is one CSV field, so several groups need quotes around the commas.
        groups = ",".join(identity.groups)
        lines.append(f'{identity.token},{identity.name},{identity.name},"{groups}"')
    return "\n".join(lines) + "\n"


def rbac_manifest() -> dict[str, Any]:
    """ClusterRoles and bindings that give the groups their access, as one ``v1/List`` to apply."""
    writers = [SUPER_ADMINS_GROUP, EDITORS_GROUP]
    crd_access = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": CRD_ACCESS_CLUSTER_ROLE},
        "rules": [{"apiGroups": ["chargeops.io"], "resources": ["*"], "verbs": ["*"]}],
    }
    # ``edit`` and ``view`` come from the API server's RBAC bootstrap (which /readyz waits for), with
    # empty rules until ``aggregation`` fills them in, as kube-controller-manager would.
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            crd_access,
            _cluster_role_binding("chargeops-dev:edit", role="edit", groups=writers),
            _cluster_role_binding("chargeops-dev:view", role="view", groups=[VIEWERS_GROUP]),
            _cluster_role_binding("chargeops-dev:crd-access", role=CRD_ACCESS_CLUSTER_ROLE, groups=writers),
        ],
    }


def _cluster_role_binding(name: str, *, role: str, groups: Iterable[str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups],
    }
