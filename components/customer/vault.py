"""Customer tenant: vault, keys, locks, the provider app's service principal and its grant."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization, keyvault

from components.config.customer import CustomerConfig, KeySpec
from components.customer import vault_blocks as blocks
from components.customer.grant_terms import (
    CRYPTO_SERVICE_ENCRYPTION_USER,
    GRANTED_KEY_PERMISSIONS,
    KEY_OPERATIONS,
    SNOWFLAKE_KEY_OPERATIONS,
)
from components.customer.snowflake_grant import (
    key_tags,
    snowflake_access_policy,
    snowflake_key_grant,
    snowflake_role,
    uses_provider_app,
    uses_snowflake,
)
from components.resource_group import resource_group

__all__ = [
    "CRYPTO_SERVICE_ENCRYPTION_USER",
    "GRANTED_KEY_PERMISSIONS",
    "CustomerKeyVault",
    "CustomerVaultArgs",
    "VaultKey",
]


@dataclass(frozen=True)
class VaultKey:
    """Outputs of one key, named for who consumes them."""

    id: pulumi.Output[str]
    """ARM id: the scope of the key's lock and grant."""
    versioned_uri: pulumi.Output[str]
    """Key URI with version: what the customer shares; disk encryption sets and pinned bindings."""
    versionless_uri: pulumi.Output[str]
    """Key URI without version: bindings that follow rotation (storage, SQL auto-rotation)."""
    grant: pulumi.Resource
    """The resource granting the provider app access (the vault when it has none); bindings
    depend on it."""
    snowflake_grant: pulumi.Resource | None = None
    """The grant to Snowflake's service principal; None until its object id is configured."""


@dataclass(frozen=True)
class CustomerVaultArgs:
    config: CustomerConfig
    provider_app_client_id: pulumi.Input[str]
    """Client id of the provider's multitenant app, installed here as a service principal."""


class CustomerKeyVault(pulumi.ComponentResource):
    """Everything the customer tenant holds for cross-tenant CMK, guarded against loss."""

    vault_id: pulumi.Output[str]
    """ARM id of the vault."""
    vault_location: pulumi.Input[str]
    """Region of the vault: the configured one, or what Azure reports for an existing vault
    (a provider stack checks its disk encryption set's region against it)."""
    vault_uri: pulumi.Output[str]
    """``https://<vault>.vault.azure.net/``: Snowflake's ``SYSTEM$REGISTER_CMK_INFO`` takes it."""
    service_principal_object_id: pulumi.Output[str]
    """Object id of the provider app in this tenant: the principal every grant names."""
    keys: dict[str, VaultKey]

    def __init__(
        self, name: str, args: CustomerVaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("dedicated-cmk:customer:KeyVault", name, None, opts)
        cfg = args.config
        guard = pulumi.ResourceOptions(parent=self, protect=cfg.protect)

        group_name = resource_group(name, cfg.target, self, cfg.protect)
        principal = azuread.ServicePrincipal(
            f"{name}-provider-sp",
            client_id=args.provider_app_client_id,
            use_existing=True,
            # Shared by every environment of this provider in the tenant: deleting it
            # with one stack would cut all of them off their keys.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        policies = (
            [] if cfg.vault.rbac or not any(uses_provider_app(k) for k in cfg.keys)
            else [blocks.key_access_policy(cfg.target.tenant_id, principal.object_id)]
        ) + snowflake_access_policy(cfg)
        vault = (
            blocks.existing_vault(name, cfg.target, cfg.vault, "CMK keys", guard)
            if cfg.vault.existing
            else blocks.guarded_vault(
                name, cfg.target, cfg.vault, group_name, policies, "CMK keys", guard)
        )
        role = snowflake_role(name, cfg, guard)
        self.keys = {
            spec.name: self._key(name, spec, cfg, group_name, vault, principal, guard, role)
            for spec in cfg.keys
        }
        self.vault_id = vault.id
        configured = cfg.target.location
        self.vault_location = (vault.location.apply(lambda found: found or configured)
                               if cfg.vault.existing else configured)
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.service_principal_object_id = principal.object_id
        self.register_outputs(
            {
                "vaultId": self.vault_id,
                "vaultUri": self.vault_uri,
                "servicePrincipalObjectId": self.service_principal_object_id,
            }
        )

    @staticmethod
    def _key(
        name: str,
        spec: KeySpec,
        cfg: CustomerConfig,
        group_name: pulumi.Input[str],
        vault: keyvault.Vault,
        principal: azuread.ServicePrincipal,
        guard: pulumi.ResourceOptions,
        role: authorization.RoleDefinition | None,
    ) -> VaultKey:
        purpose = f"encrypts {', '.join(s.value for s in spec.services)}"
        operations = SNOWFLAKE_KEY_OPERATIONS if uses_snowflake(spec) else KEY_OPERATIONS
        key = (
            blocks.existing_key(name, spec, vault, purpose, guard) if spec.existing
            else blocks.guarded_key(name, spec, vault, group_name, purpose, guard, operations,
                                    key_tags(spec))
        )
        snowflake = snowflake_key_grant(name, spec, cfg, key, role, vault, guard)
        grant: pulumi.Resource = vault
        if cfg.vault.rbac and uses_provider_app(spec):
            # Revoking this grant makes the provider's data unreadable within minutes.
            grant = blocks.grant_role(
                f"{name}-grant-{spec.name}",
                principal.object_id,
                CRYPTO_SERVICE_ENCRYPTION_USER,
                cfg.target,
                key.id,
                "Provider app: wrap and unwrap with this key only (cross-tenant CMK)",
                guard,
            )
        return VaultKey(key.id, key.key_uri_with_version, key.key_uri, grant, snowflake)
