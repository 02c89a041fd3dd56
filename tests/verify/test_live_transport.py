"""What reaches the user when something other than Azure answers, or nothing does.

Each case is staged on loopback: an HTML page from a proxy or a route that does not exist, a
server certificate the client does not trust, a port nobody listens on. The wording for a
failed DNS lookup is checked on the exception chain the SDK builds (no lookup is made).
"""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError

from cmkctl.live.azure import Azure, UnreachableError, unreachable
from cmkctl.live.key_ops import Request as KeyRequest
from cmkctl.live.key_ops import run as key_run
from cmkctl.live.verify import Request, run
from tests.verify.conftest import ENV, KEY, KEY_URI, VAULT_ID, StaticCredential
from tests.verify.fake_cloud import Cloud
from tests.verify.loopback_tls import LoopbackServer, LoopbackTransport

PAGE = (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not "
        b"Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


def checks(connector: Any) -> tuple[int, dict[str, tuple[str, str, str]]]:
    out = io.StringIO()
    code = run(Request(stack=None, key_uri=KEY_URI, vault_id=VAULT_ID, format="json"),
               stdout=out, stderr=io.StringIO(), environ=ENV, connector=connector)
    return code, {c["id"]: (c["status"], c["reason"], c["fix"])
                  for c in json.loads(out.getvalue())["checks"]}


def test_an_html_404_on_the_rotation_policy_is_not_a_missing_policy(connector: Any,
                                                                    cloud: Cloud) -> None:
    cloud.pages[f"/keys/{KEY}/rotationpolicy"] = (404, "text/html", PAGE)
    _, found = checks(connector)
    assert found["key[cmk].rotation-policy"] == (
        "could-not-check",
        "404 while reading the rotation policy, and the body is not an Azure error (text/html): "
        "<html> <head><title>404 Not Found</title></head> <body> <center><h1>404 Not Found</h1>"
        "</center> <hr><center>nginx</cente...",
        "something other than Azure answered: check the proxy, private-endpoint DNS and the "
        "vault or resource name")


def test_a_non_json_error_body_gives_status_and_excerpt(connector: Any, cloud: Cloud) -> None:
    cloud.pages[f"/keys/{KEY}/versions"] = (502, "text/plain", b"Bad gateway\n(upstream reset)")
    _, found = checks(connector)
    status, reason, _ = found["key[cmk].exists"]
    assert (status, reason) == (
        "could-not-check", "502 while listing the key's versions, and the body is not an Azure "
        "error (text/plain): Bad gateway (upstream reset)")
    assert "JSON is invalid" not in reason


def test_an_untrusted_certificate_says_how_to_trust_a_ca(cloud: Cloud,
                                                         server: LoopbackServer) -> None:
    def connect(kind: str, target: Any) -> Azure:
        del kind, target
        # The system trust store, which does not hold the fake's self-signed certificate: as a
        # TLS-inspecting proxy looks to a machine that was not given its CA.
        return Azure(StaticCredential(cloud), transport=lambda: _SystemTrust(server.port))

    code, found = checks(connect)
    status, reason, fix = found["vault.soft-delete"]
    assert (code, status) == (1, "could-not-check")
    assert reason.startswith("TLS certificate problem while reading the vault: the server's "
                             "certificate is not trusted (self-signed certificate")
    assert fix.startswith("if a proxy or firewall inspects TLS, add its CA certificate to a "
                          "bundle and point REQUESTS_CA_BUNDLE at it")


class _SystemTrust(LoopbackTransport):
    def __init__(self, port: int) -> None:
        super().__init__(port, "")
        self.connection_config.verify = True


def test_dns_failure_reads_as_cannot_reach_the_host() -> None:
    try:
        try:
            raise socket.gaierror(-3, "Temporary failure in name resolution")
        except socket.gaierror as cause:
            raise ServiceRequestError(
                "<urllib3.connection.HTTPSConnection object>: Failed to resolve "
                "'kvcustomer1.vault.azure.net' ([Errno -3] Temporary failure in name "
                "resolution)", error=cause) from cause
    except ServiceRequestError as error:
        found = unreachable(error)
    assert isinstance(found, UnreachableError)
    assert str(found) == ("cannot reach Azure: DNS lookup failed; check the network, DNS and "
                          "proxy (HTTPS_PROXY) from this machine")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_key_operation_without_network_fails_in_one_audited_line(
        cloud: Cloud, certificate: tuple[Path, Path]) -> None:
    port = closed_port()

    def connect(kind: str, suffix: str) -> Azure:
        del kind, suffix
        return Azure(StaticCredential(cloud),
                     transport=lambda: LoopbackTransport(port, str(certificate[0])))

    out, err = io.StringIO(), io.StringIO()
    code = key_run(KeyRequest("rotate", key_uri=KEY_URI), stdout=out, stderr=err, environ=ENV,
                   connector=connect)
    assert code == 1
    assert err.getvalue() == ("cmkctl key rotate: cannot reach 127.0.0.1: connection refused; "
                              "check the network, DNS and proxy (HTTPS_PROXY) from this machine\n")
    line = json.loads(out.getvalue())
    assert (line["outcome"], line["after"]) == ("failed", None)


def test_the_guard_stops_any_lookup_or_connection_off_loopback() -> None:
    with pytest.raises(AssertionError, match=r"a test tried to look up 'management\.azure\.com'"):
        socket.getaddrinfo("management.azure.com", 443)
    with socket.socket() as sock, pytest.raises(AssertionError,
                                                match=r"a test tried to connect to \('169.254"):
        sock.connect(("169.254.169.254", 80))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_each_step_and_a_pipe_sees_none(connector: Any, cloud: Cloud) -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        run(Request(stack=None, key_uri=KEY_URI, vault_id=VAULT_ID, format="json"),
            stdout=io.StringIO(), stderr=stream, environ=ENV, connector=connector)
    assert terminal.getvalue().split("\r\x1b[K") == [
        "", "cmkctl: reading vault kvcustomer1...", "cmkctl: reading locks...",
        "cmkctl: reading the provider app's grant...",
        "cmkctl: checking the keys (versions, rotation policy, round trip)...", ""]
    assert pipe.getvalue() == ""
