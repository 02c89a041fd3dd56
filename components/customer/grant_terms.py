"""What the customer grants, as plain data: roles, key permissions and key operations.

Kept apart from the components that create the grants so that the composition root (whose
``customerGrant`` and ``snowflakeGrant`` outputs describe them) and a provider-only stack
read them without loading the azure-native Key Vault and authorization modules.
"""

from __future__ import annotations

CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
"""Built-in role "Key Vault Crypto Service Encryption User": get, wrapKey and unwrapKey on keys."""
GRANTED_KEY_PERMISSIONS = ("get", "wrapKey", "unwrapKey")
"""Access-policy mode: exactly what a CMK consumer needs, and nothing that deletes or purges."""
KEY_OPERATIONS = ("wrapKey", "unwrapKey")
"""A key-encryption key only wraps and unwraps data keys."""

SNOWFLAKE_KEY_OPERATIONS = ("wrapKey", "unwrapKey", "sign", "verify")
"""``keyOps`` of a key Snowflake uses."""
SNOWFLAKE_KEY_TAG = ("tri-secret-secure", "snowflake")
"""Marks a key Snowflake uses; the pack's key-wrap-operations rule allows sign/verify on it."""
SNOWFLAKE_KEY_PERMISSIONS = ("get", *SNOWFLAKE_KEY_OPERATIONS)
"""Access-policy mode: Snowflake's operations plus get, to read the key it registered by name."""
SNOWFLAKE_DATA_ACTIONS = (
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.KeyVault/vaults/keys/wrap/action",
    "Microsoft.KeyVault/vaults/keys/unwrap/action",
    "Microsoft.KeyVault/vaults/keys/sign/action",
    "Microsoft.KeyVault/vaults/keys/verify/action",
)
"""RBAC mode: the same set as the data actions of a custom role."""
