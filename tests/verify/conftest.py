"""Fixtures for verify and backup-key: a loopback fake of Azure and a fixed test credential.

Every test here runs with a guard that fails any socket connection to an address other
than the loopback one, and any name lookup other than the loopback's, so neither the commands
nor the SDK can reach a real endpoint or resolver (the instance-metadata address included).
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from cmkctl.live.azure import Azure
from cmkctl.live.key_ops import Request, run
from tests.verify.fake_cloud import (
    CRYPTO_SERVICE_ENCRYPTION_USER,
    DAY,
    TOKEN,
    Cloud,
    Key,
    Vault,
    Version,
    now,
    rsa_key,
)
from tests.verify.loopback_tls import LoopbackServer, write_certificate

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
GROUP = "rg-cmk"
VAULT = "kvcustomer1"
KEY = "cmk"
PRINCIPAL = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
OLD_VERSION = "0" * 31 + "1"
CURRENT_VERSION = "f" * 31 + "2"
VAULT_ID = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/"
            f"Microsoft.KeyVault/vaults/{VAULT}")
KEY_ID = f"{VAULT_ID}/keys/{KEY}"
KEY_URI = f"https://{VAULT}.vault.azure.net/keys/{KEY}"
LOOPBACK = ("127.0.0.1", "::1")
ENV = {"CMKCTL_AUTH": "managed-identity"}
"""The environment every command here runs with: the test credential, never a real one."""


def key_op(connector: Any, operation: str, **options: Any) -> tuple[int, str, str]:
    """``cmkctl key <operation>`` on the test key: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = run(Request(operation, **{"key_uri": KEY_URI, **options}), stdout=out, stderr=err,
               environ=ENV, connector=connector)
    return code, out.getvalue(), err.getvalue()


def api_versions() -> tuple[str, str]:
    """The api-version the installed SDKs send to Key Vault and to Resource Manager's vaults
    (the dry-run lines print them; a minor SDK upgrade may move them)."""
    from azure.keyvault.keys import KeyClient  # noqa: PLC0415
    from azure.mgmt.keyvault import KeyVaultManagementClient  # noqa: PLC0415

    credential = StaticCredential(Cloud())
    return (KeyClient(f"https://{VAULT}.vault.azure.net", credential).api_version,
            KeyVaultManagementClient(credential, SUBSCRIPTION)._config.api_version)


class StaticCredential:
    """A TokenCredential returning one fixed token; records the scopes it was asked for."""

    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        del kwargs
        self._cloud.scopes.extend(scopes)
        return AccessToken(TOKEN, int(time.time()) + 3600)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in LOOPBACK:
            raise AssertionError(f"a test tried to connect to {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    real_lookup = socket.getaddrinfo

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        # A name lookup is traffic too (to the resolver): only loopback names may be looked up.
        if host not in (*LOOPBACK, "localhost", None):
            raise AssertionError(f"a test tried to look up {host!r}")
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_certificate(tmp_path_factory.mktemp("tls"))


def healthy_vault(name: str = VAULT, subscription: str = SUBSCRIPTION,
                  group: str = GROUP, key: str = KEY) -> Vault:
    """Everything the source documents ask for: this vault passes every check."""
    created = now()
    vault = Vault(name, subscription, group, properties={
        "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "sku": {"family": "A", "name": "standard"},
        "accessPolicies": [],
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enablePurgeProtection": True,
        "enableRbacAuthorization": True,
        "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": [],
                        "virtualNetworkRules": []},
        "publicNetworkAccess": "Enabled",
    })
    vault.keys[key] = Key(key, [
        Version(OLD_VERSION, rsa_key(2048, 1), created - 200 * DAY, exp=created + 500 * DAY),
        Version(CURRENT_VERSION, rsa_key(2048, 2), created - 20 * DAY,
                nbf=created - 20 * DAY, exp=created + 700 * DAY),
    ], rotation_policy={
        "lifetimeActions": [
            {"trigger": {"timeAfterCreate": "P180D"}, "action": {"type": "Rotate"}},
            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
        "attributes": {"expiryTime": "P2Y"}})
    return vault


class _Current:
    """The cloud of the running test; one server serves every test of the session."""

    cloud = Cloud()

    def handle(self, *request: Any) -> Any:
        return self.cloud.handle(*request)


_CURRENT = _Current()


@pytest.fixture(scope="session")
def server(certificate: tuple[Path, Path]) -> Iterator[LoopbackServer]:
    running = LoopbackServer(_CURRENT.handle, *certificate)
    yield running
    running.close()


@pytest.fixture
def cloud(server: LoopbackServer) -> Cloud:
    del server  # started before the test's cloud is installed
    vault = healthy_vault()
    _CURRENT.cloud = Cloud(
        vaults={VAULT: vault},
        locks=[{"scope": VAULT_ID, "name": "vault-do-not-delete", "level": "CanNotDelete"},
               {"scope": KEY_ID, "name": "key-do-not-delete", "level": "CanNotDelete"}],
        assignments=[{"scope": KEY_ID, "principal": PRINCIPAL,
                      "role": CRYPTO_SERVICE_ENCRYPTION_USER}])
    return _CURRENT.cloud


@pytest.fixture
def connector(cloud: Cloud, server: LoopbackServer) -> Any:
    """What the commands use instead of real credentials and the public endpoints."""

    def connect(kind: str, target: Any) -> Azure:
        del kind, target
        return Azure(StaticCredential(cloud), transport=server.transport)

    return connect
