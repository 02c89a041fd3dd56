"""A binding whose key lives outside this stack is named, since nothing here can check it.

The pack checks a vault (soft delete, purge protection, locks, firewall, the grant) only
when the vault is in the stack it runs on. A provider-side stack binds its stores to a key
URI from config or a stack reference: whether that vault is recoverable and locked is the
customer stack's business, and this stack's green check says nothing about it. Advisory: the
binding is intended, but a reviewer should know which checks happen elsewhere.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationArgs, StackValidationPolicy

from policies.bindings import bindings
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.relations import Stack

META = RuleMeta(
    name="binding-vault-in-stack",
    description=("A store bound to a key whose vault is not in this stack is reported: the "
                 "pack cannot check that vault here."),
    level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    anchors=(Anchor("Vendor CMK prerequisites", "data-loss-prevention",
                    "the key's vault must be recoverable and locked wherever it lives"),),
    remediation=("Run the pack on the customer's stack that holds the vault (cmkctl fleet "
                 "covers both sides) and `cmkctl verify` against the live vault; or bring the "
                 "vault into this stack."),
    url="https://learn.microsoft.com/azure/storage/common/customer-managed-keys-configure-cross-tenant-existing-account",
)


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    for binding in bindings(Stack(args.resources)):
        if binding.keys.targets:
            continue
        name = binding.resource.name
        if binding.keys.undecided:
            yield Undecided(f"whether the key of {name} is in this stack", binding.resource.urn)
        else:
            yield Violation(f"{name} is bound to a key outside this stack: nothing here checks "
                            "its vault (soft delete, purge protection, locks, the grant); the "
                            "customer's stack must pass the pack.", binding.resource.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
