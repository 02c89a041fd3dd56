"""What ARM does with a property the program omits, written down once.

A rule reads an omitted property as this default and says so in its message: a compliant
default passes (soft delete, 90-day retention, RSA 2048), a non-compliant one fails
(omitted ``keyOps`` permits every operation; omitted ``networkAcls`` lets every network
in). Values are for the API versions azure-native 3.x pins (Key Vault 2024-11-01).

Sources: the Key Vault specification (Azure/azure-rest-api-specs,
``specification/keyvault/resource-manager/Microsoft.KeyVault/stable/2024-11-01``) as the
installed ``pulumi_azure_native.keyvault`` documents and applies it:
``VaultPropertiesArgs`` sets ``enable_soft_delete=True`` ("If it's not set to any value
... it will be set to true by default. Once set to true, it cannot be reverted to
false"), ``soft_delete_retention_in_days=90``, ``enable_rbac_authorization=False`` and
``public_network_access='enabled'``; ``NetworkRuleSet.bypass``: "If not specified the
default is 'AzureServices'"; a vault without network rules accepts every network
(Microsoft Learn, "Configure Azure Key Vault networking settings": "By default, ... Allow
public access from all networks"); ``KeyProperties.keySize``: "Default for RSA and
RSA-HSM keys is 2048"; ``KeyAttributesArgs`` sets ``exportable=False``; a key is created
enabled unless ``attributes.enabled`` is false (Key Vault keys, "Key attributes");
``keyOps`` omitted means every ``JsonWebKeyOperation`` the key type supports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from policies.props import get, is_unknown, same, text
from policies.resource_kinds import Kind

ALL_KEY_OPERATIONS: Final = ("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey",
                             "import", "release")
"""``JsonWebKeyOperation`` (the enum of the installed SDK)."""

RSA_TYPES: Final = ("RSA", "RSA-HSM")

DEFAULTS: Final[Mapping[Kind, Mapping[tuple[str, ...], Any]]] = {
    Kind.VAULT: {
        ("properties", "enableSoftDelete"): True,
        ("properties", "softDeleteRetentionInDays"): 90,
        ("properties", "enableRbacAuthorization"): False,
        ("properties", "publicNetworkAccess"): "Enabled",
        ("properties", "networkAcls", "bypass"): "AzureServices",
        ("properties", "networkAcls", "defaultAction"): "Allow",
    },
    Kind.KEY: {
        ("properties", "keyOps"): list(ALL_KEY_OPERATIONS),
        ("properties", "attributes", "enabled"): True,
        ("properties", "attributes", "exportable"): False,
    },
}
"""Per kind, property path -> the value ARM uses when it is omitted."""


@dataclass(frozen=True)
class Read:
    """A property as ARM will see it: the value, and whether it is the default."""

    value: Any
    defaulted: bool = False

    @property
    def note(self) -> str:
        """`` (omitted: ARM default)`` for messages when the value is the default."""
        return " (omitted; the ARM default)" if self.defaulted else ""


def _default(kind: Kind, props: Any, path: tuple[str, ...]) -> Any:
    if kind is Kind.KEY and path == ("properties", "keySize"):
        kty = get(props, "properties", "kty")
        if is_unknown(kty):
            return kty
        found = text(kty)
        return 2048 if found and any(same(found, t) for t in RSA_TYPES) else None
    return DEFAULTS.get(kind, {}).get(path)


def arm_read(kind: Kind, props: Any, *path: str) -> Read:
    """``props`` at ``path``, or ARM's default for an omitted (absent or null) property."""
    value = get(props, *path)
    if value is not None:
        return Read(value)
    default = _default(kind, props, path)
    return Read(default, default is not None)


def finite_number(value: Any) -> float | None:
    """A JSON number that is finite; never a boolean or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None
