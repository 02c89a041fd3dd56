"""Customer tenant: vault, keys, locks, the provider app's service principal and its grant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization, keyvault

from components.config import CustomerConfig, KeySpec
from components.resource_group import resource_group

CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
"""Built-in role "Key Vault Crypto Service Encryption User": get, wrapKey and unwrapKey on keys."""
GRANTED_KEY_PERMISSIONS = ("get", "wrapKey", "unwrapKey")
"""Access-policy mode: exactly what a CMK consumer needs, and nothing that deletes or purges."""
KEY_OPERATIONS = ("wrapKey", "unwrapKey")
"""A key-encryption key only wraps and unwraps data keys."""


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
    """The resource granting the provider app access; bindings depend on it."""


@dataclass(frozen=True)
class CustomerVaultArgs:
    config: CustomerConfig
    provider_app_client_id: pulumi.Input[str]
    """Client id of the provider's multitenant app, installed here as a service principal."""


class CustomerKeyVault(pulumi.ComponentResource):
    """Everything the customer tenant holds for cross-tenant CMK, guarded against loss."""

    vault_id: pulumi.Output[str]
    """ARM id of the vault."""
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
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=cfg.vault.name,
            resource_group_name=group_name,
            location=cfg.target.location,
            properties=self._vault_properties(cfg, principal),
            opts=guard,
        )
        self._lock(f"{name}-vault-lock", vault.id, f"Vault {cfg.vault.name} holds CMK keys", guard)
        self.keys = {
            spec.name: self._key(name, spec, cfg, group_name, vault, principal, guard)
            for spec in cfg.keys
        }
        self.vault_id = vault.id
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
    def _vault_properties(
        cfg: CustomerConfig, principal: azuread.ServicePrincipal
    ) -> keyvault.VaultPropertiesArgs:
        vault = cfg.vault
        policies: list[keyvault.AccessPolicyEntryArgs] = []
        if not vault.rbac:
            policies.append(
                keyvault.AccessPolicyEntryArgs(
                    tenant_id=cfg.target.tenant_id,
                    object_id=principal.object_id,
                    permissions=keyvault.PermissionsArgs(keys=list(GRANTED_KEY_PERMISSIONS)),
                )
            )
        return keyvault.VaultPropertiesArgs(
            tenant_id=cfg.target.tenant_id,
            sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName(vault.sku)),
            enable_soft_delete=True,
            # Irreversible by design; ARM rejects false, so the program never sends it.
            enable_purge_protection=True,
            soft_delete_retention_in_days=vault.retention_days,
            enable_rbac_authorization=vault.rbac,
            # Inline and complete: the vault owns its whole access-policy list (empty under RBAC),
            # so drift such as an extra purge grant is reverted on the next update.
            access_policies=policies,
            public_network_access=vault.public_network_access,
            network_acls=keyvault.NetworkRuleSetArgs(
                default_action="Deny",
                bypass="AzureServices",
                ip_rules=[keyvault.IPRuleArgs(value=rule) for rule in vault.ip_rules],
                virtual_network_rules=[
                    keyvault.VirtualNetworkRuleArgs(id=subnet) for subnet in vault.subnet_ids
                ],
            ),
        )

    def _key(
        self,
        name: str,
        spec: KeySpec,
        cfg: CustomerConfig,
        group_name: pulumi.Input[str],
        vault: keyvault.Vault,
        principal: azuread.ServicePrincipal,
        guard: pulumi.ResourceOptions,
    ) -> VaultKey:
        key = keyvault.Key(
            f"{name}-key-{spec.name}",
            key_name=spec.name,
            vault_name=vault.name,
            resource_group_name=group_name,
            properties=key_properties(spec),
            opts=guard,
        )
        self._lock(
            f"{name}-key-{spec.name}-lock",
            key.id,
            f"Key {spec.name} encrypts {', '.join(s.value for s in spec.services)}",
            guard,
        )
        grant: pulumi.Resource = vault
        if cfg.vault.rbac:
            grant = authorization.RoleAssignment(
                f"{name}-grant-{spec.name}",
                principal_id=principal.object_id,
                principal_type="ServicePrincipal",
                role_definition_id=role_definition_id(cfg.target.subscription_id),
                scope=key.id,
                description="Provider app: wrap and unwrap with this key only (cross-tenant CMK)",
                # Revoking this grant makes the provider's data unreadable within minutes.
                opts=guard,
            )
        return VaultKey(key.id, key.key_uri_with_version, key.key_uri, grant)

    def _lock(
        self, name: str, scope: pulumi.Input[str], notes: str, guard: pulumi.ResourceOptions
    ) -> None:
        authorization.ManagementLockByScope(
            name,
            scope=scope,
            level=authorization.LockLevel.CAN_NOT_DELETE,
            lock_name="cmk-do-not-delete",
            notes=f"{notes}; deleting it makes encrypted data unreadable.",
            opts=guard,
        )


def key_properties(spec: KeySpec) -> keyvault.KeyPropertiesArgs:
    """Key material settings: RSA for wrap/unwrap, with rotation and expiry."""
    expires = None
    if spec.expires_on is not None:
        expires = int(datetime.combine(spec.expires_on, time(0), tzinfo=UTC).timestamp())
    return keyvault.KeyPropertiesArgs(
        kty=spec.kty,
        key_size=spec.size,
        key_ops=list(KEY_OPERATIONS),
        attributes=keyvault.KeyAttributesArgs(enabled=True, expires=expires),
        rotation_policy=keyvault.RotationPolicyArgs(
            attributes=keyvault.KeyRotationPolicyAttributesArgs(
                expiry_time=f"P{spec.expiry_days}D"
            ),
            lifetime_actions=[
                keyvault.LifetimeActionArgs(
                    trigger=keyvault.TriggerArgs(time_after_create=f"P{spec.rotate_after_days}D"),
                    action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.ROTATE),
                ),
                keyvault.LifetimeActionArgs(
                    trigger=keyvault.TriggerArgs(
                        time_before_expiry=f"P{spec.notify_before_expiry_days}D"
                    ),
                    action=keyvault.ActionArgs(type=keyvault.KeyRotationPolicyActionType.NOTIFY),
                ),
            ],
        ),
    )


def role_definition_id(subscription_id: str) -> str:
    """Subscription-scoped id of the Crypto Service Encryption User role, as ARM expects it."""
    return (
        f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{CRYPTO_SERVICE_ENCRYPTION_USER}"
    )
