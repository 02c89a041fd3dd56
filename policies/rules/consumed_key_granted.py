"""Every key a binding consumes is granted to the principal that uses it.

Storage, SQL and disk bindings use the provider app's service principal. Snowflake
Tri-Secret Secure uses Snowflake's own service principal (installed by the customer's
consent click), so a key Snowflake consumes needs a grant to a principal that is *not* the
provider app: under RBAC a role on the key or vault whose definition (in the stack) carries
the keys wrap and unwrap data actions, or an allowed role; under access policies an entry
with wrapKey and unwrapKey.

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
from policies.bindings import SNOWFLAKE, bindings
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import Verdict, all_of, any_of, elements, get, is_unknown, text
from policies.relations import (
    Resolution,
    Stack,
    output_matcher,
    resolve,
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
    description=("Every key consumed by storage, SQL or disk is granted to the provider app's "
                 "service principal, and every key Snowflake consumes to Snowflake's."),
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


_WRAP_ACTIONS = frozenset({"microsoft.keyvault/vaults/keys/wrap/action",
                           "microsoft.keyvault/vaults/keys/unwrap/action"})
_WRAP_PERMISSIONS = frozenset({"wrapkey", "unwrapkey"})


def _not(value: Verdict) -> Verdict:
    return None if value is None else not value


def _role_allows(stack: Stack, grant: PolicyResource, allowed: set[str],
                 snowflake: bool) -> Verdict:
    """An allowed role; for Snowflake also a custom role in the stack that wraps and unwraps."""
    role = get(grant.props, "roleDefinitionId")
    if snowflake:
        definitions = resolve(grant, "roleDefinitionId", role,
                              stack.of_kind(Kind.ROLE_DEFINITION), output_matcher("id"))
        for definition in definitions.targets:
            permissions = get(definition.props, "permissions")
            if is_unknown(permissions):
                return None
            actions = {str(a).lower() for p in elements(permissions) or []
                       for a in elements(get(p, "dataActions")) or []}
            return actions >= _WRAP_ACTIONS
    return None if is_unknown(role) else role_guid(text(role) or "") in allowed


def _rbac_grant(stack: Stack, key: PolicyResource, vault: Resolution,
                allowed: set[str], snowflake: bool) -> Verdict:
    """A role assignment on the key or its vault: to the provider principal with an allowed
    role, or (Snowflake) to another principal with a role that wraps and unwraps."""
    found: list[Verdict] = []
    for grant in stack.of_kind(Kind.ROLE_ASSIGNMENT):
        principal = resolve_principal(stack, grant, "principalId", get(grant.props, "principalId"))
        scope = resolve_scope(stack, grant)
        found.append(all_of(
            _not(verdict(principal)) if snowflake else verdict(principal),
            any_of([verdict(scope, key), *(verdict(scope, v) for v in vault.targets)]),
            _role_allows(stack, grant, allowed, snowflake),
        ))
    return any_of(found)


def _policy_grant(stack: Stack, vault: PolicyResource, snowflake: bool) -> Verdict:
    """An access-policy entry for the provider principal with get, wrapKey and unwrapKey, or
    (Snowflake) for another principal with wrapKey and unwrapKey."""
    found: list[Verdict] = []
    holders = [(vault, True), *((p, verdict(resolve_vault_by_name(stack, p), vault))
                                for p in stack.of_kind(Kind.ACCESS_POLICY))]
    for holder, on_vault in holders:
        for entry in entries(holder.resource_type, holder.props):
            if entry is None:
                found.append(all_of(on_vault, None))
                continue
            principal = verdict(entry_principals(stack, holder, entry))
            keys = entry.permissions["keys"]
            if is_unknown(keys):
                rights: Verdict = None
            elif snowflake:
                rights = "all" in keys or keys >= _WRAP_PERMISSIONS
            else:
                rights = entry.grants_cmk()
            found.append(all_of(on_vault, _not(principal) if snowflake else principal, rights))
    return any_of(found)


def _granted(stack: Stack, key: PolicyResource, allowed: set[str], snowflake: bool) -> Verdict:
    """Whether the key is granted under its vault's permission model."""
    vault = vault_of_key(stack, key)
    if vault.undecided:
        return None
    if not vault.targets:
        return _rbac_grant(stack, key, vault, allowed, snowflake)
    rbac = get(vault.targets[0].props, "properties", "enableRbacAuthorization")
    if rbac is True:
        return _rbac_grant(stack, key, vault, allowed, snowflake)
    if not is_unknown(rbac):
        return _policy_grant(stack, vault.targets[0], snowflake)
    # Permission model unknown: decided only if both models give the same answer.
    rbac_grant = _rbac_grant(stack, key, vault, allowed, snowflake)
    policy_grant = _policy_grant(stack, vault.targets[0], snowflake)
    return rbac_grant if rbac_grant is policy_grant else None


def check(args: StackValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    allowed = {str(g).lower() for g in config["allowedRoleDefinitionIds"]}
    consumers: dict[tuple[str, bool], list[str]] = {}
    keys: dict[str, PolicyResource] = {}
    for binding in bindings(stack):
        if binding.keys.undecided and not binding.keys.targets:
            yield Undecided(f"which key {binding.resource.name} consumes", binding.resource.urn)
        for key in binding.keys.targets:
            keys[key.urn] = key
            consumers.setdefault((key.urn, binding.service == SNOWFLAKE), []).append(
                f"{binding.service} {binding.resource.name}")
    for (urn, snowflake), users in consumers.items():
        key = keys[urn]
        granted = _granted(stack, key, allowed, snowflake)
        if granted:
            continue
        who = "Snowflake's service principal" if snowflake else (
            "the provider app's service principal")
        if granted is None:
            yield Undecided(f"whether key {key.name} (used by {', '.join(users)}) is granted "
                            f"to {who}", urn)
        else:
            yield Violation(f"key {key.name} is consumed by {', '.join(users)} but {who} has "
                            "no grant on it.", urn)
    for (urn, snowflake), users in consumers.items():
        if snowflake and (urn, False) not in consumers:
            yield from _provider_role_on_snowflake_key(stack, keys[urn], users)


def _provider_role_on_snowflake_key(stack: Stack, key: PolicyResource,
                                    users: list[str]) -> Iterator[Finding]:
    """The provider app needs nothing on a key only Snowflake uses; a role there is excess."""
    for grant in stack.of_kind(Kind.ROLE_ASSIGNMENT):
        principal = resolve_principal(stack, grant, "principalId", get(grant.props, "principalId"))
        if principal.targets and resolve_scope(stack, grant).designates(key):
            yield Violation(f"the provider app's service principal is granted on key {key.name}, "
                            f"which only {', '.join(users)} uses; remove the grant.", grant.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
