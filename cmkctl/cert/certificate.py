"""``cmkctl cert``: the key pair and self-signed certificate the credential store needs.

Does what the credential-store document's two OpenSSL commands do, with ``cryptography``:
an RSA-2048 private key and a self-signed certificate together in ``my-certificate.pem``
(the file the server signs in with), the certificate alone as DER in ``azure-cert.cer``
(uploaded to the app registration, and what ``appCertificateFile`` names), and the
certificate alone as PEM in ``azure-cert.pem`` for tools that want PEM. Only the first file
holds the private key; it is written owner-only (0600).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cmkctl.atomic_file import write_atomically
from components.config.setups import MAX_CERTIFICATE_BYTES

KEY_SIZE = 2048
"""What the document's ``openssl req -newkey rsa:2048`` creates."""
SERVER_FILE = "my-certificate.pem"
UPLOAD_DER = "azure-cert.cer"
UPLOAD_PEM = "azure-cert.pem"
MAX_DAYS = 3650


class CertError(Exception):
    """Bad arguments; the message names the argument and the fix."""


class OverwriteRefusedError(Exception):
    """A file to write exists and ``--force`` was not given; nothing was written."""


@dataclass(frozen=True)
class Written:
    """Where each file went and what identifies the certificate."""

    server_file: Path
    upload_der: Path
    upload_pem: Path
    thumbprint: str
    """SHA-1 thumbprint in upper-case hex, as the app registration lists it."""
    not_after: datetime


def subject_name(subject: str) -> x509.Name:
    try:
        name = x509.Name.from_rfc4514_string(subject)
    except ValueError as error:
        raise CertError(f"--subject {subject!r} is not an RFC 4514 name ({error}); "
                        "use e.g. --subject CN=credential-store") from None
    if not list(name):
        raise CertError("--subject is empty; use e.g. --subject CN=credential-store")
    return name


def create(out_dir: Path, subject: str, days: int, force: bool,
           now: datetime | None = None) -> Written:
    """Write the three files; refuse to replace any of them unless ``force``."""
    if not 1 <= days <= MAX_DAYS:
        raise CertError(f"--days {days} is outside 1-{MAX_DAYS}; the document uses 365")
    name = subject_name(subject)
    if out_dir.exists() and not out_dir.is_dir():
        raise CertError(f"--out-dir {out_dir} is not a directory")
    paths = (out_dir / SERVER_FILE, out_dir / UPLOAD_DER, out_dir / UPLOAD_PEM)
    links = [str(p) for p in paths if p.is_symlink()]
    if links:
        raise CertError(f"{', '.join(links)}: a symbolic link, not a file; refusing to replace "
                        "it. Remove the link or choose another --out-dir")
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise OverwriteRefusedError(f"{', '.join(existing)} already exist; nothing was written. "
                              "Pass --force to replace them (the old key stops working "
                              "once the app's certificate is replaced)")
    start = (now or datetime.now(UTC)).replace(microsecond=0)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True,
                                     content_commitment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    for label, data in (("DER", der), ("PEM", pem)):
        if len(data) >= MAX_CERTIFICATE_BYTES:
            raise CertError(f"the {label} certificate has {len(data)} bytes, over the upload "
                            f"limit of {MAX_CERTIFICATE_BYTES}; use a shorter --subject")
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    out_dir.mkdir(parents=True, exist_ok=True)
    # A new file each, moved into place: a process holding the old key file keeps the old
    # key, and no reader sees a half-written or world-readable key.
    write_atomically(paths[0], private + pem, 0o600, replace=force)
    write_atomically(paths[1], der, 0o644, replace=force)
    write_atomically(paths[2], pem, 0o644, replace=force)
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()  # Entra lists SHA-1
    return Written(*paths, thumbprint, cert.not_valid_after_utc)


def run(out_dir: str, subject: str, days: int, force: bool,
        stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Exit 0 when written, 1 when a file exists (no --force), 2 for bad arguments."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        written = create(Path(out_dir), subject, days, force)
    except OverwriteRefusedError as error:
        print(f"cmkctl cert: {error}", file=stderr)
        return 1
    except CertError as error:
        print(f"cmkctl cert: {error}", file=stderr)
        return 2
    except OSError as error:
        print(f"cmkctl cert: cannot write to {out_dir}: {error.strerror or error}", file=stderr)
        return 2
    print(f"private key + certificate (server, keep secret, 0600): {written.server_file}",
          file=stdout)
    print(f"certificate DER (upload; appCertificateFile):         {written.upload_der}",
          file=stdout)
    print(f"certificate PEM (upload, for tools that want PEM):    {written.upload_pem}",
          file=stdout)
    print(f"thumbprint (SHA-1): {written.thumbprint}", file=stdout)
    print(f"expires: {written.not_after:%Y-%m-%dT%H:%M:%SZ}", file=stdout)
    return 0
