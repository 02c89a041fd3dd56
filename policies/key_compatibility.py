"""RSA key sizes each consuming service accepts: one table for the pack and the program.

It lives in the pack so ``policies/`` stays self-contained when published; the program's
config validation imports it from here, never the other way round.
"""

from collections.abc import Mapping
from typing import Final

SERVICE_KEY_SIZES: Final[Mapping[str, frozenset[int]]] = {
    # Storage: RSA / RSA-HSM 2048, 3072 or 4096 (Microsoft Learn, "Customer-managed keys for
    # Azure Storage encryption", supported key types).
    "storage": frozenset({2048, 3072, 4096}),
    # SQL TDE: RSA / RSA-HSM 2048 or 3072 only; 4096 fails with AzureKeyVaultRsaKeyNotSupported
    # (Microsoft Learn, "Azure SQL transparent data encryption with customer-managed key").
    "sql": frozenset({2048, 3072}),
    # Disk encryption sets: RSA / RSA-HSM 2048, 3072 or 4096 (Microsoft Learn, "Server-side
    # encryption of Azure Disk Storage", customer-managed key restrictions).
    "disk": frozenset({2048, 3072, 4096}),
    # Snowflake Tri-Secret Secure on Azure: its material uses 4096 and the vendor's
    # prerequisites 2048; nothing names 3072.
    "snowflake": frozenset({2048, 4096}),
}
