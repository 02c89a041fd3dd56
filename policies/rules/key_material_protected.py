"""Vaults, keys, the locks guarding them and the grants to services are ``protect``ed.

Losing the vault or a key makes the provider's data unreadable (the vendor's data-loss
table). ``protect`` stops ``pulumi destroy`` or a refactoring from deleting them, and a
protected lock cannot be removed first to clear the way. The table's "access revoked" row
has the same effect within about 10 minutes, so a grant to a service principal on a vault or
key of this stack -- a role assignment with ``principalType`` ServicePrincipal (or none
given: it cannot be told apart) or a standalone access policy -- has the same standing.
Grants to users or groups (an administrator's time-bound access) are left alone.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationArgs, StackValidationPolicy

from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import get
from policies.relations import Stack, resolve_scope, resolve_vault_by_name
from policies.resource_kinds import Kind

META = RuleMeta(
    name="key-material-protected",
    description=("Key vaults, keys, their management locks and the grants on them to service "
                 "principals have the protect resource option."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "data-loss-prevention",
                    "a deleted vault or key makes resources inaccessible within minutes"),),
    remediation=("Pass opts=pulumi.ResourceOptions(protect=True) to the Vault, every Key, "
                 "every lock on them and every role assignment or access policy that grants "
                 "them to a service (the provider's app)."),
    url="https://www.pulumi.com/docs/iac/concepts/options/protect/",
)


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    for resource in stack.of_kind(Kind.VAULT, Kind.KEY):
        if not resource.opts.protect:
            yield Violation(f"{resource.resource_type.rsplit(':', 1)[-1]} {resource.name} is "
                            "not protected.", resource.urn)
    for lock in stack.of_kind(Kind.LOCK):
        if lock.opts.protect:
            continue
        scope = resolve_scope(stack, lock)
        if scope.targets:
            yield Violation(f"lock {lock.name} on key material is not protected.", lock.urn)
        elif scope.undecided:
            yield Undecided(f"whether unprotected lock {lock.name} guards key material",
                            lock.urn)
    yield from _grants(stack)


def _grants(stack: Stack) -> Iterator[Finding]:
    """Unprotected grants to services on this stack's key material."""
    for grant in stack.of_kind(Kind.ROLE_ASSIGNMENT):
        kind = get(grant.props, "principalType")
        if grant.opts.protect or (isinstance(kind, str) and kind != "ServicePrincipal"):
            continue
        scope = resolve_scope(stack, grant)
        if scope.targets:
            yield Violation(f"role assignment {grant.name} grants key material to a service "
                            "and is not protected: deleting it revokes access (stores go "
                            "dark within about 10 minutes).", grant.urn)
        elif scope.undecided:
            yield Undecided(f"whether unprotected role assignment {grant.name} grants key "
                            "material", grant.urn)
    for policy in stack.of_kind(Kind.ACCESS_POLICY):
        if policy.opts.protect:
            continue
        vault = resolve_vault_by_name(stack, policy)
        if vault.targets:
            yield Violation(f"access policy {policy.name} on vault {vault.targets[0].name} is "
                            "not protected: deleting it revokes access (stores go dark within "
                            "about 10 minutes).", policy.urn)
        elif vault.undecided:
            yield Undecided(f"whether unprotected access policy {policy.name} is on a vault "
                            "of this stack", policy.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
