"""A storage account encrypted with the customer's key across tenants.

Storage names the key by vault URI and key name. Without a key version it checks the
vault about once a day and moves to the newest version by itself; with one it stays on
that version until the program changes it. Queues and tables join blobs and files under
the customer's key only when created with account-scoped keys, so that is set at creation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import storage

from components.config.common import Service
from components.config.provider import StorageSpec
from components.provider.binding import BindingArgs, checked_key


@dataclass(frozen=True)
class StorageCmkArgs:
    binding: BindingArgs
    spec: StorageSpec


class StorageCmk(pulumi.ComponentResource):
    """General-purpose v2 account, customer key, user-assigned identity, no anonymous access."""

    account_id: pulumi.Output[str]
    """ARM id of the storage account."""

    def __init__(self, name: str, args: StorageCmkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dedicated-cmk:provider:StorageCmk", name, None, opts)
        binding = args.binding
        key = checked_key(binding, Service.STORAGE)
        account = storage.StorageAccount(
            f"{name}-account",
            account_name=args.spec.account_name,
            resource_group_name=binding.resource_group_name,
            location=binding.location,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=args.spec.sku),
            identity=storage.IdentityArgs(
                type=storage.IdentityType.USER_ASSIGNED,
                user_assigned_identities=[binding.identity.identity_id],
            ),
            encryption=storage.EncryptionArgs(
                key_source=storage.KeySource.MICROSOFT_KEYVAULT,
                key_vault_properties=storage.KeyVaultPropertiesArgs(
                    key_vault_uri=key.apply(lambda k: k.vault_uri),
                    key_name=key.apply(lambda k: k.name),
                    # Omitted (None) when following the latest version: storage then rotates itself.
                    key_version=None if binding.follow_latest else key.apply(lambda k: k.version),
                ),
                encryption_identity=storage.EncryptionIdentityArgs(
                    encryption_user_assigned_identity=binding.identity.identity_id,
                    encryption_federated_identity_client_id=binding.identity.app_client_id,
                ),
                # A second, platform-managed layer underneath: fixed at creation, so set now.
                require_infrastructure_encryption=True,
                services=storage.EncryptionServicesArgs(
                    queue=storage.EncryptionServiceArgs(enabled=True,
                                                        key_type=storage.KeyType.ACCOUNT),
                    table=storage.EncryptionServiceArgs(enabled=True,
                                                        key_type=storage.KeyType.ACCOUNT),
                ),
            ),
            enable_https_traffic_only=True,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            allow_blob_public_access=False,
            # The key crosses tenants; the data must not (object replication to other tenants).
            allow_cross_tenant_replication=False,
            opts=binding.options(self),
        )
        self.account_id = account.id
        self.register_outputs({"accountId": self.account_id})
