"""Azure SDK clients for verify and backup-key, and plain-language reasons for their errors.

Every client is built here so the credential, the cloud's ARM endpoint and (in tests) the
HTTP transport are chosen in one place. Errors become a reason and an exact fix: a 403 names
the missing permission or the firewall, never a stack trace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cmkctl.live.report import Status
from policies.clouds import CLOUDS, PUBLIC, Cloud

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.pipeline.transport import HttpTransport
    from azure.keyvault.keys import KeyClient
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.resource.locks import ManagementLockClient
    from azure.mgmt.sql import SqlManagementClient
    from azure.mgmt.storage import StorageManagementClient

def cloud_of(vault_suffix: str) -> Cloud:
    """The cloud whose vaults (or managed HSMs) have ``vault_suffix`` (key URIs are parsed
    only for these suffixes, so one always matches)."""
    return next(c for c in CLOUDS.values()
                if vault_suffix in (c.vault_suffix, c.managed_hsm_suffix))


def connect(kind: str, vault_suffix: str, environ: Mapping[str, str]) -> Azure:
    """The one place a live command turns a credential type and a cloud into clients.

    verify, backup-key and every ``key`` command come through here: the credential signs in
    at the Entra authority of the vault's cloud and the clients call that cloud's Resource
    Manager (``policies/clouds.py``, the table the stack's ``azureEnvironment`` names), never
    the public cloud's for a sovereign vault.
    """
    from cmkctl.live.auth import credential  # noqa: PLC0415 - auth builds azure-identity types

    cloud = cloud_of(vault_suffix)
    return Azure(credential(kind, environ, cloud.authority_host), cloud.arm_endpoint)


TransportFactory = Callable[[], "HttpTransport[Any, Any]"]


@dataclass(frozen=True)
class Azure:
    """How to reach Azure: one credential, one cloud, optionally a test transport."""

    credential: TokenCredential
    arm: str = PUBLIC.arm_endpoint
    transport: TransportFactory | None = None
    """Tests plug in a transport that sends to the loopback fake; None is the SDK default."""

    def _options(self) -> dict[str, Any]:
        if self.transport is not None:
            return {"retry_total": 1, "transport": self.transport()}
        # Bounded waits: a firewall that drops packets must not hang verify (the SDK's
        # default connection timeout is 300 s).
        return {"retry_total": 1, "connection_timeout": 10, "read_timeout": 60}

    def keys(self, vault_url: str) -> KeyClient:
        from azure.keyvault.keys import KeyClient  # noqa: PLC0415 - heavy, loaded on use

        return KeyClient(vault_url, self.credential, **self._options())

    def _arm(self) -> dict[str, Any]:
        return {"base_url": self.arm, "credential_scopes": [f"{self.arm}/.default"],
                **self._options()}

    def vaults(self, subscription: str) -> KeyVaultManagementClient:
        from azure.mgmt.keyvault import KeyVaultManagementClient  # noqa: PLC0415

        return KeyVaultManagementClient(self.credential, subscription, **self._arm())

    def locks(self, subscription: str) -> ManagementLockClient:
        from azure.mgmt.resource.locks import ManagementLockClient  # noqa: PLC0415

        return ManagementLockClient(self.credential, subscription, **self._arm())

    def authorization(self, subscription: str) -> AuthorizationManagementClient:
        from azure.mgmt.authorization import AuthorizationManagementClient  # noqa: PLC0415

        return AuthorizationManagementClient(self.credential, subscription, **self._arm())

    def storage(self, subscription: str) -> StorageManagementClient:
        from azure.mgmt.storage import StorageManagementClient  # noqa: PLC0415

        return StorageManagementClient(self.credential, subscription, **self._arm())

    def sql(self, subscription: str) -> SqlManagementClient:
        from azure.mgmt.sql import SqlManagementClient  # noqa: PLC0415

        return SqlManagementClient(self.credential, subscription, **self._arm())

    def compute(self, subscription: str) -> ComputeManagementClient:
        from azure.mgmt.compute import ComputeManagementClient  # noqa: PLC0415

        return ComputeManagementClient(self.credential, subscription, **self._arm())

    def identities(self, subscription: str) -> ManagedServiceIdentityClient:
        from azure.mgmt.msi import ManagedServiceIdentityClient  # noqa: PLC0415

        return ManagedServiceIdentityClient(self.credential, subscription, **self._arm())


@dataclass(frozen=True)
class Failure:
    """Why a call failed, as a report line: status, reason and the fix."""

    status: Status
    reason: str
    fix: str


class UnreachableError(Exception):
    """The first host could not be reached at all (DNS, refused connection): every further call
    would fail the same way, so the command stops with one line."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(f"cannot reach {host}: {detail}; check the network, DNS and proxy "
                         "(HTTPS_PROXY) from this machine")


_UNREACHABLE = (
    ("Temporary failure in name resolution", "DNS lookup failed"),
    ("Name or service not known", "DNS lookup failed"),
    ("nodename nor servname provided", "DNS lookup failed"),
    ("getaddrinfo failed", "DNS lookup failed"),
    ("Failed to resolve", "DNS lookup failed"),
    ("No address associated with hostname", "DNS lookup failed"),
    ("Connection refused", "connection refused"),
    ("Network is unreachable", "network unreachable"),
)
"""How the resolver, the kernel and urllib3 word "this host cannot be reached" (the messages
socket.gaierror, ConnectionRefusedError and urllib3's NameResolutionError carry)."""
_HOST = re.compile(r"host='([^']+)'")


def _chain(error: BaseException) -> list[BaseException]:
    """The error, its causes and the SDK's wrapped inner exceptions, outermost first."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        pending += [getattr(current, "inner_exception", None), current.__cause__,
                    current.__context__]
    return seen


def unreachable(error: BaseException) -> UnreachableError | None:
    """An UnreachableError when ``error`` says the host could not be reached at all."""
    text = " ".join(str(e) for e in _chain(error))
    for marker, detail in _UNREACHABLE:
        if marker in text:
            host = _HOST.search(text)
            return UnreachableError(host.group(1) if host else "Azure", detail)
    return None


def _certificate_problem(error: BaseException) -> str | None:
    """The verification failure when TLS did not trust the server's certificate."""
    import ssl  # noqa: PLC0415

    for link in _chain(error):
        if isinstance(link, ssl.SSLCertVerificationError):
            return str(link.verify_message or link)
    text = " ".join(str(e) for e in _chain(error))
    found = re.search(r"CERTIFICATE_VERIFY_FAILED\]? ?([^(')\]]*)", text)
    return (found.group(1).strip(" :") or "certificate verify failed") if found else None


def _excerpt(text: str, limit: int = 120) -> str:
    """A short single-line excerpt of a response body that is not JSON (an HTML page)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def error_code(error: Exception) -> tuple[int | None, str, str, str]:
    """(HTTP status, code, inner code, first message line) of an Azure error response."""
    response = getattr(error, "response", None)
    status = getattr(error, "status_code", None)
    body: Any = {}
    if response is not None:
        try:
            body = json.loads(response.text() or "{}")
        except (ValueError, TypeError):
            body = {}
    detail = body.get("error", {}) if isinstance(body, dict) else {}
    detail = detail if isinstance(detail, dict) else {}
    inner = detail.get("innererror") or {}
    message = str(detail.get("message") or getattr(error, "message", "") or error)
    return (status, str(detail.get("code") or ""),
            str(inner.get("code") or "") if isinstance(inner, dict) else "", message)


def explain(error: Exception, doing: str, vault: str) -> Failure:
    """Reason and fix for ``error`` raised while ``doing`` something with ``vault``."""
    from azure.core.exceptions import (  # noqa: PLC0415
        ClientAuthenticationError,
        ServiceRequestError,
    )

    lost = unreachable(error)
    if lost is not None:
        raise lost from None
    certificate = _certificate_problem(error)
    if certificate is not None:
        return Failure(Status.COULD_NOT_CHECK,
                       f"TLS certificate problem while {doing}: the server's certificate is not "
                       f"trusted ({certificate})",
                       "if a proxy or firewall inspects TLS, add its CA certificate to a bundle "
                       "and point REQUESTS_CA_BUNDLE at it (export REQUESTS_CA_BUNDLE=/path/to/"
                       "ca-bundle.pem); otherwise check the system clock and the CA store")
    status, code, inner, message = error_code(error)
    first = message.splitlines()[0][:300] if message else type(error).__name__
    if isinstance(error, ServiceRequestError):
        return Failure(Status.COULD_NOT_CHECK, f"could not reach Azure while {doing}: {first}",
                       "check DNS, proxy and private-endpoint resolution from this machine")
    foreign = _not_azure(error, status, doing)
    if foreign is not None:
        return foreign
    if status is None and isinstance(error, ClientAuthenticationError):
        return Failure(Status.COULD_NOT_CHECK, f"the credential could not get a token: {first}",
                       "sign in again (az login, or the variables of the chosen --auth type)")
    if status == 401:
        return Failure(Status.COULD_NOT_CHECK, f"401 while {doing}: the token was refused",
                       "sign in to the tenant that owns the vault")
    if status == 403:
        return _forbidden(code, inner, message, first, doing, vault)
    label = f"{status} {code}".strip() if status else type(error).__name__
    return Failure(Status.COULD_NOT_CHECK, f"{label} while {doing}: {first}",
                   "retry; if it persists, check the resource exists and Azure's status")


def _not_azure(error: Exception, status: int | None, doing: str) -> Failure | None:
    """An error whose body is not Azure's JSON: a proxy, a captive portal or a wrong host
    answered. Report the status and what came back instead of a JSON parser's complaint."""
    response = getattr(error, "response", None)
    if response is None or status is None:
        return None
    try:
        text = response.text() or ""
    except (ValueError, UnicodeDecodeError):
        text = ""
    try:
        json.loads(text or "{}")
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        return Failure(Status.COULD_NOT_CHECK,
                       f"{status} while {doing}, and the body is not an Azure error ({kind}): "
                       f"{_excerpt(text)}",
                       "something other than Azure answered: check the proxy, private-endpoint "
                       "DNS and the vault or resource name")
    return None


def quiet_sdk_logs() -> None:
    """The SDK and azure-identity log warnings to stderr when no logging is set up; the
    commands report every failure themselves, once."""
    import logging  # noqa: PLC0415

    logging.getLogger("azure").setLevel(logging.CRITICAL)


def _forbidden(code: str, inner: str, message: str, first: str, doing: str,
               vault: str) -> Failure:
    if inner == "ForbiddenByFirewall":
        address = re.search(r"Client address: ([0-9a-fA-F.:]+)", message)
        where = f" ({address.group(1)})" if address else ""
        return Failure(
            Status.COULD_NOT_CHECK,
            f"403 firewall denial while {doing}: this machine's address{where} is not allowed "
            "by the vault firewall",
            f"run cmkctl from an allowed network, or allow this address: az keyvault network-rule "
            f"add --name {vault} --ip-address <your public IP>/32 (keep defaultAction Deny and "
            "bypass AzureServices for the consuming services)")
    if inner == "ForbiddenByRbac":
        action = re.search(r"Action: '([^']+)'", message)
        missing = action.group(1) if action else "the data action"
        return Failure(
            Status.COULD_NOT_CHECK,
            f"403 while {doing}: the identity running cmkctl lacks {missing} (Azure RBAC)",
            f"assign that identity a role carrying {missing} on the vault or key (Key Vault Crypto "
            "User for verify's round trip, Key Vault Reader for metadata, Key Vault Crypto "
            "Officer for cmkctl key operations), or run verify as the provider app")
    if inner == "ForbiddenByPolicy":
        operation = re.search(r'Operation: "?([A-Za-z]+)', message)
        missing = operation.group(1) if operation else "the operation"
        return Failure(
            Status.COULD_NOT_CHECK,
            f"403 while {doing}: the vault's access policy does not grant keys {missing} to the "
            "identity running cmkctl",
            f"az keyvault set-policy --name {vault} --object-id <object id of that identity> "
            "--key-permissions get list wrapKey unwrapKey")
    if code == "AuthorizationFailed":
        action = re.search(r"perform action '([^']+)'", message)
        missing = action.group(1) if action else "the action"
        return Failure(
            Status.COULD_NOT_CHECK,
            f"403 while {doing}: the identity running cmkctl may not {missing}",
            f"assign it Reader (or a role carrying {missing}) on the vault's resource group")
    return Failure(Status.COULD_NOT_CHECK, f"403 {inner or code} while {doing}: {first}",
                   "grant the identity running cmkctl read access to the vault")
