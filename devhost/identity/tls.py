"""A local certificate authority and a server certificate for 127.0.0.1, so the identity service speaks https.

MSAL, which botbuilder uses to get the bot's tokens, accepts only an https authority (``msal.authority.canonicalize``).
The devhost never turns a TLS check off: it makes a CA once per data directory, signs a certificate for the loopback
names with it, and its processes trust the CA through the environment (``REQUESTS_CA_BUNDLE`` for requests, which
MSAL and botbuilder's key fetches use; ``SSL_CERT_FILE`` for Python's default context, which aiohttp uses). The
bundle they trust is the system's public CAs plus this one, so nothing else a process talks to stops verifying.
"""

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "devhost local CA"
CA_DAYS = 3650
SERVER_DAYS = 825  # the longest lifetime clients accept for a server certificate
LOOPBACK_NAMES = ("localhost",)
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class LocalTls:
    """The files of one data directory's CA: ``bundle`` is what clients trust, ``cert``/``key`` what servers present."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def bundle(self) -> Path:
        return self.directory / "trusted-cas.pem"

    @property
    def cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def key(self) -> Path:
        return self.directory / "server-key.pem"

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_environment(self) -> dict[str, str]:
        """What a process's environment needs to trust the local CA (with the public ones)."""
        return {"REQUESTS_CA_BUNDLE": str(self.bundle), "SSL_CERT_FILE": str(self.bundle)}


def _write(path: Path, data: bytes, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_or_create(directory: Path) -> LocalTls:
    """The CA and server certificate kept in ``directory``, made on first use (private keys mode 0600)."""
    tls = LocalTls(directory)
    if all(path.exists() for path in (tls.ca, tls.bundle, tls.cert, tls.key)):
        return tls
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in LOOPBACK_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in LOOPBACK_ADDRESSES]
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    # The CA's own key is not kept: nothing is ever signed with it again (a new data dir makes a new CA).
    _write(tls.key, server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()), private=True)
    _write(tls.cert, server.public_bytes(serialization.Encoding.PEM), private=False)
    _write(tls.ca, ca_pem, private=False)
    _write(tls.bundle, Path(certifi.where()).read_bytes() + b"\n" + ca_pem, private=False)
    return tls
