"""Soft-deleted vaults and keys stay recoverable for at least the configured number of days.

The vendor's recovery procedures assume a deleted vault or key can be restored within 90
days, the longest retention Key Vault allows (7-90), hence the default.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.arm_defaults import arm_read, finite_number
from policies.framework import (
    Anchor,
    Finding,
    RuleMeta,
    Undecided,
    Violation,
    resource_rule,
)
from policies.props import is_unknown
from policies.resource_kinds import Kind

META = RuleMeta(
    name="vault-soft-delete-retention",
    description="Key vaults keep soft-deleted keys for at least the minimum retention period.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "recovery-window",
                    "a deleted vault or key can be restored within 90 days"),),
    remediation=("Set properties.softDeleteRetentionInDays to at least minRetentionDays (90 by "
                 "default). Retention is fixed once the vault exists, so set it at creation."),
    url="https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview",
    parameters={
        "minRetentionDays": {
            "type": "integer", "minimum": 7, "maximum": 90, "default": 90,
            "description": "Smallest accepted softDeleteRetentionInDays.",
        },
    },
)


def check(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    minimum = int(config["minRetentionDays"])
    read = arm_read(Kind.VAULT, args.props, "properties", "softDeleteRetentionInDays")
    days = finite_number(read.value)
    if is_unknown(read.value):
        yield Undecided("properties.softDeleteRetentionInDays is unknown ([secret] or known only "
                        "after apply)")
    elif days is None:
        yield Violation(f"properties.softDeleteRetentionInDays is {read.value!r}, not a finite "
                        f"number of days; set it to at least {minimum}.")
    elif days < minimum:
        yield Violation(f"properties.softDeleteRetentionInDays is {days:g}{read.note}; "
                        f"at least {minimum} is required.")

def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.VAULT}), check)
