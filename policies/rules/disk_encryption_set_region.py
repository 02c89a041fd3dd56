"""A disk encryption set is in the same region as the vault holding its key.

Managed disks only accept a vault in the disk encryption set's region (the vendor's
prerequisite says the same about the disks). Only keys in this stack can be compared; a
provider-side stack holding no vault is left to the customer's stack.
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

from policies.bindings import DISK, bindings
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import UNKNOWN, get, is_unknown, text
from policies.relations import Stack, vault_of_key

META = RuleMeta(
    name="disk-encryption-set-region",
    description="Disk encryption sets are in the same region as the vault of their key.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "same-region-as-disks",
                    "the key vault is in the same region as the disks"),),
    remediation="Create the vault in the disk encryption set's region (or move the set).",
    url="https://learn.microsoft.com/azure/virtual-machines/disk-encryption",
)


def region(resource: PolicyResource) -> Any:
    """Lower-case region without spaces ('West Europe' == 'westeurope'), UNKNOWN or None."""
    value = get(resource.props, "location")
    if is_unknown(value):
        return UNKNOWN
    found = text(value)
    return found.replace(" ", "").lower() if found else None


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    for binding in bindings(stack):
        if binding.service != DISK:
            continue
        if binding.keys.undecided and not binding.keys.targets:
            yield Undecided(f"which key {binding.resource.name} uses", binding.resource.urn)
        for key in binding.keys.targets:
            vault = vault_of_key(stack, key)
            holder = vault.targets[0] if vault.targets else key
            if vault.undecided:
                yield Undecided(f"which vault holds key {key.name}", binding.resource.urn)
                continue
            ours, theirs = region(binding.resource), region(holder)
            if is_unknown(ours) or is_unknown(theirs):
                yield Undecided("the regions to compare", binding.resource.urn)
            elif ours and theirs and ours != theirs:
                yield Violation(f"disk encryption set is in {ours} but the vault of key "
                                f"{key.name} is in {theirs}.", binding.resource.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
