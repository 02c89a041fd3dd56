"""Guarded Key Vault building blocks shared by every set-up that owns a vault.

The cross-tenant CMK vault, the credential store and the organisation-level key vault all
need the same guards: soft delete and purge protection, a firewall that denies by default
but lets trusted Microsoft services through, a ``CanNotDelete`` lock, and Pulumi
``protect``. Each component calls these functions with itself as parent, so resource
names (and URNs) stay those of the component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time

import pulumi
from pulumi_azure_native import authorization, keyvault

from components.config.common import TenantTarget
from components.config.customer import KeySpec, VaultSpec
from components.customer.grant_terms import GRANTED_KEY_PERMISSIONS, KEY_OPERATIONS

LOCK_NAME = "cmk-do-not-delete"


def vault_properties(
    target: TenantTarget,
    vault: VaultSpec,
    access_policies: Sequence[keyvault.AccessPolicyEntryArgs],
) -> keyvault.VaultPropertiesArgs:
    """Recoverable, fire-walled vault settings; ``access_policies`` is the complete list."""
    return keyvault.VaultPropertiesArgs(
        tenant_id=target.tenant_id,
        sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName(vault.sku)),
        enable_soft_delete=True,
        # Irreversible by design; ARM rejects false, so the program never sends it.
        enable_purge_protection=True,
        soft_delete_retention_in_days=vault.retention_days,
        enable_rbac_authorization=vault.rbac,
        # Inline and complete: the vault owns its whole access-policy list (empty under RBAC),
        # so drift such as an extra purge grant is reverted on the next update.
        access_policies=list(access_policies),
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


def guarded_vault(
    name: str,
    target: TenantTarget,
    vault: VaultSpec,
    group_name: pulumi.Input[str],
    access_policies: Sequence[keyvault.AccessPolicyEntryArgs],
    holds: str,
    guard: pulumi.ResourceOptions,
) -> keyvault.Vault:
    """The vault (``<name>-vault``) and its lock (``<name>-vault-lock``)."""
    created = keyvault.Vault(
        f"{name}-vault",
        vault_name=vault.name,
        resource_group_name=group_name,
        location=target.location,
        properties=vault_properties(target, vault, access_policies),
        opts=guard,
    )
    lock(f"{name}-vault-lock", created.id, f"Vault {vault.name} holds {holds}", guard)
    return created


def vault_id(target: TenantTarget, vault_name: str) -> str:
    """The ARM id Azure gives the vault (the id a created vault has in the state)."""
    return (f"/subscriptions/{target.subscription_id}/resourceGroups/{target.resource_group}/"
            f"providers/Microsoft.KeyVault/vaults/{vault_name}")


def existing_vault(
    name: str, target: TenantTarget, vault: VaultSpec, holds: str, guard: pulumi.ResourceOptions
) -> keyvault.Vault:
    """The customer's own vault, read under ``<name>-vault`` (the URN a created vault has, so
    switching ``vaultExisting`` to true releases a created vault instead of deleting it), and
    the lock this stack adds to it (``<name>-vault-lock``)."""
    read = keyvault.Vault.get(f"{name}-vault", vault_id(target, vault.name),
                              opts=pulumi.ResourceOptions(parent=guard.parent))
    lock(f"{name}-vault-lock", read.id, f"Vault {vault.name} holds {holds}", guard)
    return read


def lock(name: str, scope: pulumi.Input[str], notes: str, guard: pulumi.ResourceOptions) -> None:
    """A ``CanNotDelete`` lock on ``scope``; protected with the rest so it cannot go first."""
    authorization.ManagementLockByScope(
        name,
        scope=scope,
        level=authorization.LockLevel.CAN_NOT_DELETE,
        lock_name=LOCK_NAME,
        notes=f"{notes}; deleting it makes encrypted data unreadable.",
        opts=guard,
    )


def guarded_key(
    name: str,
    spec: KeySpec,
    vault: keyvault.Vault,
    group_name: pulumi.Input[str],
    purpose: str,
    guard: pulumi.ResourceOptions,
    operations: Sequence[str] = KEY_OPERATIONS,
    tags: Mapping[str, str] | None = None,
) -> keyvault.Key:
    """A wrap/unwrap key (``<name>-key-<key>``) and its lock (``<name>-key-<key>-lock``);
    ``operations`` and ``tags`` differ only for a key Snowflake uses."""
    key = keyvault.Key(
        f"{name}-key-{spec.name}",
        key_name=spec.name,
        vault_name=vault.name,
        resource_group_name=group_name,
        properties=key_properties(spec, operations),
        tags=dict(tags) if tags else None,
        opts=guard,
    )
    lock(f"{name}-key-{spec.name}-lock", key.id, f"Key {spec.name} {purpose}", guard)
    return key


def existing_key(
    name: str, spec: KeySpec, vault: keyvault.Vault, purpose: str, guard: pulumi.ResourceOptions
) -> keyvault.Key:
    """A key that already exists in ``vault`` (``keyExisting``), read under the URN a created
    key has, and the lock this stack adds to it (``<name>-key-<key>-lock``)."""
    key_id = vault.id.apply(lambda vid: f"{vid}/keys/{spec.name}")
    read = keyvault.Key.get(f"{name}-key-{spec.name}", key_id,
                            opts=pulumi.ResourceOptions(parent=guard.parent))
    lock(f"{name}-key-{spec.name}-lock", read.id, f"Key {spec.name} {purpose}", guard)
    return read


def key_properties(
    spec: KeySpec, operations: Sequence[str] = KEY_OPERATIONS
) -> keyvault.KeyPropertiesArgs:
    """Key material settings: RSA for wrap/unwrap, with rotation and expiry."""
    expires = None
    if spec.expires_on is not None:
        expires = int(datetime.combine(spec.expires_on, time(0), tzinfo=UTC).timestamp())
    return keyvault.KeyPropertiesArgs(
        kty=spec.kty,
        key_size=spec.size,
        key_ops=list(operations),
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


def key_access_policy(
    tenant_id: str, object_id: pulumi.Input[str]
) -> keyvault.AccessPolicyEntryArgs:
    """Access-policy alternative to the role: keys get, wrapKey and unwrapKey only."""
    return keyvault.AccessPolicyEntryArgs(
        tenant_id=tenant_id,
        object_id=object_id,
        permissions=keyvault.PermissionsArgs(keys=list(GRANTED_KEY_PERMISSIONS)),
    )


def role_definition_id(subscription_id: str, role: str) -> str:
    """Subscription-scoped id of built-in role ``role`` (a GUID), as ARM expects it."""
    return (
        f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{role}"
    )


def grant_role(
    name: str,
    principal_id: pulumi.Input[str],
    role: str,
    target: TenantTarget,
    scope: pulumi.Input[str],
    description: str,
    guard: pulumi.ResourceOptions,
) -> authorization.RoleAssignment:
    """A role assignment to a service principal; ``principalType`` avoids replication errors."""
    return authorization.RoleAssignment(
        name,
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        role_definition_id=role_definition_id(target.subscription_id, role),
        scope=scope,
        description=description,
        opts=guard,
    )
