"""Key URIs as Azure writes them, parsed once so every consumer gets the part it needs.

Storage wants the vault URI, key name and (when pinned) version; SQL and disk encryption
sets want the whole key URL. A versionless URI means "follow the latest version".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Vault and managed HSM DNS suffixes of the public, US Government and China clouds.
_SUFFIXES = (
    "vault.azure.net",
    "vault.usgovcloudapi.net",
    "vault.azure.cn",
    "managedhsm.azure.net",
    "managedhsm.usgovcloudapi.net",
    "managedhsm.azure.cn",
)
_PATTERN = re.compile(
    r"^https://(?P<vault>[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9])\.(?P<suffix>"
    + "|".join(re.escape(s) for s in _SUFFIXES)
    + r")(?::443)?/keys/(?P<name>[A-Za-z0-9-]{1,127})(?:/(?P<version>[0-9a-fA-F]{32}))?/?$"
)


@dataclass(frozen=True)
class KeyUri:
    """A parsed Key Vault (or managed HSM) key identifier."""

    vault: str
    """Vault (or HSM pool) name, the first DNS label."""
    suffix: str
    """DNS suffix, which tells the cloud and whether it is a managed HSM."""
    name: str
    """Key name."""
    version: str | None
    """32-hex-digit version, or None for a versionless URI (automatic rotation)."""

    @property
    def vault_uri(self) -> str:
        """Vault URI with trailing slash, the form storage's ``keyVaultUri`` takes."""
        return f"https://{self.vault}.{self.suffix}/"

    @property
    def versionless(self) -> str:
        return f"https://{self.vault}.{self.suffix}/keys/{self.name}"

    @property
    def is_managed_hsm(self) -> bool:
        return self.suffix.startswith("managedhsm.")

    def __str__(self) -> str:
        return f"{self.versionless}/{self.version}" if self.version else self.versionless


def parse_key_uri(value: str) -> KeyUri | None:
    """Parse ``value``; None when it is not a key identifier of a known cloud."""
    match = _PATTERN.match(value.strip())
    if not match:
        return None
    version = match["version"]
    return KeyUri(
        vault=match["vault"].lower(),
        suffix=match["suffix"],
        name=match["name"],
        version=version.lower() if version else None,
    )


def key_uri_problem(value: str) -> str | None:
    if parse_key_uri(value) is not None:
        return None
    return (
        f"{value!r} is not a key URI; expected https://<vault>.vault.azure.net/keys/<name>"
        "[/<32-hex version>] (or the usgovcloudapi.net, azure.cn or managedhsm.* forms)"
    )
