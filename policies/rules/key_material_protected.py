"""Vaults, keys and the locks guarding them are ``protect``ed in Pulumi.

Losing the vault or a key makes the provider's data unreadable (the vendor's data-loss
table). ``protect`` stops ``pulumi destroy`` or a refactoring from deleting them, and a
protected lock cannot be removed first to clear the way.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationArgs, StackValidationPolicy

from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.relations import Stack, resolve_scope
from policies.resource_kinds import Kind

META = RuleMeta(
    name="key-material-protected",
    description="Key vaults, keys and their management locks have the protect resource option.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "data-loss-prevention",
                    "a deleted vault or key makes resources inaccessible within minutes"),),
    remediation=("Pass opts=pulumi.ResourceOptions(protect=True) to the Vault, every Key and "
                 "every lock on them."),
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


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
