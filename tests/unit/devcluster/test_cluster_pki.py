"""The cluster PKI: a serving certificate for loopback signed by a fresh CA, and an RSA SA key pair."""

import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chargeops.devcluster import pki


def test_serving_certificate_is_issued_by_the_ca_for_loopback(tmp_path: Path) -> None:
    files = pki.write_cluster_pki(tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    serving = x509.load_pem_x509_certificate(files.serving_cert.read_bytes())

    serving.verify_directly_issued_by(ca)
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_service_account_keys_are_one_rsa_pair(tmp_path: Path) -> None:
    files = pki.write_cluster_pki(tmp_path)
    private = serialization.load_pem_private_key(files.service_account_key.read_bytes(), password=None)
    public = serialization.load_pem_public_key(files.service_account_public_key.read_bytes())

    assert isinstance(private, rsa.RSAPrivateKey)
    assert isinstance(public, rsa.RSAPublicKey)
    assert private.public_key().public_numbers() == public.public_numbers()


def test_every_cluster_gets_new_keys(tmp_path: Path) -> None:
    first = pki.write_cluster_pki(tmp_path / "one")
    second = pki.write_cluster_pki(tmp_path / "two")

    assert first.ca_cert.read_bytes() != second.ca_cert.read_bytes()
    assert first.service_account_key.read_bytes() != second.service_account_key.read_bytes()


def test_private_keys_are_readable_only_by_their_owner(tmp_path: Path) -> None:
    files = pki.write_cluster_pki(tmp_path)

    for key in (files.serving_key, files.service_account_key):
        assert key.stat().st_mode & 0o077 == 0
