"""The kubeconfig has one context per identity, admin current, and verifies TLS with the cluster CA."""

import base64
import stat
from pathlib import Path

import yaml

from chargeops.devcluster import identities, kubeconfigs


def test_one_context_per_identity_with_admin_current(tmp_path: Path) -> None:
    users = identities.generate()

    document = kubeconfigs.render(server="https://127.0.0.1:6443", ca_pem=b"PEM", users=users.values())

    assert [context["name"] for context in document["contexts"]] == ["admin", "super-admin", "editor", "viewer"]
    assert document["current-context"] == "admin"
    tokens = {user["name"]: user["user"]["token"] for user in document["users"]}
    assert tokens == {name: user.token for name, user in users.items()}


def test_the_cluster_ca_is_embedded_and_tls_is_verified() -> None:
    document = kubeconfigs.render(server="https://127.0.0.1:6443", ca_pem=b"PEM", users=identities.generate().values())

    (cluster,) = document["clusters"]
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == b"PEM"
    assert "insecure-skip-tls-verify" not in cluster["cluster"]


def test_written_kubeconfig_is_yaml_readable_only_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "kube" / "config"
    document = kubeconfigs.render(server="https://127.0.0.1:1", ca_pem=b"PEM", users=identities.generate().values())

    kubeconfigs.write(path, document)

    assert yaml.safe_load(path.read_text()) == document
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
