"""A private CA and per-service certificates for the local stack and the tests (production
certificates come from a Secret, e.g. issued by cert-manager; README.md "Security").

Each service's certificate names it with the URI SAN ``spiffe://switchyard/<service>`` (its
identity to its peers) and carries loopback and the given DNS names (its address to its clients),
for both server and client authentication."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from switchyard_common.grpc_tls import TlsFiles

TRUST_DOMAIN = "switchyard"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str = "switchyard local CA", days: int = 3650) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @classmethod
    def load(cls, directory: Path) -> Authority:
        key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(key, x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes()))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "ca.crt").write_bytes(self.ca_pem)
        path = directory / "ca.key"
        path.touch(mode=0o600)
        path.write_bytes(_key_pem(self.key))

    @property
    def ca_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        service: str,
        *,
        dns_names: Iterable[str] = (),
        days: int = 365,
        trust_domain: str = TRUST_DOMAIN,
    ) -> tuple[bytes, bytes]:
        """(certificate PEM, private key PEM) naming ``service``."""
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [
            x509.UniformResourceIdentifier(f"spiffe://{trust_domain}/{service}"),
            x509.DNSName("localhost"),
            *(x509.DNSName(n) for n in dns_names),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, service)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)

    def write(
        self,
        service: str,
        directory: Path,
        *,
        dns_names: Iterable[str] = (),
        days: int = 365,
        trust_domain: str = TRUST_DOMAIN,
    ) -> TlsFiles:
        """Issue a certificate for ``service`` into ``directory`` as tls.crt, tls.key and
        ca.crt (the layout of a cert-manager Secret); replaces earlier files atomically."""
        cert, key = self.issue(service, dns_names=dns_names, days=days, trust_domain=trust_domain)
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in (("tls.key", key), ("tls.crt", cert), ("ca.crt", self.ca_pem)):
            tmp = directory / f".{name}.tmp"
            tmp.touch(mode=0o600)
            tmp.write_bytes(data)
            tmp.replace(directory / name)
        return files_in(directory)


def files_in(directory: Path) -> TlsFiles:
    return TlsFiles(directory / "tls.crt", directory / "tls.key", directory / "ca.crt", TRUST_DOMAIN)
