"""The lab's certificates: one CA, one serving certificate for every local server, client certs.

Everything listens on 127.0.0.1, so one serving certificate (with the in-cluster
service names Karmada's aggregator dials) covers every API server and webhook.
Files are written once and reused, so a second ``up`` changes nothing.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVING_DNS = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "karmada-aggregated-apiserver.karmada-system.svc",
    "karmada-webhook.karmada-system.svc",
]


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(path: Path, key) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _write_cert(path: Path, cert) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _name(cn: str, orgs=()):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    return x509.Name(attrs)


def _builder(subject, issuer, pub):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(pub)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=3650)))


def ensure(pki: Path) -> dict:
    """Create (once) and return the paths of the lab's PKI files."""
    pki.mkdir(parents=True, exist_ok=True)
    files = {
        "ca_crt": pki / "ca.crt", "ca_key": pki / "ca.key",
        "serving_crt": pki / "serving.crt", "serving_key": pki / "serving.key",
        "admin_crt": pki / "admin.crt", "admin_key": pki / "admin.key",
        "front_proxy_crt": pki / "front-proxy-client.crt", "front_proxy_key": pki / "front-proxy-client.key",
        "sa_key": pki / "sa.key", "sa_pub": pki / "sa.pub",
    }
    if all(p.exists() for p in files.values()):
        return {k: str(v) for k, v in files.items()}

    ca_key = _key()
    ca_name = _name("multicluster-canary-lab-ca")
    ca = (_builder(ca_name, ca_name, ca_key.public_key())
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    _write_key(files["ca_key"], ca_key)
    _write_cert(files["ca_crt"], ca)

    def issue(crt, key_path, cn, orgs=(), server=False):
        key = _key()
        b = _builder(_name(cn, orgs), ca_name, key.public_key()).add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True)
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
        if server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(d) for d in SERVING_DNS] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
        b = b.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        _write_key(key_path, key)
        _write_cert(crt, b.sign(ca_key, hashes.SHA256()))

    issue(files["serving_crt"], files["serving_key"], "127.0.0.1", server=True)
    issue(files["admin_crt"], files["admin_key"], "system:admin", orgs=("system:masters",))
    issue(files["front_proxy_crt"], files["front_proxy_key"], "front-proxy-client")

    sa = _key()
    _write_key(files["sa_key"], sa)
    files["sa_pub"].write_bytes(sa.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo))
    return {k: str(v) for k, v in files.items()}
