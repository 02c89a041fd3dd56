"""The resource group a stack creates for its vault is ``protect``ed too.

Deleting a resource group deletes everything in it, the vault and its keys included, and a
``CanNotDelete`` lock on the vault does not outlive a ``pulumi destroy`` that removes the lock
first. Soft delete keeps the vault recoverable, but every store bound to its keys goes dark
until someone recovers it (the vendor's data-loss table). Advisory: the vault's own protect
is mandatory (``key-material-protected``); this names the wider blast radius. A group the
stack only reads is never deleted by it: ``cmkctl check`` sees the read step and passes it,
CrossGuard alone cannot tell a read group from an unprotected one (docs/policy-pack.md).
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

from policies.azure_refs import resource_group_of
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import UNKNOWN, get, is_unknown
from policies.relations import Stack, resolve
from policies.resource_kinds import Kind

META = RuleMeta(
    name="vault-resource-group-protected",
    description=("A resource group of this stack that holds a key vault has the protect "
                 "resource option."),
    level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    anchors=(Anchor("Vendor CMK prerequisites", "data-loss-prevention",
                    "deleting the vault's group deletes the vault and every key in it"),),
    remediation=("Pass opts=pulumi.ResourceOptions(protect=True) to the ResourceGroup that "
                 "holds the vault (dedicated-cmk does unless protectKeyMaterial is false)."),
    url="https://www.pulumi.com/docs/iac/concepts/options/protect/",
)


def _group_named(group: PolicyResource, reference: str) -> bool | None:
    """Whether ``group`` is the group called ``reference`` (ARM names ignore case)."""
    name = get(group.props, "resourceGroupName")
    if name is None:
        name = get(group.props, "name")
    if is_unknown(name):
        return None
    return isinstance(name, str) and name.lower() == reference.lower()


def _vault_group(vault: PolicyResource) -> Any:
    """The vault's group: from its ARM id (an output), else its ``resourceGroupName`` input
    (cmkctl check), else unknown until apply (the property's dependencies then decide)."""
    vault_id = get(vault.props, "id")
    if isinstance(vault_id, str) and not is_unknown(vault_id):
        return resource_group_of(vault_id)
    named = get(vault.props, "resourceGroupName")
    return UNKNOWN if named is None else named


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    groups = stack.of_kind(Kind.RESOURCE_GROUP)
    for vault in stack.of_kind(Kind.VAULT):
        holder = resolve(vault, "resourceGroupName", _vault_group(vault), groups, _group_named)
        for group in holder.targets:
            if not group.opts.protect:
                yield Violation(f"resource group {group.name} holds vault {vault.name} and is "
                                "not protected: deleting the group deletes the vault and its "
                                "keys.", group.urn)
        if holder.undecided and not holder.targets:
            yield Undecided(f"which resource group of this stack holds vault {vault.name}",
                            vault.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
