"""The command lines of etcd and kube-apiserver, configured like a small real cluster on loopback.

``controlplane`` builds them here and starts them; keeping them pure makes the flags easy to read and to
test. Compared with controller-runtime's envtest defaults the API server differs on purpose: it keeps
the ServiceAccount admission plugin (real clusters have it), authorizes with Node and RBAC, knows users
by static tokens, and signs service-account tokens so ``kubectl create token`` works.
"""

import dataclasses
from pathlib import Path

from chargeops.devcluster import pki, ports

SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"

# The range envtest uses; the API server takes the first address for the ``kubernetes`` Service.
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"


@dataclasses.dataclass(frozen=True)
class EtcdConfig:
    """Where one etcd member keeps data and listens."""

    data_dir: Path
    client_port: int
    peer_port: int

    @property
    def client_url(self) -> str:
        return f"http://{ports.LOOPBACK}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://{ports.LOOPBACK}:{self.peer_port}"


@dataclasses.dataclass(frozen=True)
class ApiServerConfig:
    """What kube-apiserver needs: its storage, port, keys and static users."""

    etcd_url: str
    secure_port: int
    pki: pki.ClusterPki
    token_file: Path

    @property
    def server_url(self) -> str:
        return f"https://{ports.LOOPBACK}:{self.secure_port}"


def etcd_command(binary: Path, config: EtcdConfig) -> list[str]:
    """A single-member etcd on loopback."""
    return [
        str(binary),
        "--name=chargeops-dev",
        f"--data-dir={config.data_dir}",
        f"--listen-client-urls={config.client_url}",
        f"--advertise-client-urls={config.client_url}",
        f"--listen-peer-urls={config.peer_url}",
        f"--initial-advertise-peer-urls={config.peer_url}",
        f"--initial-cluster=chargeops-dev={config.peer_url}",
        # The data lives only as long as the cluster, so it need not survive a power cut; without
        # fsync every write returns without waiting for the disk.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]


def apiserver_command(binary: Path, config: ApiServerConfig) -> list[str]:
    """kube-apiserver serving TLS on loopback, with RBAC, static tokens and service-account tokens."""
    return [
        str(binary),
        f"--etcd-servers={config.etcd_url}",
        f"--bind-address={ports.LOOPBACK}",
        # Otherwise it advertises the host's first interface, which a loopback-only cluster can't serve.
        f"--advertise-address={ports.LOOPBACK}",
        # The ``kubernetes`` Service's endpoints may not be loopback addresses, and the API server
        # refuses to start if asked to reconcile them; no Pod runs here to need them anyway.
        "--endpoint-reconciler-type=none",
        f"--secure-port={config.secure_port}",
        f"--tls-cert-file={config.pki.serving_cert}",
        f"--tls-private-key-file={config.pki.serving_key}",
        # Only used if a certificate were missing; keeps the server away from /var/run/kubernetes.
        f"--cert-dir={config.pki.ca_cert.parent}",
        "--authorization-mode=Node,RBAC",
        f"--token-auth-file={config.token_file}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={config.pki.service_account_public_key}",
        f"--service-account-signing-key-file={config.pki.service_account_key}",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        "--profiling=false",
    ]
