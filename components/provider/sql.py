"""A logical SQL server whose TDE protector is the customer's key, across tenants.

SQL takes the key as a *server key* named ``<vault>_<key>_<version>`` with a versioned URI
(the SDK documents both formats), then makes it the ``current`` encryption protector.
Following rotation is the protector's ``autoRotationEnabled`` flag: SQL then moves to each
new key version within about an hour. SQL accepts no versionless key here.

The server is created with its identity and federated client id but without ``keyId``:
a server created with ``keyId`` already has that server key and a Key Vault protector,
and azure-native refuses to create resources that already exist, so the separate server
key and protector (the only place the rotation flag lives) could never be created.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import sql

from components.config.common import Service
from components.config.key_uri import KeyUri
from components.config.provider import SqlSpec
from components.provider.binding import BindingArgs, checked_key

PROTECTOR = "current"
"""The one encryption protector a server has (ARM child name ``encryptionProtector/current``)."""


def server_key_name(key: KeyUri) -> str:
    """``<vault>_<key>_<version>``, the name SQL requires for a Key Vault server key."""
    return f"{key.vault}_{key.name}_{key.version}"


@dataclass(frozen=True)
class SqlCmkArgs:
    binding: BindingArgs
    spec: SqlSpec
    tenant_id: str
    """Provider tenant, where the Entra admin lives."""


class SqlCmk(pulumi.ComponentResource):
    """SQL server with Entra-only admin and the customer's key as TDE protector."""

    server_id: pulumi.Output[str]
    """ARM id of the server."""
    server_key_name: pulumi.Output[str]
    """Name of the server key the protector starts on."""

    def __init__(self, name: str, args: SqlCmkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dedicated-cmk:provider:SqlCmk", name, None, opts)
        binding, spec = args.binding, args.spec
        key = checked_key(binding, Service.SQL)
        server = sql.Server(
            f"{name}-server",
            server_name=spec.server_name,
            resource_group_name=binding.resource_group_name,
            location=binding.location,
            identity=sql.ResourceIdentityArgs(
                type=sql.IdentityType.USER_ASSIGNED,
                user_assigned_identities=[binding.identity.identity_id],
            ),
            primary_user_assigned_identity_id=binding.identity.identity_id,
            federated_client_id=binding.identity.app_client_id,
            # Entra-only: no SQL login and password exist to leak.
            administrators=sql.ServerExternalAdministratorArgs(
                administrator_type=sql.AdministratorType.ACTIVE_DIRECTORY,
                azure_ad_only_authentication=True,
                login=spec.admin_login,
                sid=spec.admin_object_id,
                tenant_id=args.tenant_id,
                principal_type=spec.admin_principal_type,
            ),
            minimal_tls_version=sql.MinimalTlsVersion.MINIMAL_TLS_VERSION_1_2,
            # The server does not touch the key yet, so it need not wait for the grant.
            opts=binding.guarded(self),
        )
        server_key = sql.ServerKey(
            f"{name}-key",
            key_name=key.apply(server_key_name),
            server_name=server.name,
            resource_group_name=binding.resource_group_name,
            server_key_type=sql.ServerKeyType.AZURE_KEY_VAULT,
            uri=key.apply(str),
            # SQL reads the key when the server key is added: after the trust and the grant.
            opts=binding.options(self),
        )
        sql.EncryptionProtector(
            f"{name}-protector",
            encryption_protector_name=PROTECTOR,
            server_name=server.name,
            resource_group_name=binding.resource_group_name,
            server_key_type=sql.ServerKeyType.AZURE_KEY_VAULT,
            server_key_name=server_key.name,
            auto_rotation_enabled=binding.follow_latest,
            opts=binding.guarded(self),
        )
        self.server_id = server.id
        self.server_key_name = server_key.name
        self.register_outputs({"serverId": self.server_id, "serverKeyName": self.server_key_name})
