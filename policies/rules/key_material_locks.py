"""Every vault and every key carries a CanNotDelete lock of its own.

A lock stops control-plane deletion (the vault, or the key resource) for anyone who is not
allowed to remove locks first. The vendor asks for locks on both the vault and each key.
Locks are related to their target through the engine's dependencies, so this is decided
even while ids are unknown; a lock whose scope cannot be related yet leaves the target
undecided rather than unlocked.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationArgs, StackValidationPolicy

from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import get, is_unknown, same, text
from policies.relations import Stack, resolve_scope
from policies.resource_kinds import Kind, checked_kind

META = RuleMeta(
    name="key-material-locks",
    description="Every key vault and every key has a CanNotDelete management lock.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "resource-locks",
                    "resource locks on the key vault and on the keys"),),
    remediation=("Add an azure-native:authorization:ManagementLockByScope with level "
                 "CanNotDelete and scope set to the vault's id, and one for each key's id."),
    url="https://learn.microsoft.com/azure/azure-resource-manager/management/lock-resources",
)


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    locks = [(lock, resolve_scope(stack, lock),
              get(lock.props, "level")) for lock in stack.of_kind(Kind.LOCK)]
    for target in stack.of_kind(Kind.VAULT, Kind.KEY):
        kind = "vault" if checked_kind(target.resource_type) is Kind.VAULT else "key"
        locked = undecided = False
        for _lock, scope, level in locks:
            if scope.designates(target):
                if (found := text(level)) and same(found, "CanNotDelete"):
                    locked = True
                elif is_unknown(level):
                    undecided = True
            elif scope.undecided:
                undecided = True
        if locked:
            continue
        if undecided:
            yield Undecided(f"whether the {kind} has a CanNotDelete lock", target.urn)
        else:
            yield Violation(f"{kind} {target.name} has no CanNotDelete lock on its own scope.",
                            target.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
