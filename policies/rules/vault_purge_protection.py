"""Vaults have purge protection, so nobody can erase a soft-deleted key before retention ends.

Locks only guard the control plane; a data-plane delete followed by a purge would destroy
the key for good. Purge protection is irreversible, which is why ARM never accepts false.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.checks import require_true
from policies.framework import AZURE_POLICY_URL, Anchor, Finding, RuleMeta, resource_rule
from policies.resource_kinds import Kind

GUID = "0b60c0b2-2dc2-4e1c-b5c9-abbed971de53"

META = RuleMeta(
    name="vault-purge-protection",
    description="Key vaults holding customer-managed keys have purge protection enabled.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(
        Anchor("Azure Policy", GUID,
               "Key vaults should have deletion protection enabled (formerly: purge protection)"),
        Anchor("Checkov", "CKV_AZURE_110", "Ensure that key vault enables purge protection"),
        Anchor("Checkov", "CKV_AZURE_42", "Ensure the key vault is recoverable"),
        Anchor("Vendor CMK prerequisites", "purge-protection",
               "purge protection enabled on the vault"),
    ),
    remediation=("Set properties.enablePurgeProtection to true on the Vault. It cannot be "
                 "turned off again, so never send false."),
    url=AZURE_POLICY_URL.format(GUID),
)


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    yield from require_true(args.props, "properties", "enablePurgeProtection")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.VAULT}), check)
