"""The customer's grant to Snowflake's service principal on the key Snowflake uses.

Snowflake's principal appears in the customer tenant only after the consent click, so its
object id comes from config in a second ``up``. Snowflake uses its key "for wrapping,
unwrapping, signing, and verifying" (docs/snowflake-properties.md): no built-in role is
exactly that (Crypto Service Encryption User lacks sign and verify; Crypto User adds
encrypt, decrypt, update and backup), so RBAC vaults get a custom role with those data
actions and key read, assigned on the key alone; access-policy vaults get the same as key
permissions. The provider's app is never granted on a key only Snowflake uses.
"""

from __future__ import annotations

import uuid

import pulumi
from pulumi_azure_native import authorization, keyvault

from components.config.common import Service
from components.config.customer import CustomerConfig, KeySpec
from components.customer.grant_terms import (
    SNOWFLAKE_DATA_ACTIONS,
    SNOWFLAKE_KEY_PERMISSIONS,
    SNOWFLAKE_KEY_TAG,
)

_ROLE_NAMESPACE = uuid.UUID("0b7c4f0e-3a55-4d9e-9a43-5d8f3b1e7c21")


def uses_snowflake(spec: KeySpec) -> bool:
    return Service.SNOWFLAKE in spec.services


def uses_provider_app(spec: KeySpec) -> bool:
    """The provider app needs a grant only on keys its own bindings use, never Snowflake's."""
    return any(service != Service.SNOWFLAKE for service in spec.services)


def key_tags(spec: KeySpec) -> dict[str, str] | None:
    return dict([SNOWFLAKE_KEY_TAG]) if uses_snowflake(spec) else None


def snowflake_role(
    name: str, cfg: CustomerConfig, guard: pulumi.ResourceOptions
) -> authorization.RoleDefinition | None:
    """The custom role (RBAC vaults, once Snowflake's principal is known); else None."""
    if not (cfg.vault.rbac and cfg.snowflake_principal_object_id):
        return None
    group = (f"/subscriptions/{cfg.target.subscription_id}/resourceGroups/"
             f"{cfg.target.resource_group}")
    return authorization.RoleDefinition(
        f"{name}-snowflake-role",
        # Stable per vault, so a re-run updates the same definition.
        role_definition_id=str(uuid.uuid5(_ROLE_NAMESPACE, f"{group}/{cfg.vault.name}")),
        role_name=f"Snowflake Tri-Secret Secure key user ({cfg.vault.name})",
        description="Snowflake's service principal: read, wrap, unwrap, sign and verify with "
        "the Tri-Secret Secure key. Nothing that changes or deletes keys.",
        role_type="CustomRole",
        scope=group,
        assignable_scopes=[group],
        permissions=[authorization.PermissionArgs(
            actions=[], data_actions=list(SNOWFLAKE_DATA_ACTIONS))],
        opts=guard,
    )


def snowflake_access_policy(cfg: CustomerConfig) -> list[keyvault.AccessPolicyEntryArgs]:
    """Access-policy vaults: Snowflake's entry (vault-wide: the model has no per-key scope)."""
    if cfg.vault.rbac or not cfg.snowflake_principal_object_id:
        return []
    return [keyvault.AccessPolicyEntryArgs(
        tenant_id=cfg.target.tenant_id,
        object_id=cfg.snowflake_principal_object_id,
        permissions=keyvault.PermissionsArgs(keys=list(SNOWFLAKE_KEY_PERMISSIONS)),
    )]


def snowflake_key_grant(
    name: str,
    spec: KeySpec,
    cfg: CustomerConfig,
    key: keyvault.Key,
    role: authorization.RoleDefinition | None,
    vault: keyvault.Vault,
    guard: pulumi.ResourceOptions,
) -> pulumi.Resource | None:
    """What grants Snowflake this key: a role assignment on it, the vault (access policies),
    or None while Snowflake's principal is not known yet or the key is not Snowflake's."""
    if not (uses_snowflake(spec) and cfg.snowflake_principal_object_id):
        return None
    if role is None:
        return vault
    return authorization.RoleAssignment(
        f"{name}-snowflake-grant-{spec.name}",
        principal_id=cfg.snowflake_principal_object_id,
        principal_type="ServicePrincipal",
        role_definition_id=role.id,
        scope=key.id,
        description="Snowflake Tri-Secret Secure: wrap, unwrap, sign and verify with this "
        "key only",
        # Revoking it stops the Snowflake account's data operations within about ten minutes.
        opts=pulumi.ResourceOptions.merge(guard, pulumi.ResourceOptions(depends_on=[role])),
    )
