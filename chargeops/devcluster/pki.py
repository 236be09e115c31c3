"""The cluster's keys: a CA, the API server's serving certificate, and the service-account signing key.

``controlplane`` calls ``write_cluster_pki`` once per cluster, before starting kube-apiserver. We issue
the serving certificate ourselves, rather than letting kube-apiserver self-sign into ``--cert-dir``, so
the CA is known before the server starts and every kubeconfig verifies TLS. The service-account key is
what ``--service-account-signing-key-file`` needs for TokenRequest (``kubectl create token``).

All keys are fresh per cluster and live in its temporary folder; nothing here is meant to be trusted
beyond one test session.
"""

import dataclasses
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Long enough for any dev session, short enough that a leaked test CA is soon worthless.
_VALIDITY = datetime.timedelta(days=7)

# Certificates are dated a little in the past, so a clock that differs by a few minutes between the
# process writing them and the one checking them does not reject a brand-new certificate.
_BACKDATE = datetime.timedelta(hours=1)

# RSA because every JWT verifier accepts RS256; 2048 bits is the Kubernetes default for SA keys.
_SA_KEY_BITS = 2048


@dataclasses.dataclass(frozen=True)
class ClusterPki:
    """Paths of the PEM files one cluster uses."""

    ca_cert: Path
    """The CA that signed the serving certificate; kubeconfigs embed it to verify the server."""

    serving_cert: Path
    serving_key: Path
    service_account_key: Path
    """RSA private key that signs service-account tokens (``--service-account-signing-key-file``)."""

    service_account_public_key: Path
    """Its public half, which verifies them (``--service-account-key-file``)."""


def write_cluster_pki(directory: Path, *, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> ClusterPki:
    """Create a CA, a serving certificate for ``hosts`` and a service-account key pair in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chargeops-dev-ca")])
    ca_cert = (
        _certificate_builder(subject=ca_name, issuer=ca_name, public_key=ca_key.public_key(), now=now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    serving_key = ec.generate_private_key(ec.SECP256R1())
    serving_cert = (
        _certificate_builder(
            subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
            issuer=ca_name,
            public_key=serving_key.public_key(),
            now=now,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(host) for host in hosts]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=_SA_KEY_BITS)

    pki = ClusterPki(
        ca_cert=directory / "ca.crt",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        service_account_key=directory / "sa.key",
        service_account_public_key=directory / "sa.pub",
    )
    pki.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.serving_cert.write_bytes(serving_cert.public_bytes(serialization.Encoding.PEM))
    _write_private(pki.serving_key, _private_pem(serving_key))
    _write_private(pki.service_account_key, _private_pem(sa_key))
    pki.service_account_public_key.write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return pki


def _certificate_builder(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + _VALIDITY)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    """An IP SAN for an address, a DNS SAN for a name: TLS clients match them separately."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by its owner only."""
    path.touch(mode=0o600, exist_ok=True)
    path.write_bytes(data)
