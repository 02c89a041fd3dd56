"""A TLS server on 127.0.0.1 with a throwaway self-signed certificate, and an SDK transport to it.

The Azure SDK sends bearer tokens only over https, so the fake speaks TLS. The transport
keeps the SDK's view of the URL (``<vault>.vault.azure.net``, ``management.azure.com``) for
challenge validation and paging, sends the bytes to 127.0.0.1 and carries the real host in
the ``Host`` header, which is how the fake tells vaults and Resource Manager apart.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from azure.core.pipeline.transport import RequestsTransport
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Answer = tuple[int, dict[str, str], bytes]
Handle = Callable[[str, str, str, dict[str, str], bytes], Answer]
LOOPBACK = "127.0.0.1"


def write_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for IP 127.0.0.1 (and its key) in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopback fake of Azure")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "loopback.pem", directory / "loopback.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, payload = self.server.handle(
            self.command, headers.get("host", ""), self.path, headers, body)
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **extra}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer  # noqa: N815 - stdlib names

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handle: Handle) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.handle = handle


class LoopbackServer:
    """Serves ``handle`` over TLS on 127.0.0.1 in a background thread."""

    def __init__(self, handle: Handle, cert: Path, key: Path) -> None:
        self._server = _Server(handle)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.cafile = cert
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def transport(self) -> LoopbackTransport:
        return LoopbackTransport(self.port, str(self.cafile))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class LoopbackTransport(RequestsTransport):
    """The SDK's own requests transport, pointed at the loopback server."""

    def __init__(self, port: int, cafile: str) -> None:
        super().__init__(connection_verify=cafile, connection_timeout=5, read_timeout=10)
        self._port = port

    def send(self, request: Any, **kwargs: Any) -> Any:
        original = request.url
        parts = urlsplit(original)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"{LOOPBACK}:{self._port}"))
        try:
            return super().send(request, **kwargs)
        finally:
            request.url = original
            del request.headers["Host"]
