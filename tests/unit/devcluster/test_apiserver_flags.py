"""etcd and kube-apiserver are configured like a small real cluster, on loopback only."""

from pathlib import Path

from chargeops.devcluster import components, pki


def _pki(root: Path) -> pki.ClusterPki:
    return pki.ClusterPki(
        ca_cert=root / "ca.crt",
        serving_cert=root / "apiserver.crt",
        serving_key=root / "apiserver.key",
        service_account_key=root / "sa.key",
        service_account_public_key=root / "sa.pub",
    )


def _apiserver_flags(tmp_path: Path) -> dict[str, str]:
    config = components.ApiServerConfig(
        etcd_url="http://127.0.0.1:2379", secure_port=6443, pki=_pki(tmp_path), token_file=tmp_path / "tokens.csv"
    )
    command = components.apiserver_command(Path("/bin/kube-apiserver"), config)
    return dict(arg.removeprefix("--").split("=", 1) for arg in command[1:])


def test_apiserver_serves_tls_on_loopback_with_our_certificate(tmp_path: Path) -> None:
    flags = _apiserver_flags(tmp_path)

    assert flags["bind-address"] == flags["advertise-address"] == "127.0.0.1"
    assert flags["secure-port"] == "6443"
    assert flags["tls-cert-file"] == str(tmp_path / "apiserver.crt")


def test_apiserver_authorizes_like_a_real_cluster(tmp_path: Path) -> None:
    flags = _apiserver_flags(tmp_path)

    assert flags["authorization-mode"] == "Node,RBAC"
    assert flags["token-auth-file"] == str(tmp_path / "tokens.csv")
    assert "disable-admission-plugins" not in flags


def test_apiserver_signs_service_account_tokens(tmp_path: Path) -> None:
    flags = _apiserver_flags(tmp_path)

    assert flags["service-account-issuer"] == "https://kubernetes.default.svc.cluster.local"
    assert flags["service-account-signing-key-file"] == str(tmp_path / "sa.key")
    assert flags["service-account-key-file"] == str(tmp_path / "sa.pub")
    assert flags["service-cluster-ip-range"] == "10.0.0.0/24"


def test_etcd_is_a_single_loopback_member(tmp_path: Path) -> None:
    config = components.EtcdConfig(data_dir=tmp_path / "data", client_port=2379, peer_port=2380)

    command = components.etcd_command(Path("/bin/etcd"), config)

    assert "--listen-client-urls=http://127.0.0.1:2379" in command
    assert "--initial-cluster=chargeops-dev=http://127.0.0.1:2380" in command
    assert f"--data-dir={tmp_path / 'data'}" in command
