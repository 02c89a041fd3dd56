"""Vaults declare soft delete on, so a deleted key or vault can still be recovered.

ARM turns soft delete on when the property is omitted (and it can no longer be turned off
on any vault), so an omitted value passes as the ARM default; an explicit false fails.
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

GUID = "1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d"

META = RuleMeta(
    name="vault-soft-delete",
    description="Key vaults holding customer-managed keys have soft delete enabled.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(
        Anchor("Azure Policy", GUID, "Key vaults should have soft delete enabled"),
        Anchor("Checkov", "CKV_AZURE_111", "Ensure that key vault enables soft delete"),
        Anchor("Vendor CMK prerequisites", "soft-delete", "soft delete enabled on the vault"),
    ),
    remediation=("Set properties.enableSoftDelete to true on the Vault (enable_soft_delete=True) "
                 "or leave it out (ARM turns it on)."),
    url=AZURE_POLICY_URL.format(GUID),
)


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    yield from require_true(args.props, "properties", "enableSoftDelete", kind=Kind.VAULT)


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.VAULT}), check)
