"""A resource the pack knows but cannot read is reported, never passed silently.

The classic ``azure`` provider (Terraform azurerm) spells vaults, keys, locks, grants and
CMK bindings with other property names and shapes (``purge_protection_enabled`` on the
vault, ``azure:storage/customerManagedKey`` as a separate binding). Judging them by the
azure-native rules would be wrong either way, so each one is named for a human to review
or, better, moved to azure-native. The same holds for the few azure-native kinds the
pack lists but does not evaluate (federated credentials on a managed identity, SQL
managed instance keys).
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.framework import Anchor, Finding, RuleMeta, Violation, token_rule
from policies.resource_kinds import is_unchecked, spelling_of

META = RuleMeta(
    name="unchecked-resource-spelling",
    description=("Key material, grants, identities and CMK bindings the pack cannot evaluate "
                 "(classic azure provider) are named for review."),
    level=EnforcementLevel.ADVISORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "coverage",
                    "every vault, key, lock, grant and binding is checked"),),
    remediation=("Declare the resource with the azure-native provider (the pack evaluates "
                 "every API version of it), or review it by hand against docs/policy-pack.md."),
    url="https://www.pulumi.com/registry/packages/azure-native/",
)


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    spelling = spelling_of(args.resource_type)
    if spelling is not None:
        yield Violation(f"{args.resource_type} is a {spelling.kind.value} of the "
                        f"{spelling.provider} provider that this pack does not check; "
                        "none of its rules ran on it.")


def build() -> ResourceValidationPolicy:
    return token_rule(META, is_unchecked, check)
