"""Key types and RSA sizes each consumer accepts: the one table for the pack and the program.

It lives in the pack so ``policies/`` stays self-contained when published; the program's
config validation imports it from here, never the other way round. Each entry names its
source; docs/azure-properties.md and docs/snowflake-properties.md quote them.
"""

from collections.abc import Mapping
from typing import Final

KEY_TYPES: Final = ("RSA", "RSA-HSM")
"""Key Vault key types every consumer below wraps with (``kty``; RSA-HSM needs a premium vault)."""

PREREQUISITE_KEY_SIZES: Final[frozenset[int]] = frozenset({2048})
"""The vendor's CMK prerequisite ("key must be of type RSA 2048-bit", source document 001,
Dedicated prerequisites). It is the default ``allowedKeySizes`` of the ``key-type-and-size``
rule, so config validation refuses any other size unless the stack says its pack allows it."""

SERVICE_KEY_TYPES: Final[Mapping[str, tuple[str, ...]]] = {
    # Storage: "Azure Storage encryption supports RSA and RSA-HSM keys" (Microsoft Learn,
    # "Customer-managed keys for Azure Storage encryption", key vault requirements).
    "storage": KEY_TYPES,
    # SQL TDE protector: RSA or RSA-HSM asymmetric key (Microsoft Learn, "Azure SQL transparent
    # data encryption with customer-managed key", requirements for configuring TDE protector).
    "sql": KEY_TYPES,
    # Disk encryption sets: software and HSM RSA keys (Microsoft Learn, "Server-side encryption
    # of Azure Disk Storage", customer-managed keys restrictions).
    "disk": KEY_TYPES,
    # Snowflake Tri-Secret Secure on Azure: "Keys based on RSA" in Azure Key Vault (Snowflake
    # blog, "Data Encryption with Customer-Managed Keys for Azure"); HSM protection is a property
    # of where Key Vault keeps an RSA key, not a different algorithm.
    "snowflake": KEY_TYPES,
}

SERVICE_KEY_SIZES: Final[Mapping[str, frozenset[int]]] = {
    # Storage: RSA / RSA-HSM 2048, 3072 or 4096 (Microsoft Learn, "Customer-managed keys for
    # Azure Storage encryption", supported key types and sizes).
    "storage": frozenset({2048, 3072, 4096}),
    # SQL TDE: RSA / RSA-HSM 2048 or 3072 only; 4096 fails with AzureKeyVaultRsaKeyNotSupported
    # (Microsoft Learn, "Azure SQL transparent data encryption with customer-managed key").
    "sql": frozenset({2048, 3072}),
    # Disk encryption sets: RSA / RSA-HSM 2048, 3072 or 4096 (Microsoft Learn, "Server-side
    # encryption of Azure Disk Storage", customer-managed key restrictions).
    "disk": frozenset({2048, 3072, 4096}),
    # Snowflake Tri-Secret Secure on Azure: Snowflake's announcement has customers "create an
    # RSA 4K key" and the vendor's prerequisites use RSA 2048 for every service, Snowflake
    # included; 3072 appears in neither, so it is left out.
    "snowflake": frozenset({2048, 4096}),
}


def accepted_by_all(services: tuple[str, ...]) -> list[int]:
    """Sizes every one of ``services`` accepts, smallest first (what a shared key may use)."""
    common = frozenset({2048, 3072, 4096})
    for service in services:
        common &= SERVICE_KEY_SIZES[service]
    return sorted(common)
