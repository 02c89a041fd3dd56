"""Parsing the strings Azure uses to point at key material and roles.

Bindings name a key by URL (``https://<vault>.vault.azure.net/keys/<key>[/<version>]``),
locks and grants by ARM id (``.../providers/Microsoft.KeyVault/vaults/<vault>[/keys/<key>]``)
and roles by definition id. Names are compared case-insensitively, as ARM does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policies.clouds import issuer_parts

_ARM_KEY_MATERIAL = re.compile(
    r"/providers/microsoft\.keyvault/vaults/(?P<vault>[^/]+)"
    r"(?:/keys/(?P<key>[^/]+)(?:/versions/[^/]+)?)?/?$", re.IGNORECASE)
_KEY_URL = re.compile(
    r"^https://(?P<vault>[^./]+)\.vault\.[^/]+(?::443)?/keys/(?P<key>[^/]+)"
    r"(?:/(?P<version>[^/]*))?/?$", re.IGNORECASE)
_VAULT_URL = re.compile(r"^https://(?P<vault>[^./]+)\.vault\.[^/]+(?::443)?/?$", re.IGNORECASE)
_RESOURCE_GROUP = re.compile(r"/resourceGroups/(?P<group>[^/]+)/", re.IGNORECASE)
_ROLE_DEFINITION = re.compile(
    r"(?:^|/roledefinitions/)(?P<guid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$",
    re.IGNORECASE)


@dataclass(frozen=True)
class KeyMaterialRef:
    """A vault, or a key in a vault, named by lower-cased names."""

    vault: str
    key: str | None = None
    version: str | None = None

    def describe(self) -> str:
        return f"key {self.key} in vault {self.vault}" if self.key else f"vault {self.vault}"


def arm_ref(resource_id: str) -> KeyMaterialRef | None:
    """The vault or key an ARM id (a lock or grant scope) designates, if it is one."""
    match = _ARM_KEY_MATERIAL.search(resource_id)
    if match is None:
        return None
    key = match["key"]
    return KeyMaterialRef(match["vault"].lower(), key.lower() if key else None)


def resource_group_of(resource_id: str) -> str | None:
    """The resource group an ARM id names (as written; ARM compares it ignoring case)."""
    match = _RESOURCE_GROUP.search(resource_id)
    return match["group"] if match else None


def key_url_ref(url: str) -> KeyMaterialRef | None:
    """The key a data-plane key URL designates, with its version when the URL pins one."""
    match = _KEY_URL.match(url)
    if match is None:
        return None
    return KeyMaterialRef(match["vault"].lower(), match["key"].lower(), match["version"] or None)


def vault_url_name(url: str) -> str | None:
    """Vault name from a vault URI such as ``https://kv.vault.azure.net/``."""
    match = _VAULT_URL.match(url)
    return match["vault"].lower() if match else None


def role_guid(role_definition_id: str) -> str | None:
    """The GUID of a role definition id (subscription-scoped, tenant-scoped or bare)."""
    match = _ROLE_DEFINITION.search(role_definition_id)
    return match["guid"].lower() if match else None


def issuer_tenant(issuer: str) -> str | None:
    """The tenant of an Entra v2.0 issuer URL of a known cloud, or ``None`` if it is not one
    (which cloud, and whether it is the stack's, is ``federated-credential-claims``' concern)."""
    parts = issuer_parts(issuer)
    return parts[1] if parts else None
