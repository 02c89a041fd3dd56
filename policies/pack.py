"""The policy list of the ``cmk-prerequisites`` pack, importable without serving it.

``__main__.py`` hands :func:`build_policies` to ``PolicyPack`` (which starts a server and
never returns); tests and ``cmkctl check`` call it directly.
"""

from __future__ import annotations

from types import ModuleType
from typing import Final

from pulumi_policy import EnforcementLevel, Policy

from policies.framework import RuleMeta
from policies.rules import (
    access_policy_no_purge,
    app_client_secret,
    app_credential_expiry,
    binding_federated_client_id,
    binding_vault_in_stack,
    cmk_chain_protected,
    consumed_key_granted,
    consumed_key_size_per_service,
    customer_key_granted,
    disk_encryption_set_cross_tenant_cmk,
    disk_encryption_set_region,
    federated_credential_claims,
    federated_credential_limit,
    federated_credential_subject,
    key_expiry,
    key_material_locks,
    key_material_protected,
    key_operations,
    key_rotation_policy,
    key_state,
    key_type_and_size,
    provider_app_no_secrets,
    provider_grant_least_privilege,
    purge_role_only_administrators,
    references_match_dependencies,
    single_cloud,
    sql_cross_tenant_cmk,
    storage_cross_tenant_cmk,
    unchecked_resource_spelling,
    vault_network_firewall,
    vault_purge_protection,
    vault_rbac_authorization,
    vault_region_failover,
    vault_resource_group_protected,
    vault_soft_delete,
    vault_soft_delete_retention,
)

PACK_NAME: Final = "cmk-prerequisites"
PACK_DESCRIPTION: Final = ("Prerequisites for cross-tenant customer-managed keys on Azure: "
                           "recoverable, locked and fire-walled vaults, RSA wrap keys, "
                           "least-privilege grants, federated identity without secrets, and "
                           "storage, SQL and disk bindings that match their keys.")
PACK_ENFORCEMENT_LEVEL: Final = EnforcementLevel.ADVISORY
"""Only for a rule without its own level; every rule here declares one."""

RULES: Final[tuple[ModuleType, ...]] = (
    vault_soft_delete,
    vault_purge_protection,
    vault_soft_delete_retention,
    vault_rbac_authorization,
    vault_network_firewall,
    vault_region_failover,
    key_type_and_size,
    key_operations,
    key_state,
    key_rotation_policy,
    key_expiry,
    key_material_locks,
    key_material_protected,
    cmk_chain_protected,
    vault_resource_group_protected,
    provider_grant_least_privilege,
    access_policy_no_purge,
    purge_role_only_administrators,
    consumed_key_granted,
    customer_key_granted,
    binding_vault_in_stack,
    federated_credential_claims,
    federated_credential_subject,
    single_cloud,
    provider_app_no_secrets,
    storage_cross_tenant_cmk,
    sql_cross_tenant_cmk,
    disk_encryption_set_cross_tenant_cmk,
    binding_federated_client_id,
    references_match_dependencies,
    disk_encryption_set_region,
    consumed_key_size_per_service,
    federated_credential_limit,
    app_credential_expiry,
    app_client_secret,
    unchecked_resource_spelling,
)


def rule_metas() -> list[RuleMeta]:
    """Metadata of every rule, in pack order (docs and config validation read it)."""
    return [module.META for module in RULES]


def build_policies() -> list[Policy]:
    """Fresh policy objects for every rule, in pack order."""
    return [module.build() for module in RULES]
