"""Every key a binding consumes is granted to the provider app's service principal.

A binding without a grant fails at apply (or, after a revocation, within minutes). What
counts depends on the vault's permission model: under RBAC a role assignment with one of
``allowedRoleDefinitionIds`` scoped to the key or its vault; under access policies an
entry for the principal with keys get, wrapKey and unwrapKey (inline on the vault or a
standalone AccessPolicy for it). Only keys in this stack are checked: in a split,
provider-side stack the grant lives in the customer's stack.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.access_policies import entries, entry_principals
from policies.azure_refs import role_guid
from policies.bindings import bindings
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import Verdict, all_of, any_of, get, is_unknown, text
from policies.relations import (
    Resolution,
    Stack,
    resolve_principal,
    resolve_scope,
    resolve_vault_by_name,
    vault_of_key,
    verdict,
)
from policies.resource_kinds import Kind
from policies.rules.provider_grant_least_privilege import ROLE_PARAMETER

META = RuleMeta(
    name="consumed-key-granted",
    description=("Every key consumed by storage, SQL, disk or Snowflake is granted to the "
                 "provider app's service principal."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "authorize-app",
                    "authorize the provider's application to use the key"),),
    remediation=("Add a RoleAssignment (RBAC vault) or an access-policy entry (access-policy "
                 "vault) for the provider app's service principal on each consumed key; in one "
                 "program, make the binding depend on the grant."),
    url="https://learn.microsoft.com/azure/key-vault/general/rbac-guide",
    parameters={"allowedRoleDefinitionIds": ROLE_PARAMETER},
)


def _rbac_grant(stack: Stack, key: PolicyResource, vault: Resolution,
                allowed: set[str]) -> Verdict:
    """A role assignment to the provider principal, allowed role, on the key or its vault."""
    found: list[Verdict] = []
    for grant in stack.of_kind(Kind.ROLE_ASSIGNMENT):
        principal = resolve_principal(stack, grant, "principalId", get(grant.props, "principalId"))
        scope = resolve_scope(stack, grant)
        role = get(grant.props, "roleDefinitionId")
        found.append(all_of(
            verdict(principal),
            any_of([verdict(scope, key), *(verdict(scope, v) for v in vault.targets)]),
            None if is_unknown(role) else role_guid(text(role) or "") in allowed,
        ))
    return any_of(found)


def _policy_grant(stack: Stack, vault: PolicyResource) -> Verdict:
    """An access-policy entry for the provider principal with get, wrapKey and unwrapKey."""
    found: list[Verdict] = []
    holders = [(vault, True), *((p, verdict(resolve_vault_by_name(stack, p), vault))
                                for p in stack.of_kind(Kind.ACCESS_POLICY))]
    for holder, on_vault in holders:
        for entry in entries(holder.resource_type, holder.props):
            if entry is None:
                found.append(all_of(on_vault, None))
                continue
            principal = entry_principals(stack, holder, entry)
            keys = entry.permissions["keys"]
            found.append(all_of(on_vault, verdict(principal),
                                None if is_unknown(keys) else entry.grants_cmk()))
    return any_of(found)


def _granted(stack: Stack, key: PolicyResource, allowed: set[str]) -> Verdict:
    """Whether the key is granted under its vault's permission model."""
    vault = vault_of_key(stack, key)
    if vault.undecided:
        return None
    if not vault.targets:
        return _rbac_grant(stack, key, vault, allowed)
    rbac = get(vault.targets[0].props, "properties", "enableRbacAuthorization")
    if rbac is True:
        return _rbac_grant(stack, key, vault, allowed)
    if not is_unknown(rbac):
        return _policy_grant(stack, vault.targets[0])
    # Permission model unknown: decided only if both models give the same answer.
    rbac_grant = _rbac_grant(stack, key, vault, allowed)
    policy_grant = _policy_grant(stack, vault.targets[0])
    return rbac_grant if rbac_grant is policy_grant else None


def check(args: StackValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    allowed = {str(g).lower() for g in config["allowedRoleDefinitionIds"]}
    consumers: dict[str, list[str]] = {}
    keys: dict[str, PolicyResource] = {}
    for binding in bindings(stack):
        if binding.keys.undecided and not binding.keys.targets:
            yield Undecided(f"which key {binding.resource.name} consumes", binding.resource.urn)
        for key in binding.keys.targets:
            keys[key.urn] = key
            consumers.setdefault(key.urn, []).append(f"{binding.service} {binding.resource.name}")
    for urn, key in keys.items():
        granted = _granted(stack, key, allowed)
        if granted:
            continue
        users = ", ".join(consumers[urn])
        if granted is None:
            yield Undecided(f"whether key {key.name} (used by {users}) is granted", urn)
        else:
            yield Violation(f"key {key.name} is consumed by {users} but the provider app's "
                            "service principal has no grant on it.", urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
